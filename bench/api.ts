/**
 * API benchmark (issues 6 and 12): latency p50/p99 of a 24h/10m and a 7d/1h metric query over HTTP,
 * against a standalone `tally api` process started after the data was loaded (its caches cold: the
 * credential snapshot and the day-schema cache start empty), with 1,000 apps' data on 3 real Postgres
 * shards (router_service_ms with sketches: 1m rollups for 24 h, 15m rollups for 7 days), and the round
 * trips each query makes to the shards (transactions counted by pg_stat_database).
 *
 *   npm run bench -- api
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Layer, ManagedRuntime } from "effect"
import pg from "pg"
import { Apps } from "../src/apps/Apps.ts"
import { Sketch, Stats } from "../src/domain/Sketch.ts"
import { Shards } from "../src/store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../src/store/SummaryStore.ts"
import { ingressStack } from "../test/support/stack.ts"
import { awaitHealthy, freePort } from "./cluster.ts"
import { start, stop } from "./peers/procs.ts"
import { fmt, loadNote, ratio, writeSection } from "./report.ts"

const SERVER = process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const APPS = 1000
const QUERIES = 300
const HOUR = 3_600_000
const DAY = 24 * HOUR
const root = join(import.meta.dirname, "..")
/** pg_stat_database is flushed by each backend at most every 10 s while it idles. */
const STATS_FLUSH_MS = 11_000

const percentile = (xs: Array<number>, q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const run = async () => {
  const names = [0, 1, 2].map((i) => `tally_bench_api_${i}`)
  const urls = names.map((n) => SERVER.replace(/\/[^/]*$/, `/${n}`))
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  for (const n of names) {
    await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${n}`)
  }
  /** Transactions committed on the shard databases so far (every statement outside one is one). */
  const transactions = async () => {
    const r = await admin.query<{ n: string }>(
      "SELECT sum(xact_commit + xact_rollback) AS n FROM pg_stat_database WHERE datname = ANY($1)",
      [names],
    )
    return Number(r.rows[0]?.n ?? 0)
  }

  // 1. The data, loaded through the sink's COPY path by this process (then closed).
  const loader = ManagedRuntime.make(
    ingressStack(undefined, {}, Shards.layerPg(urls)) as Layer.Layer<Apps | SummaryStore, unknown>,
  )
  const now = Math.floor(Date.now() / HOUR) * HOUR
  const tokens: Array<{ owner: string; token: string }> = []
  const started = performance.now()
  let rows = 0
  await loader.runPromise(
    Effect.gen(function* () {
      const apps = yield* Apps
      const store = yield* SummaryStore
      for (let a = 0; a < APPS; a++) {
        const app = yield* apps.create(`bench-${a}`)
        tokens.push({ owner: app.owner, token: app.readToken })
        const shard = store.shardOf(app.owner, "web")
        const summary = (startMs: number, n: number): SummaryRow => {
          const stats = new Stats()
          const sketch = new Sketch()
          for (let i = 0; i < n; i++) {
            const v = 5 + ((i * 7919 + startMs / 60_000) % 400)
            stats.add(v)
            sketch.add(v)
          }
          return {
            owner: app.owner,
            processType: "web",
            metric: "router_service_ms",
            label: "",
            startMs,
            count: stats.count,
            sum: stats.sum,
            sumsq: stats.sumsq,
            min: stats.min,
            max: stats.max,
            sketch: sketch.toBytes(),
            version: stats.count,
          }
        }
        const minutes = Array.from({ length: 24 * 60 }, (_, m) => summary(now - DAY + m * 60_000, 8))
        const quarters = Array.from({ length: 7 * 96 }, (_, q) => summary(now - 7 * DAY + q * 900_000, 40))
        for (let i = 0; i < minutes.length; i += 1024)
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", minutes.slice(i, i + 1024))
        for (let i = 0; i < quarters.length; i += 1024)
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "15m", quarters.slice(i, i + 1024))
        yield* store.noteProcessTypes([{ owner: app.owner, processType: "web" }])
        rows += minutes.length + quarters.length
      }
    }),
  )
  const loadSeconds = (performance.now() - started) / 1000
  await loader.dispose()

  // 2. A standalone `tally api` on those shards, started now: every cache of it is cold.
  const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-api-"))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = start(
    process.execPath,
    [join(root, "src/main.ts"), "api"],
    {
      ...process.env,
      TALLY_KAFKA_BROKERS: "",
      TALLY_PG_SHARDS: urls.join(","),
      TALLY_PORT: String(port),
      TALLY_DATA_DIR: dataDir,
      TALLY_ADMIN_TOKEN: `tly_bench_${randomBytes(12).toString("hex")}`,
      TALLY_LOG_LEVEL: "Warn",
    },
    join(dataDir, "api.log"),
  )
  const load = loadavg()[0]!
  try {
    await awaitHealthy("tally api", port, 120_000, () => child.exitCode === null && child.signalCode === null)
    const query = async (i: number, range: number, step: string) => {
      const { owner, token } = tokens[(i * 7919) % tokens.length]!
      const url = `${base}/api/v1/apps/${owner}/metrics/router_service_ms?process_type=web&from=${new Date(now - range).toISOString()}&to=${new Date(now).toISOString()}&step=${step}`
      const t = performance.now()
      const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      const body = (await r.json()) as { series: Array<{ points: Array<unknown> }> }
      const ms = performance.now() - t
      if (r.status !== 200 || body.series[0]!.points.length === 0)
        throw new Error(`query failed: ${r.status}`)
      return ms
    }
    /** Latencies of `n` queries, and the shard transactions they made per query. */
    const measure = async (range: number, step: string, n: number, offset: number) => {
      await sleep(STATS_FLUSH_MS)
      const before = await transactions()
      const latencies: Array<number> = []
      for (let i = 0; i < n; i++) latencies.push(await query(offset + i, range, step))
      await sleep(STATS_FLUSH_MS)
      return { latencies, roundTrips: ((await transactions()) - before) / n }
    }
    // The first query of each shape, cold (the credential snapshot and day schemas are read on the way).
    const coldDay = await measure(DAY, "10m", 1, 0)
    const coldWeek = await measure(7 * DAY, "1h", 1, 1)
    const day = await measure(DAY, "10m", QUERIES, 2)
    const week = await measure(7 * DAY, "1h", QUERIES, 2 + QUERIES)
    const stats = (m: { latencies: Array<number> }) => ({
      p50: percentile(m.latencies, 0.5),
      p99: percentile(m.latencies, 0.99),
    })
    const d = stats(day)
    const w = stats(week)
    const markdown = `## API (issues 6 and 12)

${loadNote(load)}
\`npm run bench -- api\` (bench/api.ts). ${fmt(APPS)} apps on 3 real PostgreSQL shards, router_service_ms with DDSketch
sketches: 1m rollups for 24 h and 15m rollups for 7 days (${fmt(rows)} rows, loaded through the sink's COPY path
in ${loadSeconds.toFixed(0)} s by the benchmark's own process, which then closes). The queries go to a standalone
\`tally api\` (\`node src/main.ts api\`, TALLY_PG_SHARDS = the 3 shards) started after the load, so its caches
start cold: the read-token snapshot and the per-shard day-schema cache. ${QUERIES} sequential queries of each
shape over HTTP (auth, validation, shard read, sketch merges, JSON), random apps, after one cold query of each.
Round trips: transactions on the shard databases (pg_stat_database, read ${STATS_FLUSH_MS / 1000} s after the queries
so every backend has reported) per query — each statement outside a transaction is one.

| query | cold: first query | round trips (cold) | p50 | p99 | round trips per query | target | ratio to target (p99) |
|---|--:|--:|--:|--:|--:|---|---|
| 24 h at 10m (144 points from 1,440 1m rollups) | ${coldDay.latencies[0]!.toFixed(1)} ms | ${coldDay.roundTrips.toFixed(0)} | ${d.p50.toFixed(1)} ms | ${d.p99.toFixed(1)} ms | ${day.roundTrips.toFixed(2)} | p99 < 50 ms | ${ratio(50, d.p99)} headroom |
| 7 d at 1h (168 points from 672 15m rollups) | ${coldWeek.latencies[0]!.toFixed(1)} ms | ${coldWeek.roundTrips.toFixed(0)} | ${w.p50.toFixed(1)} ms | ${w.p99.toFixed(1)} ms | ${week.roundTrips.toFixed(2)} | | |

Cold, the first query reads the credential catalogue (shard 0) and asks each shard once which day schemas
exist (the 24 h query spans 2 days, the 7 d query 8); from then on a query is one statement on its shard
(the day-schema cache remembers schemas that exist; SqlStore.ts).`
    writeSection("api", markdown)
    console.log(markdown)
  } finally {
    await stop(child, 30_000)
    rmSync(dataDir, { recursive: true, force: true })
    for (const n of names)
      await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`).catch(() => undefined)
    await admin.end()
  }
}
