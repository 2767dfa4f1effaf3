/**
 * The Bus: tally's only way to Kafka. Its layers keep one contract (test/bus/Bus.conformance.ts):
 * `layerKafka` against a real broker, `layerEmbedded` over the durable embedded log in the data dir
 * (`npm start`), and `layerMemory` over an in-process PartitionedLog (tests only).
 */
import { Context, type Duration, Effect, Layer, Option, Schedule } from "effect"
import { TallyConfig } from "../config/TallyConfig.ts"
import { DurableLog, type DurableLogOptions } from "./embedded/DurableLog.ts"
import { type KafkaOptions, makeKafkaBus } from "./kafka/kafka.ts"
import { makeLocalBus } from "./local.ts"
import { MemoryLog } from "./memory/MemoryLog.ts"
import type { BusApi, BusError } from "./Records.ts"

export class Bus extends Context.Service<Bus, BusApi>()("tally/bus/Bus") {
  /** Kafka through @platformatic/kafka; connects on first use, so a process starts even while the broker is down. */
  static readonly layerKafka = (options: KafkaOptions): Layer.Layer<Bus> =>
    Layer.effect(Bus, makeKafkaBus(options).pipe(Effect.map(Bus.of)))

  /**
   * The durable embedded log in `<dataDir>/log/` (see embedded/DurableLog.ts): produce succeeds once its records
   * are committed to disk. A retention pass runs every `retentionEvery` (default 5 s) and sets the
   * tally_log_* gauges; the log closes, after the last pending append, when the layer's scope does.
   */
  static readonly layerEmbedded = (
    dataDir: string,
    options: DurableLogOptions & { readonly retentionEvery?: Duration.Input } = {},
  ): Layer.Layer<Bus, BusError> =>
    Layer.effect(
      Bus,
      Effect.gen(function* () {
        const log = yield* DurableLog.open(dataDir, options)
        yield* log.retain.pipe(
          Effect.catch((error) => Effect.logWarning("embedded log retention failed", error)),
          Effect.repeat(Schedule.spaced(options.retentionEvery ?? "5 seconds")),
          Effect.forkScoped,
        )
        return Bus.of(makeLocalBus(log))
      }),
    )

  /** Kafka when TALLY_KAFKA_BROKERS is set, else the durable embedded log in TALLY_DATA_DIR. */
  static readonly layer: Layer.Layer<Bus, BusError, TallyConfig> = Layer.unwrap(
    Effect.map(Effect.service(TallyConfig), (s) =>
      Option.match(s.kafkaBrokers, {
        onNone: () => Bus.layerEmbedded(s.dataDir),
        onSome: (brokers) => Bus.layerKafka({ brokers, clientId: s.kafkaClientId }),
      }),
    ),
  )

  /** The in-process log; the MemoryLog stays reachable for tests and outage drills. */
  static readonly layerMemory: Layer.Layer<Bus | MemoryLog> = Layer.effect(
    Bus,
    Effect.map(Effect.service(MemoryLog), (log) => Bus.of(makeLocalBus(log))),
  ).pipe(Layer.provideMerge(MemoryLog.layer))
}
