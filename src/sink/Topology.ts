/**
 * The sink's topology, in reading order: summary topics -> rows -> batches per (shard, type, period),
 * 1024 rows or 500 ms -> one lane per shard: COPY + upsert with quick tries, else the RETRY topic ->
 * commit what was written or handed on. A shard that is down or hangs holds back only its own lane; its
 * batches go to RETRY (straight away while its circuit is open, or when its lane is full).
 */
import { Effect, Metric, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { BusError, Delivery } from "../bus/Records.ts"
import { summaryTopic } from "../bus/Topics.ts"
import { RolledUpTypes } from "../domain/MeasurementType.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { batchByKey, type Group } from "../stream/Batcher.ts"
import { controlled, type Flow, mapItems, untilStopped } from "../stream/Flow.ts"
import { inLanes } from "../stream/Lanes.ts"
import { type Position, tracking } from "../stream/OffsetCommitter.ts"
import { fallbackWriter } from "../stream/RetryFallback.ts"
import {
  countedDeadLetters,
  groupKey,
  rowsOf,
  type SinkRow,
  type SinkStageError,
  toDeadLetters,
  toRetry,
  writeRows,
} from "./Rows.ts"
import * as M from "./SinkMetrics.ts"

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

const positions = (g: Group<SinkRow>) => g.rows.map((r) => r.position)

export const sinkTopology = (
  options: SinkOptions,
  source: Stream.Stream<Delivery, BusError>,
  stop: Effect.Effect<void> = Effect.never,
): Stream.Stream<Flow<ReadonlyArray<Position>>, SinkStageError, Bus | SummaryStore> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const bus = yield* Bus
      const store = yield* SummaryStore
      const offsets = tracking(options.commitIntervalMs)
      const { write, fallBack } = fallbackWriter({
        write: writeRows(store),
        fallback: toRetry(bus, options.prefix),
        deadLetter: countedDeadLetters(toDeadLetters(bus, options.prefix, "sink")),
        tries: options.tries,
        tryTimeout: options.tryTimeoutMs,
        cooldown: options.shardCooldownMs,
      })
      const writeGroup = (g: Group<SinkRow>) => {
        const shard = g.rows[0]!.shard
        const started = performance.now()
        return write(shard, g.rows).pipe(
          Effect.tap((outcome) =>
            Effect.all([
              Metric.update(Metric.withAttributes(M.batches, { shard: String(shard), outcome }), 1),
              outcome === "written"
                ? Effect.all([
                    Metric.update(Metric.withAttributes(M.rows, { shard: String(shard) }), g.rows.length),
                    Metric.update(M.latency, (performance.now() - started) / 1000),
                  ])
                : Metric.update(Metric.withAttributes(M.retried, { shard: String(shard) }), 1),
            ]),
          ),
          Effect.as(positions(g)),
        )
      }

      return controlled(source, { tickEvery: Math.max(50, Math.floor(options.lingerMs / 2)), stop }).pipe(
        offsets.track,
        mapItems(rowsOf((t) => summaryTopic(t, options.prefix), store)),
        batchByKey({ keyOf: groupKey, maxRows: options.batchRows, lingerMs: options.lingerMs }),
        inLanes({
          laneOf: (g: Group<SinkRow>) => g.rows[0]!.shard,
          capacity: options.laneCapacity,
          run: writeGroup,
          whenFull: (g: Group<SinkRow>) =>
            fallBack(g.rows).pipe(
              Effect.tap(() =>
                Effect.all([
                  Metric.update(Metric.withAttributes(M.retried, { shard: String(g.rows[0]!.shard) }), 1),
                  Metric.update(
                    Metric.withAttributes(M.batches, {
                      shard: String(g.rows[0]!.shard),
                      outcome: "lane_full",
                    }),
                    1,
                  ),
                ]),
              ),
              Effect.as(positions(g)),
            ),
        }),
        offsets.acknowledged,
        untilStopped,
      )
    }),
  )
