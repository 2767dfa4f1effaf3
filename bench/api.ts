/**
 * API benchmark (issue 6): latency p50/p99 of a 24h/10m and a 7d/1h metric query over HTTP, with 1,000
 * apps' data loaded on 3 real Postgres shards (router_service_ms with sketches: 1m rollups for 24 h,
 * 15m rollups for 7 days).
 */
import { Effect, type Layer, ManagedRuntime } from "effect"
import pg from "pg"
import { Apps } from "../src/apps/Apps.ts"
import { Shards } from "../src/store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../src/store/SummaryStore.ts"
import { Sketch, Stats } from "../src/stream/Accumulators.ts"
import { baseUrl } from "../test/support/http.ts"
import { ingressStack } from "../test/support/stack.ts"
import { fmt, ratio, writeSection } from "./report.ts"

const SERVER = process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const APPS = 1000
const HOUR = 3_600_000
const DAY = 24 * HOUR

const percentile = (xs: Array<number>, q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!

export const run = async () => {
  const urls: Array<string> = []
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  for (let i = 0; i < 3; i++) {
    await admin.query(`DROP DATABASE IF EXISTS tally_bench_api_${i} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE tally_bench_api_${i}`)
    urls.push(SERVER.replace(/\/[^/]*$/, `/tally_bench_api_${i}`))
  }
  await admin.end()

  const runtime = ManagedRuntime.make(
    ingressStack(undefined, {}, Shards.layerPg(urls)) as Layer.Layer<
      Apps | SummaryStore | import("effect/http").HttpServer.HttpServer,
      unknown
    >,
  )
  const base = await runtime.runPromise(baseUrl as Effect.Effect<string>)
  const now = Math.floor(Date.now() / HOUR) * HOUR
  const tokens: Array<{ owner: string; token: string }> = []
  const started = performance.now()
  let rows = 0
  await runtime.runPromise(
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

  const measure = async (range: number, step: string, n: number) => {
    const latencies: Array<number> = []
    for (let i = 0; i < n; i++) {
      const { owner, token } = tokens[(i * 7919) % tokens.length]!
      const url = `${base}/api/v1/apps/${owner}/metrics/router_service_ms?process_type=web&from=${new Date(now - range).toISOString()}&to=${new Date(now).toISOString()}&step=${step}`
      const t = performance.now()
      const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      const body = (await r.json()) as { series: Array<{ points: Array<unknown> }> }
      latencies.push(performance.now() - t)
      if (r.status !== 200 || body.series[0]!.points.length === 0)
        throw new Error(`query failed: ${r.status}`)
    }
    return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }
  }
  await measure(DAY, "10m", 20) // warm-up
  const day = await measure(DAY, "10m", 300)
  const week = await measure(7 * DAY, "1h", 300)
  await runtime.dispose()

  const markdown = `## API (issue 6)

${fmt(APPS)} apps on 3 real PostgreSQL shards, router_service_ms with DDSketch sketches: 1m rollups for 24 h and
15m rollups for 7 days (${fmt(rows)} rows, loaded through the sink's COPY path in ${loadSeconds.toFixed(0)} s). 300
sequential queries each over HTTP (auth, validation, shard read, sketch merges, JSON), random apps.

| query | p50 | p99 | target | ratio to target (p99) |
|---|---|---|---|---|
| 24 h at 10m (144 points from 1,440 1m rollups) | ${day.p50.toFixed(1)} ms | ${day.p99.toFixed(1)} ms | p99 < 50 ms | ${ratio(50, day.p99)} headroom |
| 7 d at 1h (168 points from 672 15m rollups) | ${week.p50.toFixed(1)} ms | ${week.p99.toFixed(1)} ms | | |`
  writeSection("api", markdown)
  console.log(markdown)
}
