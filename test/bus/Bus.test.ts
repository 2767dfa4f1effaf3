import { Effect, Layer } from "effect"
import { inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { makePlatformaticBus } from "../../src/bus/platformatic.ts"
import { busConformance } from "./Bus.conformance.ts"

const brokers = inject("kafkaBrokers")
busConformance("memory", Bus.layerMemory)
busConformance("kafkajs", Bus.layerKafka({ brokers, clientId: "tally-test", logLevel: "NOTHING" }))
busConformance(
  "platformatic",
  Layer.effect(Bus, makePlatformaticBus({ brokers, clientId: "tally-test" }).pipe(Effect.map(Bus.of))),
)
