/**
 * The retrier's topology, in reading order: RETRY topics -> rows -> batches per (shard, type, period) ->
 * one lane per shard, written with patient backoff for ever (rejected rows to the dead letters) ->
 * commit what was written (the pipeline is src/sink/ShardWriter.ts's). Shards are written in parallel: rows of a shard that is back land at once
 * while a down shard's lane waits (until its lane is full, which holds the stream back).
 */
import { Effect, Metric, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Batch, BusApi, BusError, Delivery } from "../bus/Records.ts"
import { retryTopic } from "../bus/Topics.ts"
import { RolledUpTypes } from "../domain/MeasurementType.ts"
import { type StoreApi, SummaryStore } from "../store/SummaryStore.ts"
import type { Flow } from "../stream/Flow.ts"
import type { Position } from "../stream/OffsetCommitter.ts"
import { patientWriter } from "../stream/RetryFallback.ts"
import {
  countedDeadLetters,
  groupKey,
  rowsOf,
  type SinkStageError,
  toDeadLetters,
  writeRows,
} from "./Rows.ts"
import { shardWriter } from "./ShardWriter.ts"
import * as M from "./SinkMetrics.ts"

export const retryTopics = (prefix: string) => RolledUpTypes.map((t) => retryTopic(t, prefix))

export interface RetrierOptions {
  readonly group: string
  readonly prefix: string
  readonly batchRows: number
  readonly lingerMs: number
  readonly tryTimeoutMs: number
  readonly laneCapacity: number
  readonly commitIntervalMs: number
}

/** The RETRY backlog of a batch's partition: what is left behind it (0 once it read the end). */
const backlog = (batch: Batch) =>
  Metric.update(
    Metric.withAttributes(M.retryBacklog, { topic: batch.topic, partition: String(batch.partition) }),
    Math.max(0, batch.highWatermark - batch.records[batch.records.length - 1]!.offset - 1),
  )

/** Patient backoff for ever; refused rows to the dead letters. */
const summaryWriter = (bus: BusApi, store: StoreApi, options: RetrierOptions) =>
  patientWriter({
    write: writeRows(store),
    deadLetter: countedDeadLetters(toDeadLetters(bus, options.prefix, "retrier")),
    tryTimeout: options.tryTimeoutMs,
  })

export const retrierTopology = (
  options: RetrierOptions,
  source: Stream.Stream<Delivery, BusError>,
  stop: Effect.Effect<void> = Effect.never,
): Stream.Stream<Flow<ReadonlyArray<Position>>, SinkStageError, Bus | SummaryStore> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const store = yield* SummaryStore
      return shardWriter({
        ...options,
        onRead: backlog,
        decode: rowsOf((t) => retryTopic(t, options.prefix), store),
        keyOf: groupKey,
        write: M.retrierBatches(summaryWriter(yield* Bus, store, options)),
      })(source, stop)
    }),
  )
