/**
 * Remote-read benchmark (issue 21): a Grafana-like read — 24 h at 1m of 20 series — through a real
 * Prometheus 2.42 whose `remote_read` points at a standalone `tally api` (Prometheus' query_range over
 * tally), against the same points through tally's JSON API; and label discovery (what Grafana makes
 * Prometheus ask when it builds a query: the series API over remote read) with 1,000 apps on 3 real
 * Postgres shards.
 *
 *   npm run bench -- remote-read
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Layer, ManagedRuntime } from "effect"
import pg from "pg"
import snappy from "snappyjs"
import { Apps } from "../src/apps/Apps.ts"
import type { RolledUpType } from "../src/domain/MeasurementType.ts"
import { Sketch, Stats } from "../src/domain/Sketch.ts"
import { ReadRequest, ReadResponse } from "../src/proto/Prometheus.ts"
import type { PeriodName } from "../src/store/Schema.ts"
import { Shards } from "../src/store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../src/store/SummaryStore.ts"
import { type Prometheus, startPrometheus } from "../test/support/prometheus.ts"
import { ingressStack } from "../test/support/stack.ts"
import { awaitHealthy, freePort } from "./cluster.ts"
import { start, stop } from "./peers/procs.ts"
import { fmt, loadNote, ratio, writeSection } from "./report.ts"

const SERVER = process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const APPS = 1000
const SERIES = 20
const RUNS = 40
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const root = join(import.meta.dirname, "..")

const percentile = (xs: ReadonlyArray<number>, q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!

const row = (
  owner: string,
  processType: string,
  metric: string,
  label: string,
  startMs: number,
  n: number,
  sketched: boolean,
): SummaryRow => {
  const stats = new Stats()
  const sketch = new Sketch()
  for (let i = 0; i < n; i++) {
    const v = 5 + ((i * 7919 + startMs / MINUTE) % 400)
    stats.add(v)
    if (sketched) sketch.add(v)
  }
  return {
    owner,
    processType,
    metric,
    label,
    startMs,
    count: stats.count,
    sum: stats.sum,
    sumsq: stats.sumsq,
    min: stats.min,
    max: stats.max,
    sketch: sketched ? sketch.toBytes() : new Uint8Array(0),
    version: stats.count,
  }
}

/** The series keys of a fleet app: what each of its process types has. */
const FLEET: ReadonlyArray<{
  pt: string
  keys: ReadonlyArray<[RolledUpType, string, string]>
}> = [
  {
    pt: "web",
    keys: [
      ["DYNO_MEMORY", "memory_total", ""],
      ["DYNO_MEMORY", "memory_rss", ""],
      ["ROUTER_REQUESTS", "router_service_ms", ""],
      ["ROUTER_REQUESTS", "router_status", "200"],
      ["ROUTER_REQUESTS", "router_status", "304"],
      ["ROUTER_REQUESTS", "router_status", "404"],
      ["ROUTER_REQUESTS", "router_status", "500"],
      ["ERRORS", "errors", "H12"],
    ],
  },
  {
    pt: "worker",
    keys: [
      ["DYNO_MEMORY", "memory_total", ""],
      ["DYNO_MEMORY", "memory_rss", ""],
      ["ERRORS", "errors", "R14"],
    ],
  },
  {
    pt: "router",
    keys: [
      ["ROUTER_REQUESTS", "router_status", "503"],
      ["ROUTER_REQUESTS", "router_status", "200"],
      ["ERRORS", "errors", "H10"],
    ],
  },
]

export const run = async () => {
  const names = [0, 1, 2].map((i) => `tally_bench_rr_${i}`)
  const urls = names.map((n) => SERVER.replace(/\/[^/]*$/, `/${n}`))
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  for (const n of names) {
    await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${n}`)
  }
  const ADMIN = `tly_bench_${randomBytes(12).toString("hex")}`

  // 1. The data, through the sink's COPY path: one app with 20 process types of router_service_ms
  //    (24 h of 1m rollups with sketches), and 1,000 fleet apps (3 process types, 14 series keys each,
  //    an hour of 1m rollups today and an hour yesterday).
  const loader = ManagedRuntime.make(
    ingressStack(undefined, {}, Shards.layerPg(urls)) as Layer.Layer<Apps | SummaryStore, unknown>,
  )
  const now = Math.floor(Date.now() / MINUTE) * MINUTE
  const end = Math.floor(now / HOUR) * HOUR
  const started = performance.now()
  let rows = 0
  const grafana = await loader.runPromise(
    Effect.gen(function* () {
      const apps = yield* Apps
      const store = yield* SummaryStore
      const write = (shard: number, type: RolledUpType, period: PeriodName, all: ReadonlyArray<SummaryRow>) =>
        Effect.gen(function* () {
          for (let i = 0; i < all.length; i += 1024)
            yield* store.writeSummaries(shard, type, period, all.slice(i, i + 1024))
          rows += all.length
        })
      const app = yield* apps.create("grafana")
      for (let s = 0; s < SERIES; s++) {
        const pt = `p${String(s).padStart(2, "0")}`
        const minutes = Array.from({ length: 24 * 60 }, (_, m) =>
          row(app.owner, pt, "router_service_ms", "", end - DAY + m * MINUTE, 8, true),
        )
        yield* write(store.shardOf(app.owner, pt), "ROUTER_REQUESTS", "1m", minutes)
        yield* store.noteProcessTypes([{ owner: app.owner, processType: pt }])
      }
      const byShardType = new Map<string, Array<SummaryRow>>()
      const flush = (force: boolean) =>
        Effect.forEach(
          [...byShardType],
          ([k, list]) => {
            if (!force && list.length < 20_000) return Effect.void
            byShardType.delete(k)
            const [shard, type] = k.split(" ")
            return write(Number(shard), type as RolledUpType, "1m", list)
          },
          { discard: true },
        )
      for (let a = 0; a < APPS; a++) {
        const fleet = yield* apps.create(`app-${a}`)
        for (const { pt, keys } of FLEET) {
          const shard = store.shardOf(fleet.owner, pt)
          for (const [type, metric, label] of keys) {
            const k = `${shard} ${type}`
            const list = byShardType.get(k) ?? []
            byShardType.set(k, list)
            for (let m = 0; m < 60; m++) {
              list.push(
                row(
                  fleet.owner,
                  pt,
                  metric,
                  label,
                  end - HOUR + m * MINUTE,
                  2,
                  metric === "router_service_ms",
                ),
              )
              list.push(
                row(
                  fleet.owner,
                  pt,
                  metric,
                  label,
                  end - DAY - HOUR + m * MINUTE,
                  2,
                  metric === "router_service_ms",
                ),
              )
            }
          }
          yield* store.noteProcessTypes([{ owner: fleet.owner, processType: pt }])
        }
        yield* flush(false)
      }
      yield* flush(true)
      return app
    }),
  )
  const loadSeconds = (performance.now() - started) / 1000
  await loader.dispose()

  // 2. A standalone `tally api` on those shards, and Prometheus in front of it.
  const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-rr-"))
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
      TALLY_ADMIN_TOKEN: ADMIN,
      TALLY_LOG_LEVEL: "Warn",
    },
    join(dataDir, "api.log"),
  )
  const load = loadavg()[0]!
  let reader: Prometheus | undefined
  let operator: Prometheus | undefined
  try {
    await awaitHealthy("tally api", port, 120_000, () => child.exitCode === null && child.signalCode === null)
    reader = await startPrometheus({ remoteRead: [{ url: `${base}/api/v1/read`, token: grafana.readToken }] })
    operator = await startPrometheus({ remoteRead: [{ url: `${base}/api/v1/read`, token: ADMIN }] })
    const from = end - DAY
    const to = end - MINUTE
    const points = SERIES * 24 * 60

    const viaJson = async () => {
      const params = new URLSearchParams({
        from: new Date(end - DAY).toISOString(),
        to: new Date(end).toISOString(),
        step: "1m",
      })
      const t = performance.now()
      const r = await fetch(`${base}/api/v1/apps/${grafana.owner}/metrics/router_service_ms?${params}`, {
        headers: { authorization: `Bearer ${grafana.readToken}` },
      })
      const body = (await r.json()) as { series: Array<{ points: Array<unknown> }> }
      const ms = performance.now() - t
      const n = body.series.reduce((s, x) => s + x.points.length, 0)
      if (r.status !== 200 || n !== points) throw new Error(`json: ${r.status}, ${n} points`)
      return ms
    }
    const viaPrometheus = async () => {
      const t = performance.now()
      const answer = await reader!.queryRange(`tally_router_service_ms_p95{app="grafana"}`, from, to, 60)
      const ms = performance.now() - t
      const n = answer.data.result.reduce((s, x) => s + (x.values?.length ?? 0), 0)
      if (answer.status !== "success" || n !== points || answer.data.result.length !== SERIES)
        throw new Error(`prometheus: ${answer.status} ${answer.error}, ${n} points`)
      return ms
    }
    // Warm both (credential snapshot, day-schema cache, catalogue), then alternate.
    await viaJson()
    await viaPrometheus()
    const json: Array<number> = []
    const remote: Array<number> = []
    for (let i = 0; i < RUNS; i++) {
      json.push(await viaJson())
      remote.push(await viaPrometheus())
    }

    // Label discovery: the series API (what Grafana's variables and metric browser ask) over remote read.
    const timed = async (n: number, f: () => Promise<string>) => {
      const ms: Array<number> = []
      let outcome = ""
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        outcome = await f()
        ms.push(performance.now() - t)
      }
      return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), outcome }
    }
    const series = (prom: Prometheus, match: string, range: number) => async () => {
      const answer = await prom.series(match, now - range, now)
      if (answer.status !== "success") throw new Error(`series ${match}: ${answer.error}`)
      const warn = (answer.warnings ?? []).join(" ")
      return warn
        ? `refused: ${/more than \d+ series/.exec(warn)?.[0] ?? warn}`
        : `${fmt(answer.data.length)} series`
    }
    /** The same ask straight to tally (no Prometheus): a remote read with the series hint, timed alone. */
    const raw =
      (token: string, matchers: ReadonlyArray<[number, string, string]>, range: number) => async () => {
        const body = snappy.compress(
          ReadRequest.encode({
            queries: [
              {
                startTimestampMs: now - range,
                endTimestampMs: now,
                matchers: matchers.map(([type, name, value]) => ({ type, name, value })),
                hints: { func: "series", startMs: now - range, endMs: now },
              },
            ],
          }).finish(),
        )
        const r = await fetch(`${base}/api/v1/read`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-encoding": "snappy" },
          body: Buffer.from(body),
        })
        const bytes = new Uint8Array(await r.arrayBuffer())
        if (r.status === 400) return "refused"
        if (r.status !== 200) throw new Error(`raw read: ${r.status}`)
        return `${fmt(ReadResponse.decode(snappy.uncompress(bytes)).results[0]!.timeseries.length)} series`
      }
    const fleetApp = "app-500"
    const ALL: [number, string, string] = [2, "__name__", "tally_.*"]
    const discovery = [
      [
        'read token (20 process types), `{__name__=~"tally_.*"}`, last 1 h',
        series(reader, `{__name__=~"tally_.*"}`, HOUR),
        raw(grafana.readToken, [ALL], HOUR),
      ],
      [
        'read token, `{__name__=~"tally_.*"}`, last 24 h (2 day schemas)',
        series(reader, `{__name__=~"tally_.*"}`, DAY),
        raw(grafana.readToken, [ALL], DAY),
      ],
      [
        `admin, \`{__name__=~"tally_.*", app="${fleetApp}"}\`, last 24 h`,
        series(operator, `{__name__=~"tally_.*", app="${fleetApp}"}`, DAY),
        raw(ADMIN, [ALL, [0, "app", fleetApp]], DAY),
      ],
      [
        `admin, \`label_values(tally_router_status_count{app="${fleetApp}"}, status)\`, last 24 h`,
        series(operator, `tally_router_status_count{app="${fleetApp}"}`, DAY),
        raw(
          ADMIN,
          [
            [0, "__name__", "tally_router_status_count"],
            [0, "app", fleetApp],
          ],
          DAY,
        ),
      ],
      [
        "admin, `tally_router_status_count` of every app (6,000 series), last 1 h",
        series(operator, "tally_router_status_count", HOUR),
        raw(ADMIN, [[0, "__name__", "tally_router_status_count"]], HOUR),
      ],
      [
        'admin, `{__name__=~"tally_.*"}` of every app, last 1 h',
        series(operator, `{__name__=~"tally_.*"}`, HOUR),
        raw(ADMIN, [ALL], HOUR),
      ],
      [
        'admin, `{__name__=~"tally_.*"}` of every app, last 7 days',
        series(operator, `{__name__=~"tally_.*"}`, 7 * DAY),
        raw(ADMIN, [ALL], 7 * DAY),
      ],
    ] as const
    const found: Array<
      [string, { p50: number; p99: number; outcome: string }, { p50: number; p99: number }]
    > = []
    for (const [what, f, alone] of discovery) {
      await f()
      await alone()
      found.push([what, await timed(10, f), await timed(10, alone)])
    }

    const j = { p50: percentile(json, 0.5), p99: percentile(json, 0.99) }
    const r = { p50: percentile(remote, 0.5), p99: percentile(remote, 0.99) }
    const markdown = `## Remote read (issue 21)

${loadNote(load)}
\`npm run bench -- remote-read\` (bench/remoteRead.ts). 3 real PostgreSQL shards; a standalone \`tally api\` started after
the load (${fmt(rows)} rows through the sink's COPY path in ${loadSeconds.toFixed(0)} s): one app with router_service_ms of
${SERIES} process types, 24 h of 1m rollups with DDSketch sketches, and ${fmt(APPS)} fleet apps (3 process types, 14 series
keys each: memory, router statuses, errors; an hour of 1m rollups today and one yesterday).

**A Grafana-like read**: 24 h at 1m of ${SERIES} series (${fmt(points)} points). Through Prometheus 2.42 (\`query_range\` of
\`tally_router_service_ms_p95{app="grafana"}\`, step 60 s; Prometheus with \`remote_read\` to tally, the app's read token),
against the same points through the JSON API (\`GET /api/v1/apps/{owner}/metrics/router_service_ms?step=1m\`, every stat
of every point). ${RUNS} of each, alternating, after one of each to warm the caches.

| path | p50 | p99 | ratio to JSON (p50 / p99) | goal |
|---|--:|--:|--:|---|
| JSON API | ${j.p50.toFixed(1)} ms | ${j.p99.toFixed(1)} ms | | |
| Prometheus query_range over remote read | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${ratio(r.p50, j.p50)} / ${ratio(r.p99, j.p99)} | within 1.5× |

Prometheus 2.42's remote-read client asks only for the SAMPLES response type (storage/remote/client.go sends no
\`accepted_response_types\`), so STREAMED_XOR_CHUNKS could not make a Prometheus read faster: tally answers SAMPLES
only (and 400 to a request that accepts chunks alone).

**Label discovery** with ${fmt(APPS + 1)} apps: Prometheus has no label-values call for remote-read storage (LabelNames and
LabelValues are "not implemented" in storage/remote/read.go), so Grafana's variables and metric browser go through
\`/api/v1/series\`, which Prometheus turns into a remote read with the hint \`func="series"\`. tally answers it from the
catalogue (apps and process types on shard 0) and a loose index scan of the range's day tables (two index probes a
series, SeriesIndex.ts), with labels and no samples; more than 10,000 series is refused (a warning in Prometheus'
answer). 10 requests each through Prometheus' series API, and 10 of the same remote read sent straight to tally
(what tally's part costs):

| request | answer | through Prometheus p50 / p99 | tally alone p50 / p99 |
|---|---|--:|--:|
${found.map(([what, t, a]) => `| ${what} | ${t.outcome} | ${t.p50.toFixed(1)} / ${t.p99.toFixed(1)} ms | ${a.p50.toFixed(1)} / ${a.p99.toFixed(1)} ms |`).join("\n")}`
    writeSection("remote-read", markdown)
    console.log(markdown)
  } finally {
    await reader?.stop()
    await operator?.stop()
    await stop(child, 30_000)
    rmSync(dataDir, { recursive: true, force: true })
    for (const n of names)
      await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`).catch(() => undefined)
    await admin.end()
  }
}
