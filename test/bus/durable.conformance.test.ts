/** The durable embedded log (npm start's bus) keeps the Bus contract, like Kafka and the memory log. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { busConformance } from "./Bus.conformance.ts"

const dir = mkdtempSync(join(tmpdir(), "tally-durable-conformance-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

busConformance("durable", Bus.layerEmbedded(dir))
