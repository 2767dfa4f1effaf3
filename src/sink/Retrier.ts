/**
 * The retrier's topology, in reading order: RETRY topics -> rows -> batches per (shard, type, period) ->
 * one lane per shard, written with patient backoff for ever (rejected rows to the dead letters) ->
 * commit what was written. Shards are written in parallel: rows of a shard that is back land at once
 * while a down shard's lane waits (until its lane is full, which holds the stream back).
 */
import { Effect, Metric, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Batch, BusError, Delivery } from "../bus/Records.ts"
import { retryTopic } from "../bus/Topics.ts"
import { RolledUpTypes } from "../domain/MeasurementType.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { batchByKey, type Group } from "../stream/Batcher.ts"
import { controlled, type Flow, mapItems, untilStopped } from "../stream/Flow.ts"
import { inLanes } from "../stream/Lanes.ts"
import { type Position, tracking } from "../stream/OffsetCommitter.ts"
import { patientWriter } from "../stream/RetryFallback.ts"
import {
  countedDeadLetters,
  groupKey,
  rowsOf,
  type SinkRow,
  type SinkStageError,
  toDeadLetters,
  writeRows,
} from "./Rows.ts"
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

/** The RETRY backlog per partition: what is left behind the batch just read (0 once it read the end). */
const backlog = <E, R>(self: Stream.Stream<Flow<Batch>, E, R>) =>
  Stream.tap(self, (f) =>
    f._tag === "Item"
      ? Metric.update(
          Metric.withAttributes(M.retryBacklog, {
            topic: f.value.topic,
            partition: String(f.value.partition),
          }),
          Math.max(0, f.value.highWatermark - f.value.records[f.value.records.length - 1]!.offset - 1),
        )
      : Effect.void,
  )

export const retrierTopology = (
  options: RetrierOptions,
  source: Stream.Stream<Delivery, BusError>,
  stop: Effect.Effect<void> = Effect.never,
): Stream.Stream<Flow<ReadonlyArray<Position>>, SinkStageError, Bus | SummaryStore> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const bus = yield* Bus
      const store = yield* SummaryStore
      const offsets = tracking(options.commitIntervalMs)
      const write = patientWriter({
        write: writeRows(store),
        deadLetter: countedDeadLetters(toDeadLetters(bus, options.prefix, "retrier")),
        tryTimeout: options.tryTimeoutMs,
      })
      return controlled(source, { tickEvery: Math.max(50, Math.floor(options.lingerMs / 2)), stop }).pipe(
        offsets.track,
        backlog,
        mapItems(rowsOf((t) => retryTopic(t, options.prefix), store)),
        batchByKey({ keyOf: groupKey, maxRows: options.batchRows, lingerMs: options.lingerMs }),
        inLanes({
          laneOf: (g: Group<SinkRow>) => g.rows[0]!.shard,
          capacity: options.laneCapacity,
          run: (g: Group<SinkRow>) =>
            write(g.rows[0]!.shard, g.rows).pipe(
              Effect.tap(() =>
                Metric.update(
                  Metric.withAttributes(M.retrierRows, { shard: String(g.rows[0]!.shard) }),
                  g.rows.length,
                ),
              ),
              Effect.as(g.rows.map((r) => r.position)),
            ),
        }),
        offsets.acknowledged,
        untilStopped,
      )
    }),
  )
