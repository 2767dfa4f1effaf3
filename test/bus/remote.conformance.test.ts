/**
 * The Bus of a worker thread (RemoteBus.ts: every call and stream crosses a MessagePort to the parent's
 * Bus) keeps the contract, over the durable embedded log as in `tally all`. Both ends run in this thread
 * here; the crossing (packing, credit, commits by generation) is the same.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { MessageChannel } from "node:worker_threads"
import { Effect, Layer } from "effect"
import { afterAll } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { serveBus } from "../../src/bus/RemoteBus.ts"
import { busConformance } from "./Bus.conformance.ts"

const dir = mkdtempSync(join(tmpdir(), "tally-remote-conformance-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const remote = Layer.unwrap(
  Effect.gen(function* () {
    const parent = yield* Bus
    const { port1, port2 } = new MessageChannel()
    yield* serveBus(parent, port1)
    return Bus.layerRemote(port2)
  }),
).pipe(Layer.provide(Bus.layerEmbedded(dir)))

busConformance("remote (a worker's bus over the durable log)", remote)
