/** The sink's and the retrier's self-metrics, and the wrappers that count each stage's batch writes. */
import { Effect, Metric } from "effect"
import type { Outcome } from "../stream/RetryFallback.ts"
import type { ShardWrite } from "./ShardWriter.ts"

export const rows = Metric.counter("tally_sink_rows_written_total", {
  description: "summary rows written, by shard",
  incremental: true,
})
export const batches = Metric.counter("tally_sink_batches_total", {
  description:
    "batches by shard and outcome: written; fallback (handed to RETRY after quick tries failed); lane_full (straight to RETRY, the shard's lane was full)",
  incremental: true,
})
export const latency = Metric.histogram("tally_sink_batch_seconds", {
  description: "time to write one batch (COPY + upsert + commit of the transaction)",
  boundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
})
export const retried = Metric.counter("tally_sink_retried_batches_total", {
  description: "batches handed to the RETRY topic after quick retries failed, by shard",
  incremental: true,
})
export const events = Metric.counter("tally_sink_events_written_total", {
  description: "platform events written",
  incremental: true,
})
export const retryBacklog = Metric.gauge("tally_retrier_backlog", {
  description: "records in RETRY topics not yet written, per topic and partition",
})
export const retrierRows = Metric.counter("tally_retrier_rows_written_total", {
  description: "rows the retrier wrote, by shard",
  incremental: true,
})
export const retention = Metric.counter("tally_retention_dropped_schemas_total", {
  description: "day schemas dropped",
  incremental: true,
})
export const deadLettered = Metric.counter("tally_dead_letters_total", {
  description:
    "summary rows a shard refused as invalid (not: could not reach), handed to the dead-letter topic DEAD.(type)_SUMMARY.1, by shard and type",
  incremental: true,
})
export const eventsRefused = Metric.counter("tally_events_refused_total", {
  description: "platform events a shard refused as invalid (skipped, logged)",
  incremental: true,
})

/** What became of a sink batch: written, handed to RETRY after its quick tries, or at once (lane full). */
export type BatchOutcome = Outcome | "lane_full"

const byShard = (counter: Metric.Counter<number>, shard: number, n: number) =>
  Metric.update(Metric.withAttributes(counter, { shard: String(shard) }), n)

/**
 * The sink's batch metrics around its writes: every batch by shard and outcome; a written one's rows and
 * time, one handed to RETRY (after its tries, or its lane full) counted as retried.
 */
export const sinkBatches =
  <Row, E, R>(write: ShardWrite<Row, BatchOutcome, E, R>): ShardWrite<Row, BatchOutcome, E, R> =>
  (shard, batch) => {
    const started = performance.now()
    return Effect.tap(write(shard, batch), (outcome) =>
      Effect.all([
        Metric.update(Metric.withAttributes(batches, { shard: String(shard), outcome }), 1),
        outcome === "written"
          ? Effect.all([
              byShard(rows, shard, batch.length),
              Metric.update(latency, (performance.now() - started) / 1000),
            ])
          : byShard(retried, shard, 1),
      ]),
    )
  }

/** The retrier's rows written, by shard. */
export const retrierBatches =
  <Row, A, E, R>(write: ShardWrite<Row, A, E, R>): ShardWrite<Row, A, E, R> =>
  (shard, batch) =>
    Effect.tap(write(shard, batch), () => byShard(retrierRows, shard, batch.length))

/** The platform events written. */
export const eventBatches =
  <Row, A, E, R>(write: ShardWrite<Row, A, E, R>): ShardWrite<Row, A, E, R> =>
  (shard, batch) =>
    Effect.tap(write(shard, batch), () => Metric.update(events, batch.length))
