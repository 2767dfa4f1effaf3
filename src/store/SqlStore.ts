/**
 * The store on SQL: every statement through the shard's effect/sql SqlClient (the `sql` template, rows
 * decoded with Schema), summaries through the CopyWriter. Day schemas are looked up in a per-shard
 * cache: a schema seen once is known to exist (until dropped here, or a statement finds it gone); one
 * seen missing is remembered missing for `absentTtl` (today's and tomorrow's may appear at any time).
 * A read is then one statement: the days that exist, UNION ALL, ordered.
 */
import { Array as Arr, Clock, Duration, Effect, Schema, SchemaGetter } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import type { CopyWriterApi } from "./CopyWriter.ts"
import type { EventQuery, EventRow, SummaryQuery, SummaryRow } from "./Rows.ts"
import {
  dayOf,
  dayOfSchema,
  dayStatements,
  daysBetween,
  type PeriodName,
  schemaOf,
  tableOf,
} from "./Schema.ts"
import type { ShardsApi } from "./Shards.ts"
import type { StoreApi } from "./StoreApi.ts"
import { type StoreError, sqlStateOf } from "./StoreError.ts"

const SCHEMA_LOCK = 7_297_432
/** sql.insert binds 6 parameters an event; Postgres takes at most 65,535 a statement. */
const EVENTS_PER_STATEMENT = 5_000
/**
 * Rows of one statement of a capped read: a long read is several statements, each under the shard call's
 * deadline, with other statements in between. Embedded PGlite is one session: one 200,000-row statement
 * held it for 7 s on a busy 2-core machine, so another app's statement waited 7 s; in pages of 2,000
 * (7.8 s in all), at most 0.27 s.
 */
const READ_PAGE = 2_000
/** Process types a catalogue statement (2-3 parameters each). */
const PROCESS_TYPES_PER_STATEMENT = 10_000
/**
 * The (owner, process type) pairs the sink remembers having noted: bounded (each ingress caps an app's
 * process types, but apps are many); past it the memory starts over and a pair is noted once more.
 */
const NOTED_MAX = 100_000

/** int8 arrives as bigint from sql-pg and as number from PGlite; both are exact below 2^53 here. */
const Int8 = Schema.Union([
  Schema.Number,
  Schema.BigInt.pipe(
    Schema.decodeTo(Schema.Number, {
      decode: SchemaGetter.transform((n: bigint) => Number(n)),
      encode: SchemaGetter.transform((n: number) => BigInt(n)),
    }),
  ),
])
const Millis = Schema.Date.pipe(
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((d: Date) => d.getTime()),
    encode: SchemaGetter.transform((ms: number) => new Date(ms)),
  }),
)

const SummaryRowDb = Schema.Struct({
  owner: Schema.String,
  processType: Schema.String,
  metric: Schema.String,
  label: Schema.String,
  startMs: Millis,
  count: Int8,
  sum: Schema.Number,
  sumsq: Schema.Number,
  min: Schema.Number,
  max: Schema.Number,
  sketch: Schema.Uint8Array,
  version: Int8,
})
const EventRowDb = Schema.Struct({
  owner: Schema.String,
  timeMs: Millis,
  kind: Schema.String,
  process: Schema.String,
  description: Schema.String,
  actor: Schema.String,
})
const Nspname = Schema.Struct({ nspname: Schema.String })
const ProcessType = Schema.Struct({ process_type: Schema.String })
const Count = Schema.Struct({ n: Int8 })
const OwnerProcessType = Schema.Struct({ owner: Schema.String, process_type: Schema.String })

const decodeSummaries = Schema.decodeUnknownEffect(Schema.Array(SummaryRowDb))
const decodeEvents = Schema.decodeUnknownEffect(Schema.Array(EventRowDb))

const eventValues = (e: EventRow): Record<string, unknown> => ({
  owner: e.owner,
  time: new Date(e.timeMs),
  kind: e.kind,
  process: e.process,
  description: e.description,
  actor: e.actor,
})

const groupByDay = <A>(rows: ReadonlyArray<A>, at: (a: A) => number) => {
  const days = new Map<number, Array<A>>()
  for (const r of rows) {
    const d = dayOf(at(r))
    const list = days.get(d)
    if (list) list.push(r)
    else days.set(d, [r])
  }
  return days
}

/** A day schema (or a table in it) that a statement found gone: dropped by retention elsewhere. */
const isGone = (e: SqlError | StoreError) => {
  const code = e._tag === "SqlError" ? sqlStateOf(e) : undefined
  return code === "3F000" || code === "42P01"
}

export interface SqlStoreOptions {
  /** How long a day schema found missing is believed missing (default 30 s). */
  readonly absentTtl?: Duration.Input | undefined
}

export const makeSqlStore = (
  shards: ShardsApi,
  writer: CopyWriterApi,
  options: SqlStoreOptions = {},
): StoreApi => {
  const absentTtl = Duration.toMillis(Duration.fromInputUnsafe(options.absentTtl ?? "30 seconds"))
  const known = Array.from({ length: shards.count }, () => new Set<number>())
  const absentUntil = Array.from({ length: shards.count }, () => new Map<number, number>())
  const noted = new Set<string>()

  /** Of `days`, those whose schema exists: one pg_namespace query for the days the cache cannot answer. */
  const existing = (sql: SqlClient, shard: number, days: ReadonlyArray<number>) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const unknown = days.filter((d) => !known[shard]!.has(d) && !((absentUntil[shard]!.get(d) ?? 0) > now))
      if (unknown.length > 0) {
        const found = new Set(
          (yield* SqlSchema.findAll({
            Request: Schema.Array(Schema.String),
            Result: Nspname,
            execute: (names) => sql`SELECT nspname FROM pg_namespace WHERE nspname IN ${sql.in(names)}`,
          })(unknown.map(schemaOf)).pipe(Effect.orDie)).map((r) => r.nspname),
        )
        for (const d of unknown)
          if (found.has(schemaOf(d))) {
            known[shard]!.add(d)
            absentUntil[shard]!.delete(d)
          } else absentUntil[shard]!.set(d, now + absentTtl)
      }
      return days.filter((d) => known[shard]!.has(d))
    })

  /** Creates missing day schemas; concurrent creators (other sinks, the retrier) queue on an advisory lock. */
  const ensure = (sql: SqlClient, shard: number, days: Iterable<number>) =>
    Effect.forEach(
      [...days].filter((d) => !known[shard]!.has(d)),
      (day) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              yield* sql`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`
              for (const statement of dayStatements(day)) yield* sql.unsafe(statement)
            }),
          )
          .pipe(
            Effect.tap(() =>
              Effect.sync(() => {
                known[shard]!.add(day)
                absentUntil[shard]!.delete(day)
              }),
            ),
          ),
      { discard: true },
    )

  /** Runs `f`; if a day schema it relied on is gone, forgets the shard's schemas and runs it once more. */
  const retryIfGone = <A>(shard: number, f: Effect.Effect<A, SqlError | StoreError>) =>
    f.pipe(
      Effect.catchIf(isGone, () =>
        Effect.andThen(
          Effect.sync(() => known[shard]!.clear()),
          f,
        ),
      ),
    )

  const listDays = (sql: SqlClient) =>
    SqlSchema.findAll({
      Request: Schema.Void,
      Result: Nspname,
      execute: () => sql`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tally\\_%'`,
    })(undefined).pipe(
      Effect.orDie,
      Effect.map((rows) =>
        rows
          .map((r) => ({ name: r.nspname, day: dayOfSchema(r.nspname) }))
          .filter((r): r is { name: string; day: number } => r.day !== undefined)
          .sort((a, b) => a.day - b.day),
      ),
    )

  /**
   * One statement of a read: every row in time order (no `page`), or the next `page.size` rows in series
   * order (the primary key's, so the statement stops there) after `page.after`.
   */
  const summaryRows = (
    shard: number,
    q: SummaryQuery,
    page?: { readonly size: number; readonly after: SummaryRow | undefined },
  ) =>
    shards.use(shard, `read ${tableOf(q.type, q.period)}`, (sql) =>
      retryIfGone(
        shard,
        Effect.gen(function* () {
          if (q.processTypes !== undefined && q.processTypes.length === 0) return []
          const days = yield* existing(sql, shard, daysBetween(q.fromMs, q.toMs))
          if (days.length === 0) return []
          const only = q.processTypes ? sql` AND process_type IN ${sql.in(q.processTypes)}` : sql``
          const after = page?.after
            ? sql` AND (process_type, label, start) > (${page.after.processType}, ${page.after.label}, ${new Date(page.after.startMs)})`
            : sql``
          const order =
            page === undefined
              ? sql` ORDER BY "startMs", "processType", label`
              : sql` ORDER BY "processType", label, "startMs" LIMIT ${page.size}`
          const branches = days.map(
            (
              d,
            ) => sql`SELECT owner::text AS owner, process_type AS "processType", metric, label, start AS "startMs",
  count, sum, sumsq, min, max, sketch, version
FROM ${sql(schemaOf(d))}.${sql(tableOf(q.type, q.period))}
WHERE owner = ${q.owner} AND metric = ${q.metric} AND start >= ${new Date(q.fromMs)} AND start < ${new Date(q.toMs)}${only}${after}`,
          )
          const rows = yield* sql`${sql.join(" UNION ALL ", false)(branches)}${order}`
          return yield* decodeSummaries(rows).pipe(Effect.orDie)
        }),
      ),
    )

  const readSummaries = (shard: number, q: SummaryQuery) => {
    const limit = q.limit
    if (limit === undefined) return summaryRows(shard, q)
    // A capped read, page by page: one app's long read never holds a shard's session (PGlite has one)
    // for more than a page, so other statements get in between.
    return Effect.gen(function* () {
      const out: Array<SummaryRow> = []
      for (;;) {
        const size = Math.min(READ_PAGE, limit - out.length)
        const page = yield* summaryRows(shard, q, { size, after: out[out.length - 1] })
        for (const r of page) out.push(r)
        if (page.length < size || out.length >= limit) return out
      }
    })
  }

  /** One statement of an events read: in time order, the next `page.size` after `page.after` when paged. */
  const eventRows = (
    shard: number,
    q: EventQuery,
    page?: { readonly size: number; readonly after: EventRow | undefined },
  ) =>
    shards.use(shard, "read events", (sql) =>
      retryIfGone(
        shard,
        Effect.gen(function* () {
          const days = yield* existing(sql, shard, daysBetween(q.fromMs, q.toMs))
          if (days.length === 0) return []
          const after = page?.after
            ? sql` AND (time, kind, process, description) > (${new Date(page.after.timeMs)}, ${page.after.kind}, ${page.after.process}, ${page.after.description})`
            : sql``
          const branches = days.map(
            (d) => sql`SELECT owner::text AS owner, time AS "timeMs", kind, process, description, actor
FROM ${sql(schemaOf(d))}.events
WHERE owner = ${q.owner} AND time >= ${new Date(q.fromMs)} AND time < ${new Date(q.toMs)}${after}`,
          )
          const order =
            page === undefined
              ? sql` ORDER BY "timeMs", kind, process`
              : sql` ORDER BY "timeMs", kind, process, description LIMIT ${page.size}`
          const rows = yield* sql`${sql.join(" UNION ALL ", false)(branches)}${order}`
          return yield* decodeEvents(rows).pipe(Effect.orDie)
        }),
      ),
    )

  const readEvents = (shard: number, q: EventQuery) => {
    const limit = q.limit
    if (limit === undefined) return eventRows(shard, q)
    return Effect.gen(function* () {
      const out: Array<EventRow> = []
      for (;;) {
        const size = Math.min(READ_PAGE, limit - out.length)
        const page = yield* eventRows(shard, q, { size, after: out[out.length - 1] })
        for (const e of page) out.push(e)
        if (page.length < size || out.length >= limit) return out
      }
    })
  }

  const writeSummaries = (
    shard: number,
    type: RolledUpType,
    period: PeriodName,
    rows: ReadonlyArray<SummaryRow>,
  ) =>
    rows.length === 0
      ? Effect.void
      : shards.use(shard, `write ${tableOf(type, period)}`, (sql) =>
          retryIfGone(
            shard,
            Effect.suspend(() => {
              const days = groupByDay(rows, (r) => r.startMs)
              return Effect.andThen(
                ensure(sql, shard, days.keys()),
                writer.upsert(
                  shard,
                  [...days].map(([day, group]) => ({
                    schema: schemaOf(day),
                    table: tableOf(type, period),
                    rows: group,
                  })),
                ),
              )
            }),
          ),
        )

  const writeEvents = (shard: number, rows: ReadonlyArray<EventRow>) =>
    rows.length === 0
      ? Effect.void
      : shards.use(shard, "write events", (sql) =>
          retryIfGone(
            shard,
            Effect.gen(function* () {
              const days = groupByDay(rows, (r) => r.timeMs)
              yield* ensure(sql, shard, days.keys())
              yield* sql.withTransaction(
                Effect.forEach(
                  [...days].flatMap(([day, group]) => {
                    const chunks: Array<[number, Arr.NonEmptyReadonlyArray<Record<string, unknown>>]> = []
                    for (let i = 0; i < group.length; i += EVENTS_PER_STATEMENT) {
                      const values = group.slice(i, i + EVENTS_PER_STATEMENT).map(eventValues)
                      if (Arr.isReadonlyArrayNonEmpty(values)) chunks.push([day, values])
                    }
                    return chunks
                  }),
                  ([day, values]) =>
                    sql`INSERT INTO ${sql(schemaOf(day))}.events ${sql.insert(values)} ON CONFLICT DO NOTHING`,
                  { discard: true },
                ),
              )
            }),
          ),
        )

  return {
    shardCount: shards.count,
    shardOf: shards.shardOf,
    readSummaries,
    readEvents,
    writeSummaries,
    writeEvents,
    noteProcessTypes: (pairs) => {
      const fresh = [...new Map(pairs.map((p) => [`${p.owner}:${p.processType}`, p])).entries()].filter(
        ([k]) => !noted.has(k),
      )
      const values = fresh.map(
        ([, p]): Record<string, unknown> => ({ owner: p.owner, process_type: p.processType }),
      )
      if (!Arr.isReadonlyArrayNonEmpty(values)) return Effect.void
      return shards.use(0, "note process types", (sql) =>
        sql`INSERT INTO app_process_types ${sql.insert(values)} ON CONFLICT DO NOTHING`.pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              if (noted.size + fresh.length > NOTED_MAX) noted.clear()
              for (const [k] of fresh) noted.add(k)
            }),
          ),
        ),
      )
    },
    registerProcessTypes: (owner, processTypes, seenMs) =>
      shards.use(0, "register process types", (sql) =>
        Effect.gen(function* () {
          const seen = new Date(seenMs)
          let n = 0
          // One statement (one round trip) unless the list is longer than a statement takes.
          for (let i = 0; i === 0 || i < processTypes.length; i += PROCESS_TYPES_PER_STATEMENT) {
            const values = processTypes.slice(i, i + PROCESS_TYPES_PER_STATEMENT).map(
              (processType): Record<string, unknown> => ({
                owner,
                process_type: processType,
                last_seen: seen,
              }),
            )
            // The app's rows before the statement, with those it inserted: the rows after it.
            const rows = Arr.isReadonlyArrayNonEmpty(values)
              ? yield* sql`WITH upserted AS (
  INSERT INTO app_process_types ${sql.insert(values)}
  ON CONFLICT (owner, process_type) DO UPDATE SET last_seen = EXCLUDED.last_seen
    WHERE app_process_types.last_seen < EXCLUDED.last_seen
  RETURNING process_type)
SELECT count(*) AS n FROM (
  SELECT process_type FROM app_process_types WHERE owner = ${owner}
  UNION SELECT process_type FROM upserted) AS t`
              : yield* sql`SELECT count(*) AS n FROM app_process_types WHERE owner = ${owner}`
            n = (yield* Schema.decodeUnknownEffect(Schema.Array(Count))(rows).pipe(Effect.orDie))[0]?.n ?? 0
          }
          return n
        }),
      ),
    dropProcessTypesUnseenSince: (beforeMs) =>
      shards.use(0, "drop unseen process types", (sql) =>
        SqlSchema.findAll({
          Request: Schema.Number,
          Result: OwnerProcessType,
          execute: (before) =>
            sql`DELETE FROM app_process_types WHERE last_seen < ${new Date(before)}
RETURNING owner::text AS owner, process_type`,
        })(beforeMs).pipe(
          Effect.orDie,
          Effect.map((rows) => {
            for (const r of rows) noted.delete(`${r.owner}:${r.process_type}`)
            return rows.length
          }),
        ),
      ),
    processTypesOf: (owner) =>
      shards.use(0, "read process types", (sql) =>
        SqlSchema.findAll({
          Request: Schema.String,
          Result: ProcessType,
          execute: (owner) =>
            sql`SELECT process_type FROM app_process_types WHERE owner = ${owner} ORDER BY 1`,
        })(owner).pipe(
          Effect.orDie,
          Effect.map((rows) => rows.map((r) => r.process_type)),
        ),
      ),
    ensureDays: (shard, instants) =>
      shards.use(shard, "create day schemas", (sql) => ensure(sql, shard, new Set(instants.map(dayOf)))),
    days: (shard) =>
      shards.use(shard, "list days", (sql) =>
        Effect.map(listDays(sql), (days) => {
          for (const d of days) known[shard]!.add(d.day)
          return days.map((d) => d.day)
        }),
      ),
    // One call (one deadline) to list, then one a schema: a long backlog of days never hits the deadline.
    dropDaysBefore: (shard, beforeMs) =>
      Effect.gen(function* () {
        const old = (yield* shards.use(shard, "list days", listDays)).filter((d) => d.day < dayOf(beforeMs))
        for (const { name, day } of old) {
          yield* shards.use(shard, `drop ${name}`, (sql) => sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`)
          known[shard]!.delete(day)
        }
        return old.map((d) => d.name)
      }),
  }
}
