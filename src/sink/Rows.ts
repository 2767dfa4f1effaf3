/**
 * Summary records as rows to write, and the writes shared by the sink and the retrier: a batch of one
 * (shard, type, period) into its shard, refused rows to the dead letters, a failed batch to RETRY.
 */
import { Effect, Metric } from "effect"
import type { Batch, BusApi, BusError, OutRecord } from "../bus/Records.ts"
import { deadTopic, retryTopic } from "../bus/Topics.ts"
import { type RolledUpType, RolledUpTypes } from "../domain/MeasurementType.ts"
import * as Wire from "../proto/Wire.ts"
import type { PeriodName } from "../store/Schema.ts"
import type { StoreError } from "../store/StoreError.ts"
import type { StoreApi, SummaryRow } from "../store/SummaryStore.ts"
import type { Position } from "../stream/OffsetCommitter.ts"
import type { WriteTimeout } from "../stream/RetryFallback.ts"
import { trackWrite } from "../stream/Stage.ts"
import * as M from "./SinkMetrics.ts"

/**
 * How a stage of the sink's process (sink, retrier, events) fails, and so ends: the bus (reading,
 * committing, a hand-off that cannot be made) or a shard that stays refusing (a write or its deadline)
 * beyond what the writers retry or isolate (src/stream/RetryFallback.ts).
 */
export type SinkStageError = BusError | StoreError | WriteTimeout

/** One summary record and where it goes. */
export interface SinkRow {
  readonly row: SummaryRow
  readonly type: RolledUpType
  readonly period: PeriodName
  readonly shard: number
  /** Where it was read (for commits and dead letters). */
  readonly position: Position
  /** The record as read, to hand on unchanged. */
  readonly key: string
  readonly value: Uint8Array
  readonly timestamp: number
}

export const decodeSummary = (
  value: Uint8Array,
): { readonly row: SummaryRow; readonly period: PeriodName } => {
  const s = Wire.Summary.decode(value)
  return {
    period: s.period === Wire.Period.PERIOD_15M ? "15m" : "1m",
    row: {
      owner: s.owner,
      processType: s.processType,
      metric: s.metric,
      label: s.label,
      startMs: s.startMs,
      count: s.count,
      sum: s.sum,
      sumsq: s.sumsq,
      min: s.min,
      max: s.max,
      sketch: s.sketch,
      version: s.version,
    },
  }
}

/** The rows of a batch read from `topicOf`'s topics (summary or retry topics of each type). */
export const rowsOf =
  (topicOf: (type: RolledUpType) => string, store: Pick<StoreApi, "shardOf">) =>
  (batch: Batch): ReadonlyArray<SinkRow> => {
    const type = RolledUpTypes.find((t) => topicOf(t) === batch.topic)!
    return batch.records.map((r) => {
      const { row, period } = decodeSummary(r.value)
      return {
        row,
        type,
        period,
        shard: store.shardOf(row.owner, row.processType),
        position: { topic: batch.topic, partition: batch.partition, offset: r.offset },
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
      }
    })
  }

export const groupKey = (r: SinkRow) => `${r.shard}|${r.type}|${r.period}`

/** Writes rows of one (shard, type, period); the app's process types are noted for the API's fan-out. */
export const writeRows = (store: StoreApi) => (rows: ReadonlyArray<SinkRow>) => {
  const first = rows[0]!
  const summaries = rows.map((r) => r.row)
  return store.noteProcessTypes(summaries).pipe(
    Effect.catch((e) => Effect.logWarning(`process-type catalogue: ${e.message}`)),
    Effect.andThen(
      // Counts for the stage's health, per shard (src/stream/Stage.ts, "Failing writes").
      trackWrite(
        store.writeSummaries(first.shard, first.type, first.period, summaries),
        `shard ${first.shard}`,
      ),
    ),
  )
}

/** The rows unchanged to their RETRY topic. */
export const toRetry = (bus: BusApi, prefix: string) => (rows: ReadonlyArray<SinkRow>) =>
  bus.produce(
    rows.map(
      (r): OutRecord => ({
        topic: retryTopic(r.type, prefix),
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
      }),
    ),
  )

/** Refused rows, with the store's reason, to their dead-letter topic. */
export const toDeadLetters =
  (bus: BusApi, prefix: string, stage: string) => (rows: ReadonlyArray<SinkRow>, reason: string) =>
    bus.produce(
      rows.map(
        (r): OutRecord => ({
          topic: deadTopic(r.type, prefix),
          key: r.key,
          timestamp: r.timestamp,
          value: Wire.DeadLetter.encode({
            reason,
            sourceTopic: r.position.topic,
            sourcePartition: r.position.partition,
            sourceOffset: r.position.offset,
            key: r.key,
            value: r.value,
            timestampMs: r.timestamp,
            stage,
          }).finish(),
        }),
      ),
    )

/** Dead letters counted by shard and type on /metrics. */
export const countedDeadLetters =
  <E, R>(deadLetter: (rows: ReadonlyArray<SinkRow>, reason: string) => Effect.Effect<void, E, R>) =>
  (rows: ReadonlyArray<SinkRow>, reason: string) =>
    deadLetter(rows, reason).pipe(
      Effect.tap(() =>
        Metric.update(
          Metric.withAttributes(M.deadLettered, { shard: String(rows[0]!.shard), type: rows[0]!.type }),
          rows.length,
        ),
      ),
    )
