/**
 * Day schemas: `tally_YYYYMMDD` (UTC) on every shard, with a table per rolled-up type and period and an
 * `events` table. Names are built only from a validated day and the fixed type list, never from input.
 */
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { DAY_MS } from "../domain/Time.ts"

export const TABLE_OF: Readonly<Record<RolledUpType, string>> = {
  DYNO_MEMORY: "dyno_memory",
  DYNO_LOAD: "dyno_load",
  ROUTER_REQUESTS: "router",
  ERRORS: "errors",
}
export type PeriodName = "1m" | "15m"
export const PERIOD_NAMES: ReadonlyArray<PeriodName> = ["1m", "15m"]

/** The UTC day (as epoch ms at 00:00) holding `ms`. */
export const dayOf = (ms: number) => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS)

/** The days (epoch ms at 00:00 UTC) that [fromMs, toMs) touches. */
export const daysBetween = (fromMs: number, toMs: number): Array<number> => {
  const out: Array<number> = []
  for (let d = dayOf(fromMs); d < toMs; d += DAY_MS) out.push(d)
  return out
}

/** `tally_20261128` for the day holding `ms`. */
export const schemaOf = (ms: number): string => {
  const d = new Date(dayOf(ms))
  if (Number.isNaN(d.getTime())) throw new RangeError(`no day for ${ms}`)
  return `tally_${d.toISOString().slice(0, 10).replaceAll("-", "")}`
}

/** The day (epoch ms) a schema name stands for, or undefined when it is not one of ours. */
export const dayOfSchema = (name: string): number | undefined => {
  const m = /^tally_(\d{4})(\d{2})(\d{2})$/.exec(name)
  if (!m) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return schemaOf(ms) === name ? ms : undefined
}

export const tableOf = (type: RolledUpType, period: PeriodName) => `${TABLE_OF[type]}_${period}`

export const SUMMARY_COLUMNS = [
  "owner",
  "process_type",
  "metric",
  "label",
  "start",
  "count",
  "sum",
  "sumsq",
  "min",
  "max",
  "sketch",
  "version",
] as const

const summaryTable = (schema: string, table: string) => `CREATE TABLE IF NOT EXISTS ${schema}.${table} (
  owner uuid NOT NULL,
  process_type text NOT NULL,
  metric text NOT NULL,
  label text NOT NULL,
  start timestamptz NOT NULL,
  count bigint NOT NULL,
  sum double precision NOT NULL,
  sumsq double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  sketch bytea NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (owner, metric, process_type, label, start)
)`

/** Everything one day needs, idempotent: one statement each. */
export const dayStatements = (dayMs: number): ReadonlyArray<string> => {
  const schema = schemaOf(dayMs)
  const tables = Object.keys(TABLE_OF).flatMap((type) =>
    PERIOD_NAMES.map((p) => summaryTable(schema, tableOf(type as RolledUpType, p))),
  )
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    ...tables,
    `CREATE TABLE IF NOT EXISTS ${schema}.events (
  owner uuid NOT NULL,
  time timestamptz NOT NULL,
  kind text NOT NULL,
  process text NOT NULL,
  description text NOT NULL,
  actor text NOT NULL,
  PRIMARY KEY (owner, time, kind, process, description)
)`,
  ]
}

/** The session's staging table for COPY (one shape for every summary table). */
export const STAGING_DDL = `CREATE TEMP TABLE IF NOT EXISTS tally_staging (
  owner uuid, process_type text, metric text, label text, start timestamptz, count bigint,
  sum double precision, sumsq double precision, min double precision, max double precision,
  sketch bytea, version bigint
) ON COMMIT DELETE ROWS`

/** One upsert from staging: duplicates inside the batch keep their highest version; a row only moves up. */
export const upsertSql = (schema: string, table: string) => {
  const cols = SUMMARY_COLUMNS.join(", ")
  const key = "owner, metric, process_type, label, start"
  const set = SUMMARY_COLUMNS.filter(
    (c) => !["owner", "process_type", "metric", "label", "start"].includes(c),
  )
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(", ")
  return `INSERT INTO ${schema}.${table} AS t (${cols})
SELECT DISTINCT ON (${key}) ${cols} FROM tally_staging ORDER BY ${key}, version DESC
ON CONFLICT (${key}) DO UPDATE SET ${set} WHERE t.version < EXCLUDED.version`
}
