/**
 * What every SummaryStore layer provides (SummaryStore.ts): the interface on its own, so that the
 * implementations (SqlStore.ts, MemoryStore.ts) and the service that picks one all take it from here.
 */
import type { Effect } from "effect"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import type { EventQuery, EventRow, SummaryQuery, SummaryRow } from "./Rows.ts"
import type { PeriodName } from "./Schema.ts"
import type { StoreError } from "./StoreError.ts"

export interface StoreApi {
  readonly shardCount: number
  readonly shardOf: (owner: string, processType: string) => number
  /** Writes one batch (all rows of one type and period, any days) in one transaction. */
  readonly writeSummaries: (
    shard: number,
    type: RolledUpType,
    period: PeriodName,
    rows: ReadonlyArray<SummaryRow>,
  ) => Effect.Effect<void, StoreError>
  /** Writes events; a replay never duplicates one (natural key). */
  readonly writeEvents: (shard: number, rows: ReadonlyArray<EventRow>) => Effect.Effect<void, StoreError>
  readonly readSummaries: (
    shard: number,
    query: SummaryQuery,
  ) => Effect.Effect<ReadonlyArray<SummaryRow>, StoreError>
  readonly readEvents: (
    shard: number,
    query: EventQuery,
  ) => Effect.Effect<ReadonlyArray<EventRow>, StoreError>
  /** Creates the day schemas holding these instants, if missing (idempotent, safe under concurrency). */
  readonly ensureDays: (shard: number, instantsMs: ReadonlyArray<number>) => Effect.Effect<void, StoreError>
  /** The days (epoch ms) a shard has schemas for. */
  readonly days: (shard: number) => Effect.Effect<ReadonlyArray<number>, StoreError>
  /** Records that these apps have these process types (catalogue shard; cached, so cheap to repeat). */
  readonly noteProcessTypes: (
    pairs: ReadonlyArray<{ readonly owner: string; readonly processType: string }>,
  ) => Effect.Effect<void, StoreError>
  /** The process types an app has had data for. */
  readonly processTypesOf: (owner: string) => Effect.Effect<ReadonlyArray<string>, StoreError>
  /**
   * Records that one app's process types were seen at `seenMs` (new ones are added; a known one's
   * last_seen only moves forward), in one round trip; returns how many process types the app has now.
   */
  readonly registerProcessTypes: (
    owner: string,
    processTypes: ReadonlyArray<string>,
    seenMs: number,
  ) => Effect.Effect<number, StoreError>
  /** Removes the process types (of every app) last seen before `beforeMs`; returns how many. */
  readonly dropProcessTypesUnseenSince: (beforeMs: number) => Effect.Effect<number, StoreError>
  /** Drops whole day schemas before `beforeMs` (DROP SCHEMA ... CASCADE, never DELETE); returns their names. */
  readonly dropDaysBefore: (
    shard: number,
    beforeMs: number,
  ) => Effect.Effect<ReadonlyArray<string>, StoreError>
}
