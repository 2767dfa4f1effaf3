/**
 * The sink's topology, in reading order: summary topics -> rows -> batches per (shard, type, period),
 * 1024 rows or the linger -> one lane per shard: COPY + upsert with quick tries, else the RETRY topic ->
 * commit what was written or handed on (the pipeline is src/sink/ShardWriter.ts's). A shard that is down or hangs holds back only its own lane; its
 * batches go to RETRY (straight away while its circuit is open, or when its lane is full).
 */
import { Effect, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { BusApi, BusError, Delivery } from "../bus/Records.ts"
import { summaryTopic } from "../bus/Topics.ts"
import { RolledUpTypes } from "../domain/MeasurementType.ts"
import { type StoreApi, SummaryStore } from "../store/SummaryStore.ts"
import type { Flow } from "../stream/Flow.ts"
import type { Position } from "../stream/OffsetCommitter.ts"
import { fallbackWriter } from "../stream/RetryFallback.ts"
import {
  countedDeadLetters,
  groupKey,
  rowsOf,
  type SinkStageError,
  toDeadLetters,
  toRetry,
  writeRows,
} from "./Rows.ts"
import { shardWriter } from "./ShardWriter.ts"
import { sinkBatches } from "./SinkMetrics.ts"

export interface SinkOptions {
  readonly group: string
  readonly prefix: string
  readonly partitions: ReadonlyArray<number>
  readonly batchRows: number
  readonly lingerMs: number
  /** Quick tries of a batch before it goes to RETRY, each bounded by `tryTimeoutMs`. */
  readonly tries: number
  readonly tryTimeoutMs: number
  /** How long a failing shard's batches skip the quick tries. */
  readonly shardCooldownMs: number
  /** Batches that may wait per shard before the next ones go to RETRY. */
  readonly laneCapacity: number
  readonly commitIntervalMs: number
}

export const summaryTopics = (prefix: string) => RolledUpTypes.map((t) => summaryTopic(t, prefix))

/** Quick tries of a batch, then the RETRY topic (the lane's circuit opens); refused rows to the dead letters. */
const summaryWriter = (bus: BusApi, store: StoreApi, options: SinkOptions) =>
  fallbackWriter({
    write: writeRows(store),
    fallback: toRetry(bus, options.prefix),
    deadLetter: countedDeadLetters(toDeadLetters(bus, options.prefix, "sink")),
    tries: options.tries,
    tryTimeout: options.tryTimeoutMs,
    cooldown: options.shardCooldownMs,
  })

export const sinkTopology = (
  options: SinkOptions,
  source: Stream.Stream<Delivery, BusError>,
  stop: Effect.Effect<void> = Effect.never,
): Stream.Stream<Flow<ReadonlyArray<Position>>, SinkStageError, Bus | SummaryStore> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const store = yield* SummaryStore
      const { write, fallBack } = summaryWriter(yield* Bus, store, options)
      return shardWriter({
        ...options,
        decode: rowsOf((t) => summaryTopic(t, options.prefix), store),
        keyOf: groupKey,
        write: sinkBatches(write),
        whenFull: sinkBatches((_, rows) => Effect.as(fallBack(rows), "lane_full" as const)),
      })(source, stop)
    }),
  )
