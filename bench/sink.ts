/**
 * Sink benchmarks (issue 5): summaries/s into one shard through the COPY path (staging + one upsert per
 * batch of 1024), next to one INSERT per row, multi-row INSERT, and `psql \copy` of the same rows.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import pg from "pg"
import { pgDb } from "../src/store/Db.ts"
import { migrate } from "../src/store/Migrations.ts"
import { dayDdl, SUMMARY_COLUMNS, schemaOf } from "../src/store/Schema.ts"
import { toStoreError } from "../src/store/Shards.ts"
import { copyText, makeSqlStore, type SummaryRow } from "../src/store/SummaryStore.ts"
import { fmt, ratio, writeSection } from "./report.ts"

const SERVER = process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const DB = "tally_bench_sink"
const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)

const rows = (n: number, day: number): Array<SummaryRow> =>
  Array.from({ length: n }, (_, i) => ({
    owner: `00000000-0000-4000-8000-${String(i % 5000).padStart(12, "0")}`,
    processType: ["web", "worker", "clock"][i % 3]!,
    metric: "router_service_ms",
    label: "",
    startMs: T0 + day * DAY + Math.floor(i / 5000) * 60_000,
    count: 100 + (i % 50),
    sum: 1234.5 + i,
    sumsq: 98765.25 + i,
    min: 1,
    max: 900,
    sketch: new Uint8Array(48).fill(i % 256),
    version: 7,
  }))

const perSecond = async (n: number, f: () => Promise<void>) => {
  const start = performance.now()
  await f()
  return n / ((performance.now() - start) / 1000)
}

export const run = async () => {
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${DB}`)
  await admin.end()
  const url = SERVER.replace(/\/[^/]*$/, `/${DB}`)
  const db = pgDb(url, { max: 2 })
  await migrate({ run: db.exec })
  for (let d = 0; d < 4; d++) await db.exec(dayDdl(T0 + d * DAY))
  const store = makeSqlStore([db], (i, what, f) =>
    Effect.tryPromise({ try: () => f(db), catch: toStoreError(i, what) }),
  )

  // 1. The sink's path: batches of 1024, COPY into staging, one version-guarded upsert.
  const N = 200_000
  const a = rows(N, 0)
  const copy = await perSecond(N, async () => {
    for (let i = 0; i < N; i += 1024)
      await Effect.runPromise(store.writeSummaries(0, "ROUTER_REQUESTS", "1m", a.slice(i, i + 1024)))
  })

  // 2. One INSERT ... ON CONFLICT per row (same semantics).
  const single = rows(20_000, 1)
  const cols = SUMMARY_COLUMNS.join(", ")
  const params = SUMMARY_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")
  const values = (r: SummaryRow) => [
    r.owner,
    r.processType,
    r.metric,
    r.label,
    new Date(r.startMs),
    r.count,
    r.sum,
    r.sumsq,
    r.min,
    r.max,
    Buffer.from(r.sketch),
    r.version,
  ]
  const conflict =
    "ON CONFLICT (owner, metric, process_type, label, start) DO UPDATE SET count = EXCLUDED.count, version = EXCLUDED.version WHERE t.version < EXCLUDED.version"
  const perRow = await perSecond(single.length, async () => {
    for (const r of single)
      await db.query(
        `INSERT INTO ${schemaOf(T0 + DAY)}.router_1m AS t (${cols}) VALUES (${params}) ${conflict}`,
        values(r),
      )
  })

  // 3. Multi-row INSERT, 1024 rows a statement.
  const multi = rows(N, 2)
  const multiRow = await perSecond(N, async () => {
    for (let i = 0; i < N; i += 1024) {
      const chunk = multi.slice(i, i + 1024)
      const tuples = chunk.map(
        (_, k) => `(${SUMMARY_COLUMNS.map((__, c) => `$${k * SUMMARY_COLUMNS.length + c + 1}`).join(", ")})`,
      )
      await db.query(
        `INSERT INTO ${schemaOf(T0 + 2 * DAY)}.router_1m AS t (${cols}) VALUES ${tuples.join(", ")} ${conflict}`,
        chunk.flatMap(values),
      )
    }
  })

  // 4. psql \copy of the same rows into an empty table: the ceiling (no upsert at all).
  const file = join(tmpdir(), "tally-bench-sink.tsv")
  writeFileSync(file, copyText(rows(N, 3)))
  const target = `${schemaOf(T0 + 3 * DAY)}.router_1m`
  const psql = await perSecond(N, async () => {
    execFileSync("psql", [url, "-q", "-c", `\\copy ${target} (${cols}) FROM '${file}'`], { stdio: "inherit" })
  })
  await db.close()

  const markdown = `## Sink (issue 5)

${fmt(N)} router summaries (48-byte sketches) into one real PostgreSQL shard on this machine; each method into
its own empty day table.

| method | rows/s | vs COPY path |
|---|---|---|
| **COPY path** (batches of 1024: COPY into staging, one upsert that only moves to higher versions) | ${fmt(copy)} | 1.00× |
| one INSERT … ON CONFLICT per row | ${fmt(perRow)} | ${ratio(perRow, copy)} |
| multi-row INSERT … ON CONFLICT, 1024 rows a statement | ${fmt(multiRow)} | ${ratio(multiRow, copy)} |
| \`psql \\copy\` into an empty table, no upsert (the ceiling) | ${fmt(psql)} | ${ratio(psql, copy)} |

| target | result | ratio |
|---|---|---|
| ≥ 100,000 rows/s per shard | ${fmt(copy)} | ${ratio(copy, 100_000)} |
| ≥ 10× INSERT per row | ${ratio(copy, perRow)} | ${ratio(copy / perRow, 10)} |
| ≥ 50% of \`psql \\copy\` | ${((copy / psql) * 100).toFixed(0)}% | ${ratio(copy / psql, 0.5)} |

Text COPY format. Binary COPY was not measured: text is what both pg-copy-streams and PGlite's blob
COPY take without an encoder of our own, and the ceiling row shows COPY itself is not the bottleneck
(the upsert from staging is).`
  writeSection("sink", markdown)
  console.log(markdown)
}
