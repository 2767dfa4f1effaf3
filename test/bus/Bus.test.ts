import { inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { busConformance } from "./Bus.conformance.ts"

busConformance("memory", Bus.layerMemory)
busConformance("kafka", Bus.layerKafka({ brokers: inject("kafkaBrokers"), clientId: "tally-test" }))
