/**
 * Where rollups and events are kept: per shard, per UTC day schema. Three layers, one conformance suite
 * (test/store/SummaryStore.conformance.ts): real PostgreSQL and embedded PGlite (both through Shards:
 * COPY into a staging table, then one upsert that only moves a row to a higher version), and memory.
 */
import { Context, Effect, Layer } from "effect"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import type { Db, Tx } from "./Db.ts"
import {
  dayDdl,
  dayOf,
  dayOfSchema,
  type PeriodName,
  STAGING_DDL,
  SUMMARY_COLUMNS,
  schemaOf,
  tableOf,
  upsertSql,
} from "./Schema.ts"
import { shardFor } from "./ShardRouter.ts"
import { Shards, StoreError } from "./Shards.ts"

export interface SummaryRow {
  readonly owner: string
  readonly processType: string
  readonly metric: string
  readonly label: string
  readonly startMs: number
  readonly count: number
  readonly sum: number
  readonly sumsq: number
  readonly min: number
  readonly max: number
  readonly sketch: Uint8Array
  readonly version: number
}

export interface EventRow {
  readonly owner: string
  readonly timeMs: number
  readonly kind: string
  readonly process: string
  readonly description: string
  readonly actor: string
}

export interface SummaryQuery {
  readonly type: RolledUpType
  readonly period: PeriodName
  readonly owner: string
  readonly metric: string
  /** Only these process types (all when undefined). */
  readonly processTypes?: ReadonlyArray<string> | undefined
  readonly fromMs: number
  /** Exclusive. */
  readonly toMs: number
}

export interface StoreApi {
  readonly shardCount: number
  readonly shardOf: (owner: string, processType: string) => number
  /** Writes one batch (all rows of one type, period and day) in one transaction. */
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
    query: { readonly owner: string; readonly fromMs: number; readonly toMs: number },
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
  /** Drops whole day schemas before `beforeMs` (DROP SCHEMA ... CASCADE, never DELETE); returns their names. */
  readonly dropDaysBefore: (
    shard: number,
    beforeMs: number,
  ) => Effect.Effect<ReadonlyArray<string>, StoreError>
}

// ---------------------------------------------------------------------------------------------- SQL

/** COPY text format: backslash, tab, newline and carriage return escaped. */
const text = (s: string) =>
  s.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!)
const float = (n: number) =>
  Object.is(n, -0) ? "-0" : Number.isFinite(n) ? String(n) : n > 0 ? "Infinity" : n < 0 ? "-Infinity" : "NaN"

export const copyText = (rows: ReadonlyArray<SummaryRow>): string => {
  let out = ""
  for (const r of rows)
    out += `${r.owner}\t${text(r.processType)}\t${text(r.metric)}\t${text(r.label)}\t${new Date(r.startMs).toISOString()}\t${r.count}\t${float(r.sum)}\t${float(r.sumsq)}\t${float(r.min)}\t${float(r.max)}\t\\\\x${Buffer.from(r.sketch.buffer, r.sketch.byteOffset, r.sketch.byteLength).toString("hex")}\t${r.version}\n`
  return out
}

const fromRow = (r: Record<string, unknown>): SummaryRow => ({
  owner: r.owner as string,
  processType: r.process_type as string,
  metric: r.metric as string,
  label: r.label as string,
  startMs: (r.start as Date).getTime(),
  count: Number(r.count),
  sum: Number(r.sum),
  sumsq: Number(r.sumsq),
  min: Number(r.min),
  max: Number(r.max),
  sketch: new Uint8Array(r.sketch as Uint8Array),
  version: Number(r.version),
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

const daysBetween = (fromMs: number, toMs: number) => {
  const out: Array<number> = []
  for (let d = dayOf(fromMs); d < toMs; d += 86_400_000) out.push(d)
  return out
}

const SCHEMA_LOCK = 7_297_432

export const makeSqlStore = (
  dbs: ReadonlyArray<Db>,
  use: <A>(i: number, what: string, f: (db: Db) => Promise<A>) => Effect.Effect<A, StoreError>,
): StoreApi => {
  /** Day schemas known to exist, per shard: created once, then only looked up. */
  const known = dbs.map(() => new Set<number>())

  const ensureOne = async (db: Db, known: Set<number>, day: number) => {
    if (known.has(day)) return
    // Concurrent creators (other sinks, the retrier) serialize on an advisory lock; IF NOT EXISTS does the rest.
    await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`)
      for (const statement of dayDdl(day).split(";\n")) await tx.query(statement)
    })
    known.add(day)
  }

  /** A day schema dropped meanwhile (retention elsewhere) is forgotten and created again, once. */
  const retryIfDropped = async <A>(shard: number, f: () => Promise<A>): Promise<A> => {
    try {
      return await f()
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code !== "3F000" && code !== "42P01") throw e
      known[shard]!.clear()
      return await f()
    }
  }

  const exists = async (db: Db, day: number) =>
    (await db.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schemaOf(day)])).length > 0

  /** One day's rows: COPY into the (session, ON COMMIT DELETE ROWS) staging table, then one upsert. */
  const writeGroup = async (
    tx: Tx,
    type: RolledUpType,
    period: PeriodName,
    day: number,
    rows: ReadonlyArray<SummaryRow>,
    more: boolean,
  ) => {
    await tx.copyFrom("tally_staging", SUMMARY_COLUMNS, copyText(rows))
    await tx.query(upsertSql(schemaOf(day), tableOf(type, period)))
    // Another day follows in this transaction: empty staging (a batch spans days only around midnight).
    if (more) await tx.query("DELETE FROM tally_staging")
  }

  const noted = new Set<string>()

  return {
    shardCount: dbs.length,
    shardOf: (owner, processType) => shardFor(owner, processType, dbs.length),
    noteProcessTypes: (pairs) => {
      const fresh = [...new Map(pairs.map((p) => [`${p.owner}:${p.processType}`, p])).entries()].filter(
        ([k]) => !noted.has(k),
      )
      if (fresh.length === 0) return Effect.void
      return use(0, "note process types", async (db) => {
        const values: Array<string> = []
        const tuples = fresh.map(([, p], i) => {
          values.push(p.owner, p.processType)
          return `($${2 * i + 1}, $${2 * i + 2})`
        })
        await db.query(
          `INSERT INTO app_process_types (owner, process_type) VALUES ${tuples.join(", ")} ON CONFLICT DO NOTHING`,
          values,
        )
        for (const [k] of fresh) noted.add(k)
      })
    },
    processTypesOf: (owner) =>
      use(0, "read process types", async (db) =>
        (
          await db.query<{ process_type: string }>(
            "SELECT process_type FROM app_process_types WHERE owner = $1 ORDER BY 1",
            [owner],
          )
        ).map((r) => r.process_type),
      ),
    ensureDays: (shard, instants) =>
      use(shard, "create day schemas", async (db) => {
        for (const day of new Set(instants.map(dayOf))) await ensureOne(db, known[shard]!, day)
      }),
    writeSummaries: (shard, type, period, rows) =>
      rows.length === 0
        ? Effect.void
        : use(shard, `write ${tableOf(type, period)}`, (db) =>
            retryIfDropped(shard, async () => {
              const days = groupByDay(rows, (r) => r.startMs)
              for (const day of days.keys()) await ensureOne(db, known[shard]!, day)
              await db.transaction(async (tx) => {
                await tx.query(STAGING_DDL)
                let left = days.size
                for (const [day, group] of days) await writeGroup(tx, type, period, day, group, --left > 0)
              })
            }),
          ),
    writeEvents: (shard, rows) =>
      rows.length === 0
        ? Effect.void
        : use(shard, "write events", (db) =>
            retryIfDropped(shard, async () => {
              const days = groupByDay(rows, (r) => r.timeMs)
              for (const day of days.keys()) await ensureOne(db, known[shard]!, day)
              await db.transaction(async (tx) => {
                for (const [day, group] of days) {
                  const values: Array<unknown> = []
                  const tuples = group.map((e, i) => {
                    values.push(e.owner, new Date(e.timeMs), e.kind, e.process, e.description, e.actor)
                    const b = i * 6
                    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`
                  })
                  await tx.query(
                    `INSERT INTO ${schemaOf(day)}.events (owner, time, kind, process, description, actor) VALUES ${tuples.join(", ")} ON CONFLICT DO NOTHING`,
                    values,
                  )
                }
              })
            }),
          ),
    readSummaries: (shard, q) =>
      use(shard, `read ${tableOf(q.type, q.period)}`, async (db) => {
        const out: Array<SummaryRow> = []
        for (const day of daysBetween(q.fromMs, q.toMs)) {
          if (!known[shard]!.has(day) && !(await exists(db, day))) continue
          const rows = await db.query(
            `SELECT owner::text AS owner, process_type, metric, label, start, count, sum, sumsq, min, max, sketch, version
             FROM ${schemaOf(day)}.${tableOf(q.type, q.period)}
             WHERE owner = $1 AND metric = $2 AND start >= $3 AND start < $4 ${q.processTypes ? "AND process_type = ANY($5)" : ""}
             ORDER BY start, process_type, label`,
            q.processTypes
              ? [q.owner, q.metric, new Date(q.fromMs), new Date(q.toMs), q.processTypes]
              : [q.owner, q.metric, new Date(q.fromMs), new Date(q.toMs)],
          )
          for (const r of rows) out.push(fromRow(r))
        }
        return out
      }),
    readEvents: (shard, q) =>
      use(shard, "read events", async (db) => {
        const out: Array<EventRow> = []
        for (const day of daysBetween(q.fromMs, q.toMs)) {
          if (!known[shard]!.has(day) && !(await exists(db, day))) continue
          const rows = await db.query(
            `SELECT owner::text AS owner, time, kind, process, description, actor FROM ${schemaOf(day)}.events
             WHERE owner = $1 AND time >= $2 AND time < $3 ORDER BY time, kind, process`,
            [q.owner, new Date(q.fromMs), new Date(q.toMs)],
          )
          for (const r of rows)
            out.push({
              owner: r.owner as string,
              timeMs: (r.time as Date).getTime(),
              kind: r.kind as string,
              process: r.process as string,
              description: r.description as string,
              actor: r.actor as string,
            })
        }
        return out
      }),
    days: (shard) =>
      use(shard, "list days", async (db) =>
        (
          await db.query<{ nspname: string }>(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tally\\_%'",
          )
        )
          .map((r) => dayOfSchema(r.nspname))
          .filter((d): d is number => d !== undefined)
          .sort((a, b) => a - b),
      ),
    dropDaysBefore: (shard, beforeMs) =>
      use(shard, "drop old days", async (db) => {
        const names = (
          await db.query<{ nspname: string }>(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tally\\_%'",
          )
        ).map((r) => r.nspname)
        const dropped: Array<string> = []
        for (const name of names.sort()) {
          const day = dayOfSchema(name)
          if (day === undefined || day >= dayOf(beforeMs)) continue
          await db.exec(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
          known[shard]!.delete(day)
          dropped.push(name)
        }
        return dropped
      }),
  }
}

// ------------------------------------------------------------------------------------------- memory

export interface MemoryShards {
  /** Plays a shard outage: every call on that shard fails as Unavailable. */
  readonly setAvailable: (shard: number, up: boolean) => void
}

export const makeMemoryStore = (shardCount: number): StoreApi & MemoryShards => {
  const summaries = Array.from({ length: shardCount }, () => new Map<number, Map<string, SummaryRow>>())
  const events = Array.from({ length: shardCount }, () => new Map<number, Map<string, EventRow>>())
  const down = new Set<number>()
  const processTypes = new Map<string, Set<string>>()
  const day = <A>(maps: Array<Map<number, Map<string, A>>>, shard: number, d: number) => {
    let m = maps[shard]!.get(d)
    if (!m) maps[shard]!.set(d, (m = new Map()))
    return m
  }
  const guard = <A>(shard: number, what: string, f: () => A): Effect.Effect<A, StoreError> =>
    Effect.suspend(() =>
      down.has(shard)
        ? Effect.fail(
            new StoreError({
              reason: "Unavailable",
              shard,
              message: `${what} on shard ${shard}: shard is down`,
            }),
          )
        : Effect.sync(f),
    )
  return {
    shardCount,
    shardOf: (owner, processType) => shardFor(owner, processType, shardCount),
    setAvailable: (shard, up) => (up ? down.delete(shard) : down.add(shard)),
    noteProcessTypes: (pairs) =>
      guard(0, "note process types", () => {
        for (const p of pairs) {
          let set = processTypes.get(p.owner)
          if (!set) processTypes.set(p.owner, (set = new Set()))
          set.add(p.processType)
        }
      }),
    processTypesOf: (owner) =>
      guard(0, "read process types", () => [...(processTypes.get(owner) ?? [])].sort()),
    ensureDays: (shard, instants) =>
      guard(shard, "create day schemas", () => {
        for (const i of instants) {
          day(summaries, shard, dayOf(i))
          day(events, shard, dayOf(i))
        }
      }),
    writeSummaries: (shard, type, period, rows) =>
      guard(shard, "write summaries", () => {
        for (const r of rows) {
          const m = day(summaries, shard, dayOf(r.startMs))
          day(events, shard, dayOf(r.startMs))
          const key = `${tableOf(type, period)}|${r.owner}|${r.metric}|${r.processType}|${r.label}|${r.startMs}`
          const have = m.get(key)
          if (!have || have.version < r.version) m.set(key, { ...r, sketch: new Uint8Array(r.sketch) })
        }
      }),
    writeEvents: (shard, rows) =>
      guard(shard, "write events", () => {
        for (const e of rows) {
          day(summaries, shard, dayOf(e.timeMs))
          const m = day(events, shard, dayOf(e.timeMs))
          const key = `${e.owner}|${e.timeMs}|${e.kind}|${e.process}|${e.description}`
          if (!m.has(key)) m.set(key, e)
        }
      }),
    readSummaries: (shard, q) =>
      guard(shard, "read summaries", () => {
        const out: Array<SummaryRow> = []
        const prefix = `${tableOf(q.type, q.period)}|${q.owner}|${q.metric}|`
        for (const d of daysBetween(q.fromMs, q.toMs))
          for (const [key, r] of summaries[shard]!.get(d) ?? [])
            if (
              key.startsWith(prefix) &&
              r.startMs >= q.fromMs &&
              r.startMs < q.toMs &&
              (!q.processTypes || q.processTypes.includes(r.processType))
            )
              out.push(r)
        return out.sort(
          (a, b) =>
            a.startMs - b.startMs ||
            a.processType.localeCompare(b.processType) ||
            a.label.localeCompare(b.label),
        )
      }),
    readEvents: (shard, q) =>
      guard(shard, "read events", () => {
        const out: Array<EventRow> = []
        for (const d of daysBetween(q.fromMs, q.toMs))
          for (const e of events[shard]!.get(d)?.values() ?? [])
            if (e.owner === q.owner && e.timeMs >= q.fromMs && e.timeMs < q.toMs) out.push(e)
        return out.sort(
          (a, b) => a.timeMs - b.timeMs || a.kind.localeCompare(b.kind) || a.process.localeCompare(b.process),
        )
      }),
    days: (shard) => guard(shard, "list days", () => [...summaries[shard]!.keys()].sort((a, b) => a - b)),
    dropDaysBefore: (shard, beforeMs) =>
      guard(shard, "drop old days", () => {
        const dropped: Array<string> = []
        for (const d of [...summaries[shard]!.keys()].sort((a, b) => a - b))
          if (d < dayOf(beforeMs)) {
            summaries[shard]!.delete(d)
            events[shard]!.delete(d)
            dropped.push(schemaOf(d))
          }
        return dropped
      }),
  }
}

export class SummaryStore extends Context.Service<SummaryStore, StoreApi>()("tally/store/SummaryStore") {
  /** On the Shards layer: real PostgreSQL (TALLY_PG_SHARDS) or PGlite. */
  static readonly layer = Layer.effect(
    SummaryStore,
    Effect.map(Effect.service(Shards), (shards) => SummaryStore.of(makeSqlStore(shards.dbs, shards.use))),
  )

  static readonly layerMemory = (shards: number) =>
    Layer.sync(SummaryStore, () => SummaryStore.of(makeMemoryStore(shards)))
}
