/**
 * Where rollups and events are kept: per shard, per UTC day schema. Three layers, one conformance suite
 * (test/store/SummaryStore.test.ts): real PostgreSQL and embedded PGlite (SqlStore: effect/sql for every
 * statement, the CopyWriter for summaries) and memory (MemoryStore).
 */
import { Context, Effect, Layer } from "effect"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { CopyWriter } from "./CopyWriter.ts"
import { makeMemoryStore } from "./MemoryStore.ts"
import type { EventQuery, EventRow, SummaryQuery, SummaryRow } from "./Rows.ts"
import type { PeriodName } from "./Schema.ts"
import { Shards } from "./Shards.ts"
import { makeSqlStore, type SqlStoreOptions } from "./SqlStore.ts"
import type { StoreError } from "./StoreError.ts"

export { type MemoryShards, makeMemoryStore } from "./MemoryStore.ts"
export type { EventQuery, EventRow, SummaryQuery, SummaryRow } from "./Rows.ts"

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

export class SummaryStore extends Context.Service<SummaryStore, StoreApi>()("tally/store/SummaryStore") {
  /** On Shards and CopyWriter: real PostgreSQL (TALLY_PG_SHARDS) or PGlite. */
  static readonly layerWith = (options: SqlStoreOptions) =>
    Layer.effect(
      SummaryStore,
      Effect.gen(function* () {
        return SummaryStore.of(makeSqlStore(yield* Shards, yield* CopyWriter, options))
      }),
    )

  static readonly layer = SummaryStore.layerWith({})

  static readonly layerMemory = (shards: number) =>
    Layer.sync(SummaryStore, () => SummaryStore.of(makeMemoryStore(shards)))
}
