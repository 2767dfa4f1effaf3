/**
 * The shard databases: S real PostgreSQL databases (TALLY_PG_SHARDS) or one embedded PGlite under
 * TALLY_DATA_DIR. Every shard is migrated at start; shard 0 is also the catalogue (apps, credentials).
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { TallyConfig } from "../config/TallyConfig.ts"
import { type Db, isConnectionError, pgDb, pgliteDb } from "./Db.ts"
import { migrate } from "./Migrations.ts"
import { shardFor } from "./ShardRouter.ts"

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  /** Unavailable: the shard cannot be reached (retry later); Rejected: the statement itself failed. */
  reason: Schema.Literals(["Unavailable", "Rejected"]),
  shard: Schema.Number,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

export const toStoreError =
  (shard: number, what: string) =>
  (cause: unknown): StoreError =>
    new StoreError({
      reason: isConnectionError(cause) ? "Unavailable" : "Rejected",
      shard,
      message: `${what} on shard ${shard}: ${(cause as Error)?.message ?? String(cause)}`,
      cause,
    })

export interface ShardsApi {
  readonly dbs: ReadonlyArray<Db>
  /** The shard of `owner:process_type`. */
  readonly shardOf: (owner: string, processType: string) => number
  /** Runs `f` against shard `i`, mapping failures to StoreError. */
  readonly use: <A>(i: number, what: string, f: (db: Db) => Promise<A>) => Effect.Effect<A, StoreError>
}

const make = (dbs: ReadonlyArray<Db>): ShardsApi => ({
  dbs,
  shardOf: (owner, processType) => shardFor(owner, processType, dbs.length),
  use: (i, what, f) => Effect.tryPromise({ try: () => f(dbs[i]!), catch: toStoreError(i, what) }),
})

const migrateAll = (dbs: ReadonlyArray<Db>) =>
  Effect.forEach(
    dbs,
    (db, i) => Effect.tryPromise({ try: () => migrate({ run: db.exec }), catch: toStoreError(i, "migrate") }),
    { concurrency: "unbounded", discard: true },
  )

const acquire = (open: () => Promise<ReadonlyArray<Db>>) =>
  Effect.acquireRelease(Effect.tryPromise({ try: open, catch: toStoreError(0, "open") }), (dbs) =>
    Effect.promise(() => Promise.allSettled(dbs.map((db) => db.close()))),
  ).pipe(Effect.tap(migrateAll), Effect.map(make))

export class Shards extends Context.Service<Shards, ShardsApi>()("tally/store/Shards") {
  /** Real PostgreSQL, one database per URL. */
  static readonly layerPg = (urls: ReadonlyArray<string>) =>
    Layer.effect(
      Shards,
      acquire(async () => urls.map((url) => pgDb(url))),
    )

  /** Embedded PGlite: one shard in `dataDir/pg` (in memory when dataDir is undefined). */
  static readonly layerPglite = (dataDir: string | undefined) =>
    Layer.effect(
      Shards,
      acquire(async () => {
        if (dataDir === undefined) return [await pgliteDb(undefined)]
        const dir = join(dataDir, "pg")
        mkdirSync(dir, { recursive: true })
        return [await pgliteDb(dir)]
      }),
    )

  /** TALLY_PG_SHARDS when set, else PGlite under TALLY_DATA_DIR. */
  static readonly layer = Layer.unwrap(
    Effect.map(Effect.service(TallyConfig), (s) =>
      Option.match(s.pgShards, {
        onNone: () => Shards.layerPglite(s.dataDir),
        onSome: (urls) => Shards.layerPg(urls),
      }),
    ),
  )
}
