/**
 * Where rollups and events are kept: per shard, per UTC day schema. Three layers, one conformance suite
 * (test/store/SummaryStore.test.ts): real PostgreSQL and embedded PGlite (SqlStore: effect/sql for every
 * statement, the CopyWriter for summaries) and memory (MemoryStore).
 */
import { Context, Effect, Layer } from "effect"
import { CopyWriter } from "./CopyWriter.ts"
import { makeMemoryStore } from "./MemoryStore.ts"
import { Shards } from "./Shards.ts"
import { makeSqlStore, type SqlStoreOptions } from "./SqlStore.ts"
import type { StoreApi } from "./StoreApi.ts"

export { type MemoryShards, makeMemoryStore } from "./MemoryStore.ts"
export type { EventQuery, EventRow, SummaryQuery, SummaryRow } from "./Rows.ts"
export type { StoreApi } from "./StoreApi.ts"

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
