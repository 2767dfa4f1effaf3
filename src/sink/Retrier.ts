/**
 * The retrier: RETRY.<TYPE>_SUMMARY.1 -> the shards, with exponential backoff, forever. It never drops a
 * row: a batch is committed only when every row of it is written. Shards are written in parallel, so
 * rows of healthy shards land at once while a down shard is retried. Never blocks the main sink (its own
 * consumer group and topics).
 */
import { Effect, Metric, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Batch, BusError } from "../bus/Records.ts"
import { retryTopic } from "../bus/Topics.ts"
import { type RolledUpType, RolledUpTypes } from "../domain/MeasurementType.ts"
import type { PeriodName } from "../store/Schema.ts"
import { type SummaryRow, SummaryStore } from "../store/SummaryStore.ts"
import { forever } from "./Events.ts"
import * as M from "./SinkMetrics.ts"
import { decodeSummary } from "./Topology.ts"

export const retryTopics = (prefix: string) => RolledUpTypes.map((t) => retryTopic(t, prefix))

export const retrierTopology = (
  group: string,
  prefix: string,
  source: Stream.Stream<Batch, BusError>,
): Stream.Stream<number, BusError, Bus | SummaryStore> => {
  const typeOf = new Map<string, RolledUpType>(RolledUpTypes.map((t) => [retryTopic(t, prefix), t]))
  return source.pipe(
    Stream.mapEffect((batch) =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const store = yield* SummaryStore
        const type = typeOf.get(batch.topic)!
        const last = batch.records[batch.records.length - 1]!
        yield* Metric.update(
          Metric.withAttributes(M.retryBacklog, { topic: batch.topic, partition: String(batch.partition) }),
          Math.max(0, batch.highWatermark - last.offset - 1 + batch.records.length),
        )
        const groups = new Map<string, { shard: number; period: PeriodName; rows: Array<SummaryRow> }>()
        for (const r of batch.records) {
          const { row, period } = decodeSummary(r.value)
          const shard = store.shardOf(row.owner, row.processType)
          const id = `${shard}|${period}`
          const g = groups.get(id)
          if (g) g.rows.push(row)
          else groups.set(id, { shard, period, rows: [row] })
        }
        yield* Effect.forEach(
          groups.values(),
          (g) =>
            store.writeSummaries(g.shard, type, g.period, g.rows).pipe(
              Effect.tapError((e) =>
                Effect.logWarning(`retrier: shard ${g.shard} still failing: ${e.message}`),
              ),
              Effect.retry({ schedule: forever }),
              Effect.orDie, // the schedule never ends: unreachable
              Effect.andThen(
                Metric.update(
                  Metric.withAttributes(M.retrierRows, { shard: String(g.shard) }),
                  g.rows.length,
                ),
              ),
            ),
          { concurrency: "unbounded", discard: true },
        )
        yield* bus
          .commit(group, [
            { topic: batch.topic, partition: batch.partition, offset: last.offset + 1, metadata: "" },
          ])
          .pipe(Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: forever }))
        yield* Metric.update(
          Metric.withAttributes(M.retryBacklog, { topic: batch.topic, partition: String(batch.partition) }),
          Math.max(0, batch.highWatermark - last.offset - 1),
        )
        return batch.records.length
      }),
    ),
  )
}
