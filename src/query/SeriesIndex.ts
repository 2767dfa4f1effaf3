/**
 * What series exist, answered cheaply for remote read (label discovery at scale): never a scan of every
 * day schema, never a read of every row.
 *
 * - The apps and their process types come from the catalogue on shard 0 (`apps`, `app_process_types`):
 *   one statement, the admin's snapshot of every app kept 5 s, a read token's app 5 s.
 * - Which (metric, label) each of those (app, process type) pairs has in a time range comes from the
 *   summary tables of the days in the range only, by a loose index scan over their primary key
 *   (owner, metric, process_type, label, start): per pair and metric, one index probe per distinct label
 *   (a recursive CTE jumping to the next label), and for a day the range covers only in part one more
 *   probe per label to see that it has a row in the range. The cost is about two probes per series
 *   found, whatever the number of rows, apps or days in the store; the statement stops at `limit` keys.
 * - The day schemas of each shard are listed once and kept 30 s (at most every 2 s again when a range
 *   reaches a day not listed yet).
 */
import { Clock, Effect, Schema } from "effect"
import * as SqlSchema from "effect/sql/SqlSchema"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { DAY_MS } from "../domain/Time.ts"
import { dayOf, type PeriodName, schemaOf, TABLE_OF, tableOf } from "../store/Schema.ts"
import type { ShardsApi } from "../store/Shards.ts"
import type { StoreError } from "../store/StoreError.ts"
import type { StoreApi } from "../store/SummaryStore.ts"

export interface AppEntry {
  readonly owner: string
  readonly name: string
  readonly processTypes: ReadonlyArray<string>
}

/** One series key: a metric's rollups of one app, process type and label. */
export interface SeriesKey {
  readonly owner: string
  readonly metric: string
  readonly processType: string
  readonly label: string
}

const CatalogueRow = Schema.Struct({
  owner: Schema.String,
  name: Schema.String,
  process_type: Schema.NullOr(Schema.String),
})
const KeyRow = Schema.Struct({
  owner: Schema.String,
  metric: Schema.String,
  process_type: Schema.String,
  label: Schema.String,
})
const decodeKeys = Schema.decodeUnknownEffect(Schema.Array(KeyRow))

const CATALOGUE_TTL_MS = 5_000
const DAYS_TTL_MS = 30_000
const DAYS_MISS_MS = 2_000
/** Read tokens' catalogue entries kept at most (each 5 s). */
const OWNERS_KEPT = 10_000

const entries = (rows: ReadonlyArray<typeof CatalogueRow.Type>): Array<AppEntry> => {
  const byOwner = new Map<string, { owner: string; name: string; processTypes: Array<string> }>()
  for (const r of rows) {
    let app = byOwner.get(r.owner)
    if (!app) byOwner.set(r.owner, (app = { owner: r.owner, name: r.name, processTypes: [] }))
    if (r.process_type !== null) app.processTypes.push(r.process_type)
  }
  for (const app of byOwner.values()) app.processTypes.sort()
  return [...byOwner.values()]
}

export interface KeysQuery {
  /** The (app, process type) pairs to look at, all on this shard. */
  readonly pairs: ReadonlyArray<{ readonly owner: string; readonly processType: string }>
  /** The metrics to look for, by the table (measurement type) that holds them. */
  readonly metrics: ReadonlyMap<RolledUpType, ReadonlyArray<string>>
  /** Only this label (an equality matcher on status or code), or any. */
  readonly label?: string | undefined
  readonly period: PeriodName
  readonly fromMs: number
  /** Exclusive. */
  readonly toMs: number
  /** At most this many keys (the statement stops there). */
  readonly limit: number
}

export const makeSeriesIndex = (shards: ShardsApi, store: StoreApi) => {
  let all: { readonly atMs: number; readonly apps: ReadonlyArray<AppEntry> } | undefined
  const one = new Map<string, { readonly atMs: number; readonly app: AppEntry | undefined }>()
  const days = Array.from({ length: shards.count }, (): { atMs: number; days: ReadonlySet<number> } => ({
    atMs: Number.NEGATIVE_INFINITY,
    days: new Set(),
  }))

  const catalogue = (owner: string | undefined) =>
    shards.use(0, "read the app catalogue", (sql) =>
      SqlSchema.findAll({
        Request: Schema.Void,
        Result: CatalogueRow,
        execute: () =>
          owner === undefined
            ? sql`SELECT a.owner::text AS owner, a.name, p.process_type
FROM apps a LEFT JOIN app_process_types p ON p.owner = a.owner`
            : sql`SELECT a.owner::text AS owner, a.name, p.process_type
FROM apps a LEFT JOIN app_process_types p ON p.owner = a.owner WHERE a.owner = ${owner}`,
      })(undefined).pipe(Effect.orDie, Effect.map(entries)),
    )

  /** Every app (admin) or one app (its read token), with its process types. */
  const apps = (owner: string | undefined): Effect.Effect<ReadonlyArray<AppEntry>, StoreError> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (owner === undefined) {
        if (all !== undefined && now - all.atMs < CATALOGUE_TTL_MS) return all.apps
        const fresh = yield* catalogue(undefined)
        all = { atMs: now, apps: fresh }
        return fresh
      }
      const cached = one.get(owner)
      if (cached !== undefined && now - cached.atMs < CATALOGUE_TTL_MS) return cached.app ? [cached.app] : []
      const [app] = yield* catalogue(owner)
      if (one.size >= OWNERS_KEPT) one.clear()
      one.set(owner, { atMs: now, app })
      return app ? [app] : []
    })

  /** The days (epoch ms) of [fromMs, toMs) that have a schema on `shard`, newest first. */
  const daysIn = (shard: number, fromMs: number, toMs: number) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const wanted: Array<number> = []
      for (let d = dayOf(toMs - 1); d >= dayOf(fromMs); d -= DAY_MS) wanted.push(d)
      const known = days[shard]!
      const age = now - known.atMs
      if (age >= DAYS_TTL_MS || (age >= DAYS_MISS_MS && wanted.some((d) => !known.days.has(d)))) {
        known.days = new Set(yield* store.days(shard))
        known.atMs = now
      }
      return wanted.filter((d) => known.days.has(d))
    })

  /**
   * The series keys of `q` on `shard`: the newest day first, one statement a day (every table of the
   * day in it), until `limit` keys; a key found on several days is one key.
   */
  const keys = (shard: number, q: KeysQuery) =>
    Effect.gen(function* () {
      const found = new Map<string, SeriesKey>()
      if (q.pairs.length === 0 || q.metrics.size === 0) return [...found.values()]
      const pairs = JSON.stringify(q.pairs.map((p) => ({ owner: p.owner, pt: p.processType })))
      for (const day of yield* daysIn(shard, q.fromMs, q.toMs)) {
        // A day the range covers whole needs no time condition: every key of its tables is in the range.
        const whole = q.fromMs <= day && day + DAY_MS <= q.toMs
        const rows = yield* shards.use(shard, "read series keys", (sql) => {
          const only = q.label === undefined ? sql`` : sql` AND label = ${q.label}`
          const branches = [...q.metrics].map(([type, metrics]) => {
            const table = sql`${sql(schemaOf(day))}.${sql(tableOf(type, q.period))}`
            // A lateral probe with LIMIT 1, not EXISTS: Postgres turns an EXISTS into a semi-join that
            // reads every row of the day in the range (a parallel seq scan, ~5,000 buffers for one app
            // among 1,000), where this stays one index probe per key (~40 buffers).
            const inRange = whole
              ? sql``
              : sql` CROSS JOIN LATERAL (SELECT 1 FROM ${table} x WHERE x.owner = o.owner AND x.metric = m.metric
  AND x.process_type = o.pt AND x.label = k.label AND x.start >= ${new Date(q.fromMs)} AND x.start < ${new Date(q.toMs)}
  LIMIT 1) AS hit`
            return sql`(SELECT o.owner::text AS owner, m.metric, o.pt AS process_type, k.label
FROM json_to_recordset(${pairs}::json) AS o(owner uuid, pt text)
CROSS JOIN json_array_elements_text(${JSON.stringify(metrics)}::json) AS m(metric)
CROSS JOIN LATERAL (
  WITH RECURSIVE labels AS (
    (SELECT label FROM ${table} WHERE owner = o.owner AND metric = m.metric AND process_type = o.pt${only}
      ORDER BY label LIMIT 1)
    UNION ALL
    SELECT n.label FROM labels l CROSS JOIN LATERAL (
      SELECT label FROM ${table} WHERE owner = o.owner AND metric = m.metric AND process_type = o.pt${only}
        AND label > l.label ORDER BY label LIMIT 1) n
  ) SELECT label FROM labels) k${inRange})`
          })
          return sql`SELECT * FROM (${sql.join(" UNION ALL ", false)(branches)}) AS keys LIMIT ${q.limit - found.size}`
        })
        for (const r of yield* decodeKeys(rows).pipe(Effect.orDie)) {
          const key = `${r.owner}\0${r.metric}\0${r.process_type}\0${r.label}`
          if (!found.has(key))
            found.set(key, { owner: r.owner, metric: r.metric, processType: r.process_type, label: r.label })
        }
        if (found.size >= q.limit) break
      }
      return [...found.values()]
    })

  return { apps, keys, shardCount: shards.count, shardOf: shards.shardOf }
}

export type SeriesIndex = ReturnType<typeof makeSeriesIndex>

/** The tables a metric lives in, by its measurement type. */
export const TABLE_TYPES = Object.keys(TABLE_OF) as ReadonlyArray<RolledUpType>
