/**
 * Prometheus reads tally (DESIGN.md "Reading tally from Prometheus and Grafana"): a real Prometheus
 * 2.42 with `remote_read` pointed at a real `tally all` answers PromQL whose values equal the JSON
 * API's, exactly — percentiles, counts by status, memory; downsampled when the step is 10m or more —;
 * a read token sees its own app only, the admin token every app; regular-expression matchers are RE2's,
 * fully anchored, and a pathological one costs nothing; a read over more than 10,000 series is refused
 * with a message Prometheus passes on. The data comes in through drains (tools/load's bodies, checked
 * against its oracle first).
 */
import snappy from "snappyjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ReadRequest, ReadResponse } from "../../src/proto/Prometheus.ts"
import { MAX_READ_SERIES } from "../../src/query/RemoteRead.ts"
import { differences, fleetBodies, oracleFromBodies, postBody } from "../e2e/support.ts"
import { type Prometheus, type PromSeries, startPrometheus } from "../support/prometheus.ts"
import { ADMIN, type App, frame, type Server, startTally, syslogLine } from "../tenants/support.ts"

const MINUTE = 60_000
const HOUR = 3_600_000
/** Process types of the app that is too wide to read at once: 300 × 7 memory metrics × 5 stats. */
const WIDE_TYPES = 300

interface JsonPoint {
  readonly time: string
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly p50?: number
  readonly p95?: number
  readonly p99?: number
}
interface JsonSeries {
  readonly label: string
  readonly processType: string
  readonly points: ReadonlyArray<JsonPoint>
}

let tally: Server
let shop: App
let blog: App
let wide: App
let admin: Prometheus
let shopProm: Prometheus
/** The JSON API's range: whole hours around the data. */
let fromMs: number
let toMs: number

const json = async (app: App, metric: string, step = "1m"): Promise<ReadonlyArray<JsonSeries>> => {
  const params = new URLSearchParams({
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    step,
  })
  const r = await fetch(`${tally.base}/api/v1/apps/${app.owner}/metrics/${metric}?${params}`, {
    headers: { authorization: `Bearer ${app.readToken}` },
  })
  expect(r.status).toBe(200)
  const body = (await r.json()) as { series: Array<JsonSeries>; truncated?: unknown }
  expect(body.truncated).toBeUndefined()
  return body.series
}

/** Prometheus' value of each series (by its labels) at each evaluation time, as numbers. */
const valuesAt = (result: ReadonlyArray<PromSeries>, key: (m: Record<string, string>) => string) => {
  const out = new Map<string, Map<number, number>>()
  for (const s of result) {
    const byTime = new Map<number, number>()
    for (const [t, v] of s.values ?? (s.value ? [s.value] : [])) byTime.set(Math.round(t * 1000), Number(v))
    out.set(key(s.metric), byTime)
  }
  return out
}

const range = async (prom: Prometheus, expr: string, stepSeconds = 60) => {
  const answer = await prom.queryRange(expr, fromMs, toMs - stepSeconds * 1000, stepSeconds)
  expect(answer.status, JSON.stringify(answer)).toBe("success")
  expect(answer.warnings ?? []).toEqual([])
  return answer.data.result
}

/** The times and values of a JSON series' `stat`, at its points. */
const jsonValues = (s: JsonSeries, stat: keyof JsonPoint) =>
  s.points.filter((p) => p[stat] !== undefined).map((p) => [Date.parse(p.time), p[stat] as number] as const)

/** Posts every body of `bodies` to `app` (each once: a 204 each). */
const post = async (app: App, bodies: ReadonlyArray<{ body: string }>) => {
  for (const b of bodies) expect(await postBody(tally.base, app.secret, b.body)).toBe(204)
}

const rawRead = async (token: string, request: Parameters<typeof ReadRequest.encode>[0]) => {
  const body = snappy.compress(ReadRequest.encode(request).finish())
  const r = await fetch(`${tally.base}/api/v1/read`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/x-protobuf",
      "content-encoding": "snappy",
    },
    body: Buffer.from(body),
  })
  return r
}

beforeAll(async () => {
  tally = await startTally()
  shop = await tally.createApp("shop")
  blog = await tally.createApp("blog")
  wide = await tally.createApp("wide")
  // 2 minutes of a simulated fleet's drains, ending 2 minutes ago: app 0 is shop's, app 1 blog's.
  const bodies = fleetBodies(2, 12, 2 * MINUTE, 21)
  const shopBodies = bodies.filter((b) => b.app === 0)
  const blogBodies = bodies.filter((b) => b.app === 1)
  await post(shop, shopBodies)
  await post(blog, blogBodies)
  // One memory sample for each of 300 process types.
  const at = Date.now() - 3 * MINUTE
  const lines = Array.from({ length: WIDE_TYPES }, (_, i) =>
    syslogLine(
      at,
      "heroku",
      `t${i}.1`,
      `source=t${i}.1 dyno=heroku.${100_000 + i}.6f1c2a3b sample#memory_total=${i + 0.5}MB sample#memory_rss=1MB sample#memory_cache=1MB sample#memory_swap=0MB sample#memory_pgpgin=1pages sample#memory_pgpgout=1pages sample#memory_quota=512MB`,
    ),
  )
  expect(
    (
      await fetch(`${tally.base}/logs`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`tally:${wide.secret}`).toString("base64")}`,
          "content-type": "application/logplex-1",
        },
        body: new Uint8Array(frame(lines)),
      })
    ).status,
  ).toBe(204)
  // Every rollup of both apps stored, as the oracle (tools/load) computes them.
  const deadline = Date.now() + 120_000
  for (const [app, own] of [
    [shop, shopBodies],
    [blog, blogBodies],
  ] as const) {
    const expected = oracleFromBodies(own)
    for (;;) {
      const diff = await differences(tally.base, app.owner, app.readToken, expected)
      if (diff.length === 0) break
      if (Date.now() > deadline) throw new Error(`rollups not stored: ${diff.slice(0, 5).join("; ")}`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  fromMs = Math.floor((Date.now() - HOUR) / HOUR) * HOUR
  toMs = Math.ceil((Date.now() + MINUTE) / HOUR) * HOUR
  const url = `${tally.base}/api/v1/read`
  admin = await startPrometheus({ remoteRead: [{ url, token: ADMIN }] })
  shopProm = await startPrometheus({ remoteRead: [{ url, token: shop.readToken }] })
}, 300_000)

afterAll(async () => {
  await admin?.stop()
  await shopProm?.stop()
  await tally?.stop()
})

describe("remote read: PromQL over tally equals the JSON API", () => {
  it("router service time percentiles, per process type, at every minute", async () => {
    const series = await json(shop, "router_service_ms")
    expect(series.length).toBeGreaterThan(0)
    let compared = 0
    for (const stat of ["p50", "p95", "p99", "count", "mean"] as const) {
      const prom = valuesAt(
        await range(shopProm, `tally_router_service_ms_${stat}{app="shop"}`),
        (m) => m.process_type!,
      )
      for (const s of series)
        for (const [t, v] of jsonValues(s, stat)) {
          expect(
            prom.get(s.processType)?.get(t),
            `${stat} ${s.processType} ${new Date(t).toISOString()}`,
          ).toBe(v)
          compared++
        }
    }
    expect(compared).toBeGreaterThan(5)
  })

  it("router request counts by status (sum over process types) and each series' labels", async () => {
    const series = await json(shop, "router_status")
    // The sum at a minute of the series that have a point at that minute ([59s]: that sample only).
    const prom = valuesAt(
      await range(admin, `sum by (status) (sum_over_time(tally_router_status_count{app="shop"}[59s]))`),
      (m) => m.status!,
    )
    const want = new Map<string, Map<number, number>>()
    for (const s of series)
      for (const [t, v] of jsonValues(s, "count")) {
        const byTime = want.get(s.label) ?? new Map<number, number>()
        byTime.set(t, (byTime.get(t) ?? 0) + v)
        want.set(s.label, byTime)
      }
    expect([...prom.keys()].sort()).toEqual([...want.keys()].sort())
    for (const [status, byTime] of want)
      for (const [t, v] of byTime) expect(prom.get(status)?.get(t), `status ${status} at ${t}`).toBe(v)
    const labels = (await admin.query(`last_over_time(tally_router_status_count{app="shop"}[1h])`)).data
      .result
    expect(labels.length).toBeGreaterThan(0)
    for (const s of labels) {
      expect(Object.keys(s.metric).sort()).toEqual(["__name__", "app", "owner", "process_type", "status"])
      expect(s.metric.owner).toBe(shop.owner)
    }
  })

  it("memory mean and max per process type; errors by code", async () => {
    for (const [metric, stat, label] of [
      ["memory_rss", "mean", undefined],
      ["memory_total", "max", undefined],
      ["errors", "count", "code"],
    ] as const) {
      const series = await json(shop, metric)
      expect(series.length, metric).toBeGreaterThan(0)
      const prom = valuesAt(
        await range(admin, `tally_${metric}_${stat}{app="shop"}`),
        (m) => `${m.process_type}/${label ? m[label] : ""}`,
      )
      for (const s of series)
        for (const [t, v] of jsonValues(s, stat))
          expect(
            prom.get(`${s.processType}/${s.label}`)?.get(t),
            `${metric} ${s.processType} ${s.label}`,
          ).toBe(v)
    }
  })

  it("a step of 10m or more reads the JSON API's downsampled points (10m, 1h)", async () => {
    for (const [step, seconds] of [
      ["10m", 600],
      ["1h", 3600],
    ] as const) {
      for (const [metric, stat] of [
        ["router_status", "count"],
        ["router_service_ms", "p99"],
        ["memory_rss", "max"],
      ] as const) {
        const series = await json(shop, metric, step)
        const prom = valuesAt(
          await range(admin, `tally_${metric}_${stat}{app="shop"}`, seconds),
          (m) => `${m.process_type}/${m.status ?? ""}`,
        )
        let compared = 0
        for (const s of series)
          for (const [t, v] of jsonValues(s, stat)) {
            expect(
              prom.get(`${s.processType}/${s.label}`)?.get(t),
              `${step} ${metric} ${s.processType}`,
            ).toBe(v)
            compared++
          }
        expect(compared, `${step} ${metric}`).toBeGreaterThan(0)
      }
    }
  })
})

describe("remote read: who sees what", () => {
  it("a read token sees its own app only; the admin token every app", async () => {
    const at = Date.now()
    const own = await shopProm.query(`count by (app, owner) (last_over_time({__name__=~"tally_.+"}[1h]))`, at)
    expect(own.data.result.map((s) => s.metric)).toEqual([{ app: "shop", owner: shop.owner }])
    expect((await shopProm.query(`tally_router_status_count{app="blog"}`, at)).data.result).toEqual([])
    expect(
      (await shopProm.query(`tally_router_status_count{owner="${blog.owner}"}`, at)).data.result,
    ).toEqual([])
    const listed = await shopProm.series(`{__name__=~"tally_.*"}`, fromMs, toMs)
    expect(listed.data.length).toBeGreaterThan(0)
    expect(new Set(listed.data.map((s) => s.app))).toEqual(new Set(["shop"]))
    const all = await admin.query(
      `count by (app) (last_over_time({__name__=~"tally_router_status_count|tally_memory_rss_mean"}[1h]))`,
      at,
    )
    expect(all.data.result.map((s) => s.metric.app).sort()).toEqual(["blog", "shop", "wide"])
    // Another app's read token, or none: refused.
    const bad = await rawRead("tly_r_not-a-token", {
      queries: [
        {
          startTimestampMs: fromMs,
          endTimestampMs: toMs,
          matchers: [{ type: 0, name: "__name__", value: "tally_memory_rss_mean" }],
        },
      ],
    })
    expect(bad.status).toBe(401)
    expect(await bad.text()).toMatch(/read token of an app or the admin token/)
  })

  it("the series API lists exactly the series the JSON API has (label discovery)", async () => {
    const listed = await shopProm.series(
      `{__name__=~"tally_router_status_.*|tally_errors_count"}`,
      fromMs,
      toMs,
    )
    const got = listed.data.map((s) => `${s.__name__} ${s.process_type} ${s.status ?? s.code ?? ""}`).sort()
    const want: Array<string> = []
    for (const s of await json(shop, "router_status"))
      for (const stat of ["count", "sum", "min", "max", "mean"])
        want.push(`tally_router_status_${stat} ${s.processType} ${s.label}`)
    for (const s of await json(shop, "errors")) want.push(`tally_errors_count ${s.processType} ${s.label}`)
    expect(got).toEqual(want.sort())
  })
})

describe("remote read: matchers", () => {
  it("regular expressions are fully anchored RE2, with =, !=, =~ and !~ on any label", async () => {
    const at = Date.now()
    const statuses = new Set((await json(shop, "router_status")).map((s) => s.label))
    const pick = async (expr: string) =>
      (await admin.query(`last_over_time(${expr}[1h])`, at)).data.result.map((s) => s.metric)
    const fives = await pick(`tally_router_status_count{app=~"sh.p", status=~"5.."}`)
    expect(new Set(fives.map((m) => m.status))).toEqual(
      new Set([...statuses].filter((s) => s.startsWith("5"))),
    )
    const other = await pick(`tally_router_status_count{app="shop", status!~"2..|3.."}`)
    expect(new Set(other.map((m) => m.status))).toEqual(
      new Set([...statuses].filter((s) => !/^[23]/.test(s))),
    )
    const not200 = await pick(`tally_router_status_count{app="shop", status!="200"}`)
    expect(not200.some((m) => m.status === "200")).toBe(false)
    expect(not200.length).toBeGreaterThan(0)
    // Anchored: a part of a name or a value matches nothing.
    expect(await pick(`{__name__=~"router_status_count", app="shop"}`)).toEqual([])
    expect(await pick(`{__name__=~"tally_router_status_count", app=~"sho"}`)).toEqual([])
    // __name__ by regex, with a case-insensitive group.
    const names = await pick(`{__name__=~"tally_memory_(?i:RSS|total)_max", app=~"shop|nothing"}`)
    expect(new Set(names.map((m) => m.__name__))).toEqual(
      new Set(["tally_memory_rss_max", "tally_memory_total_max"]),
    )
    // A label no tally series has: "" for every series.
    expect((await pick(`tally_memory_rss_max{app="shop", region=""}`)).length).toBeGreaterThan(0)
    expect(await pick(`tally_memory_rss_max{app="shop", region="eu"}`)).toEqual([])
    // status="" selects every series without a status (errors by code among them).
    expect((await pick(`tally_errors_count{app="shop", status=""}`)).length).toBeGreaterThan(0)
    // status= on a metric without statuses selects nothing.
    expect(await pick(`tally_memory_rss_max{app="shop", status="200"}`)).toEqual([])
  })

  it("a pathological regular expression is matched in linear time", async () => {
    await tally.createApp("a".repeat(60))
    const started = performance.now()
    // A backtracking engine takes about 2^60 steps on (a|aa)*c against sixty a's.
    const answer = await admin.query(`last_over_time(tally_memory_rss_mean{app=~"(a|aa)*c"}[1h])`)
    expect(answer.status).toBe("success")
    expect(answer.data.result).toEqual([])
    expect(performance.now() - started).toBeLessThan(5_000)
    // A pattern RE2 refuses is refused, with RE2's reason.
    const r = await rawRead(ADMIN, {
      queries: [
        {
          startTimestampMs: fromMs,
          endTimestampMs: toMs,
          matchers: [{ type: 2, name: "app", value: "(?<=a)b" }],
        },
      ],
    })
    expect(r.status).toBe(400)
    expect(await r.text()).toMatch(/error parsing regexp/)
  })
})

describe("remote read: limits", () => {
  it(`a read over more than ${MAX_READ_SERIES} series is refused with a message, never cut`, async () => {
    const expr = `{__name__=~"tally_memory_.*", app="wide"}`
    const answer = await admin.query(`count(last_over_time(${expr}[1h]))`)
    // Prometheus passes the refusal on as a warning and answers without tally's series.
    expect(answer.data.result).toEqual([])
    expect((answer.warnings ?? []).join("\n")).toMatch(new RegExp(`more than ${MAX_READ_SERIES} series`))
    const r = await rawRead(ADMIN, {
      queries: [
        {
          startTimestampMs: fromMs,
          endTimestampMs: toMs,
          matchers: [
            { type: 2, name: "__name__", value: "tally_memory_.*" },
            { type: 0, name: "app", value: "wide" },
          ],
        },
      ],
    })
    expect(r.status).toBe(400)
    expect(await r.text()).toMatch(/more than 10000 series .*add matchers/)
    // One metric of it (300 × 5 series) is read whole.
    const one = await admin.query(`count(last_over_time(tally_memory_total_max{app="wide"}[1h]))`)
    expect(one.data.result[0]?.value?.[1]).toBe(String(WIDE_TYPES))
    const sum = await admin.query(`sum(last_over_time(tally_memory_total_max{app="wide"}[1h]))`)
    expect(Number(sum.data.result[0]?.value?.[1])).toBe(
      (WIDE_TYPES * (WIDE_TYPES - 1)) / 2 + WIDE_TYPES * 0.5,
    )
  })

  it("answers SAMPLES, and refuses a request that accepts only streamed chunks", async () => {
    const ok = await rawRead(shop.readToken, {
      queries: [
        {
          startTimestampMs: fromMs,
          endTimestampMs: toMs,
          matchers: [{ type: 0, name: "__name__", value: "tally_router_status_count" }],
        },
      ],
      acceptedResponseTypes: [1, 0],
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get("content-encoding")).toBe("snappy")
    const decoded = ReadResponse.decode(snappy.uncompress(new Uint8Array(await ok.arrayBuffer())))
    expect(decoded.results[0]!.timeseries.length).toBeGreaterThan(0)
    for (const ts of decoded.results[0]!.timeseries) {
      const times = ts.samples.map((s) => s.timestamp)
      expect(times).toEqual([...times].sort((a, b) => a - b))
      expect(ts.labels.map((l) => l.name)).toEqual([...ts.labels.map((l) => l.name)].sort())
    }
    const chunks = await rawRead(shop.readToken, {
      queries: [{ startTimestampMs: fromMs, endTimestampMs: toMs, matchers: [] }],
      acceptedResponseTypes: [1],
    })
    expect(chunks.status).toBe(400)
    expect(await chunks.text()).toMatch(/SAMPLES/)
  })
})
