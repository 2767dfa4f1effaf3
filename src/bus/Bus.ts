/**
 * The Bus: tally's only way to Kafka. Two layers keep one contract (test/bus/Bus.conformance.ts):
 * `layerKafka` over kafkajs against a real broker, and `layerMemory` over an in-process PartitionedLog.
 */
import { Context, Effect, Layer, Option } from "effect"
import { TallyConfig } from "../config/TallyConfig.ts"
import { type KafkaOptions, makeKafkaBus } from "./kafka.ts"
import { MemoryLog } from "./MemoryLog.ts"
import { makeMemoryBus } from "./memory.ts"
import type { BusApi } from "./Records.ts"

export class Bus extends Context.Service<Bus, BusApi>()("tally/bus/Bus") {
  /** Kafka through kafkajs; connects on first use, so a process starts even while the broker is down. */
  static readonly layerKafka = (options: KafkaOptions): Layer.Layer<Bus> =>
    Layer.effect(Bus, makeKafkaBus(options).pipe(Effect.map(Bus.of)))

  /** Kafka when TALLY_KAFKA_BROKERS is set, else the in-process log. */
  static readonly layer: Layer.Layer<Bus, never, TallyConfig> = Layer.unwrap(
    Effect.map(Effect.service(TallyConfig), (s) =>
      Option.match(s.kafkaBrokers, {
        onNone: () => Bus.layerMemory,
        onSome: (brokers) => Bus.layerKafka({ brokers, clientId: s.kafkaClientId }),
      }),
    ),
  )

  /** The in-process log; the MemoryLog stays reachable for tests and outage drills. */
  static readonly layerMemory: Layer.Layer<Bus | MemoryLog> = Layer.effect(
    Bus,
    Effect.map(Effect.service(MemoryLog), (log) => Bus.of(makeMemoryBus(log))),
  ).pipe(Layer.provideMerge(MemoryLog.layer))
}
