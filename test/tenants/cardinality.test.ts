/**
 * Cardinality is bounded per app (DESIGN.md "Tenants"). Before: 50,000 process types from one app in
 * 7 MB of drains took the server from 283 MB to about 1 GB, sent 266k summary records to the RETRY topics
 * (the sink's lane overflowed), and one unfiltered read of that app then held the process for minutes
 * (a quadratic loop over the catalogue, then sorting 50,000 series) while another app's `/api/v1/me`
 * waited behind it. Against a real `tally all`: with TALLY_MAX_PROCESS_TYPES=100 the 50,000 are refused
 * but 100, counted exactly, memory stays bounded and the victim is unaffected; with the default (1000),
 * a moderate flood fills the cap exactly, an unfiltered read says it was capped at 500 series, and a
 * flood of status codes is held to TALLY_MAX_LABELS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { within } from "../support/eventually.ts"
import {
  type App,
  duringAttack,
  frame,
  max,
  metricValue,
  postDrain,
  routerLine,
  type Server,
  startTally,
  syslogLine,
} from "./support.ts"

const MB = 1024 * 1024
/** Lines per drain body: about 1 MB, under the default TALLY_MAX_BODY of 1 MiB. */
const LINES_PER_BODY = 7_000

/** A runtime-metric line of process type `t<i>` (about 140 bytes). */
const memoryLine = (timeMs: number, i: number) =>
  syslogLine(
    timeMs,
    "heroku",
    `t${i}.1`,
    `source=t${i}.1 dyno=heroku.${100_000_000 + i}.6f1c2a3b-4d5e-8a7b sample#memory_total=${(i % 900) + 0.25}MB`,
  )

/** Drain bodies of `count` process types t<from>..t<from+count-1>, one line each. */
const floodBodies = (from: number, count: number, timeMs: number): Array<Buffer> => {
  const bodies: Array<Buffer> = []
  for (let i = from; i < from + count; i += LINES_PER_BODY) {
    const lines: Array<string> = []
    for (let j = i; j < Math.min(from + count, i + LINES_PER_BODY); j++) lines.push(memoryLine(timeMs, j))
    bodies.push(frame(lines))
  }
  return bodies
}

/** A metrics read of the last 2 h (1m step), timed, given up after `timeoutMs`. */
const read = async (
  server: Server,
  app: App,
  metric: string,
  query: Record<string, string> = {},
  timeoutMs = 60_000,
) => {
  const now = Date.now()
  const to = new Date(Math.ceil(now / 60_000) * 60_000 + 60_000).toISOString()
  const from = new Date(Math.floor(now / 60_000) * 60_000 - 2 * 3600_000).toISOString()
  const params = new URLSearchParams({ from, to, step: "1m", ...query })
  const started = performance.now()
  const r = await fetch(`${server.base}/api/v1/apps/${app.owner}/metrics/${metric}?${params}`, {
    headers: { authorization: `Bearer ${app.readToken}` },
    signal: AbortSignal.timeout(timeoutMs),
  })
  // biome-ignore lint/suspicious/noExplicitAny: the JSON answer as received
  const body = (await r.json()) as any
  return { status: r.status, body, ms: performance.now() - started }
}

const me = (server: Server, app: App) =>
  fetch(`${server.base}/api/v1/me`, {
    headers: { authorization: `Bearer ${app.readToken}` },
    signal: AbortSignal.timeout(30_000),
  })

/** A request's response, or 599 when it got none (reset, or no answer within 30 s). */
const orNone = (request: Promise<Response>) => request.catch(() => new Response(null, { status: 599 }))

/** The victim's probes, one at a time: `/api/v1/me`, then a read of its router statuses, in turn. */
const victimProbe = (server: Server, victim: App) => {
  let n = 0
  return () =>
    n++ % 2 === 0
      ? orNone(me(server, victim))
      : orNone(
          fetch(
            `${server.base}/api/v1/apps/${victim.owner}/metrics/router_status?${new URLSearchParams({
              process_type: "web",
              from: new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3600_000).toISOString(),
              to: new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 60_000).toISOString(),
            })}`,
            { headers: { authorization: `Bearer ${victim.readToken}` }, signal: AbortSignal.timeout(30_000) },
          ),
        )
}

/** Samples the server's resident memory every 200 ms until stopped; the largest seen. */
const rssPeak = (server: Server) => {
  let peak = server.rss()
  const sample = () => {
    try {
      peak = Math.max(peak, server.rss())
    } catch {
      // The server exited: its last sample stands.
    }
  }
  const timer = setInterval(sample, 200)
  return () => {
    clearInterval(timer)
    sample()
    return peak
  }
}

/** Polls `probe` until `done`, for at most `withinMs`; returns the last result (undefined: it failed). */
const until = async <A>(
  probe: () => Promise<A>,
  done: (a: A) => boolean,
  withinMs: number,
): Promise<A | undefined> => {
  const deadline = Date.now() + withinMs
  for (;;) {
    const a = await probe().catch(() => undefined)
    if ((a !== undefined && done(a)) || Date.now() >= deadline) return a
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** Stops the server; one that does not exit within 30 s (its event loop held) is killed, and says so. */
const shutdown = async (server: Server) => {
  const code = await within(server.stop(), 30_000)
  if (code !== "timeout") return code
  server.proc.child.kill("SIGKILL")
  return "killed after 30 s"
}

describe("tenants: 50,000 process types from one app (TALLY_MAX_PROCESS_TYPES=100)", () => {
  let server: Server
  let attacker: App
  let victim: App

  beforeAll(async () => {
    server = await startTally({ TALLY_MAX_PROCESS_TYPES: "100" })
    attacker = await server.createApp("types-attacker")
    victim = await server.createApp("types-victim")
  }, 180_000)

  afterAll(async () => {
    expect(await shutdown(server)).toBe(0)
  }, 60_000)

  it("the first 100 are kept, 49,900 refused and counted; memory bounded; the victim's reads fast, its data intact", async () => {
    // The victim's traffic: 20 requests answered 200 and 5 answered 404, and a memory sample.
    const minute = Date.now() - 30_000
    const victimLines = [
      ...Array.from({ length: 20 }, () => routerLine(minute, 200)),
      ...Array.from({ length: 5 }, () => routerLine(minute, 404)),
      syslogLine(minute, "heroku", "web.1", "source=web.1 sample#memory_total=321.5MB"),
    ]
    expect((await postDrain(server, victim, frame(victimLines))).status).toBe(204)
    await until(
      () => read(server, victim, "router_status", { process_type: "web" }),
      (r) => r.body?.series?.length === 2,
      60_000,
    )

    const bodies = floodBodies(0, 50_000, Date.now())
    const bytes = bodies.reduce((n, b) => n + b.length, 0)
    expect(bytes).toBeGreaterThan(6.5 * MB)
    expect(bodies.every((b) => b.length <= MB)).toBe(true)
    const rssStart = server.rss()
    const peak = rssPeak(server)
    const rejectedBefore = await metricValue(server, "tally_ingress_rejected_total", {
      reason: "too_many_process_types",
    })

    // The flood, while the victim reads; then the pipeline digests it, while the victim reads.
    const flood = await duringAttack(
      async () => {
        const statuses: Array<number> = []
        for (const body of bodies)
          statuses.push(
            await postDrain(server, attacker, body).then(
              (r) => r.status,
              () => 0,
            ),
          )
        return statuses
      },
      victimProbe(server, victim),
    )
    expect(flood.result.every((s) => s === 204)).toBe(true)
    const digest = await duringAttack(
      () =>
        until(
          () => read(server, attacker, "memory_total"),
          (r) => r.body?.series?.length === 100,
          90_000,
        ),
      victimProbe(server, victim),
    )
    const rssMax = peak()

    // Exactly the first 100 process types are kept: in the catalogue and in the store; the rest counted.
    const refused =
      (await metricValue(server, "tally_ingress_rejected_total", { reason: "too_many_process_types" })) -
      rejectedBefore
    const catalogue = (await me(server, attacker)
      .then((r) => r.json())
      .catch(() => ({ processTypes: [] }))) as { processTypes: Array<string> }
    const unfiltered = await read(server, attacker, "memory_total").catch((e) => ({
      status: 0,
      body: { error: String(e) },
      ms: Number.NaN,
    }))
    const probes = [...flood.probes, ...digest.probes]
    console.log(
      `50,000 process types in ${(bytes / MB).toFixed(1)} MB: ${refused} refused, ${catalogue.processTypes.length} kept; resident ${Math.round(rssStart / MB)} MB at the start, at most ${Math.round(rssMax / MB)} MB; victim ${probes.length} probes, at most ${Math.round(max(probes.map((p) => p.ms)))} ms; unfiltered read ${Math.round(unfiltered.ms)} ms, ${unfiltered.body?.series?.length} series`,
    )
    expect(refused).toBe(49_900)
    expect([...catalogue.processTypes].sort()).toEqual(Array.from({ length: 100 }, (_, i) => `t${i}`).sort())
    expect(unfiltered.status).toBe(200)
    expect(unfiltered.body.series.length).toBe(100)
    expect(
      unfiltered.body.series.every((s: { points: Array<{ count: number }> }) => s.points[0]?.count === 1),
    ).toBe(true)
    expect(unfiltered.body.truncated).toBeUndefined()
    expect(unfiltered.ms).toBeLessThan(5_000)
    // Nothing overflowed to the RETRY topics.
    expect(await metricValue(server, "tally_sink_retried_batches_total")).toBe(0)
    // Before: +650-900 MB.
    expect(rssMax - rssStart).toBeLessThan(150 * MB)
    // The victim: every probe answered, fast (before: /api/v1/me waited 100 s behind one read).
    expect(probes.length).toBeGreaterThan(10)
    expect(probes.filter((p) => p.status !== 200)).toEqual([])
    expect(max(probes.map((p) => p.ms))).toBeLessThan(1_000)
    const statuses = await read(server, victim, "router_status", { process_type: "web" })
    expect(
      statuses.body.series.map((s: { label: string; points: Array<{ count: number }> }) => [
        s.label,
        s.points.reduce((n, p) => n + p.count, 0),
      ]),
    ).toEqual([
      ["200", 20],
      ["404", 5],
    ])
    const memory = await read(server, victim, "memory_total", { process_type: "web" })
    expect(memory.body.series[0].points.map((p: { max: number }) => p.max)).toEqual([321.5])
  }, 300_000)
})

describe("tenants: the default caps (TALLY_MAX_PROCESS_TYPES 1000, TALLY_MAX_LABELS 200)", () => {
  let server: Server
  let attacker: App
  let victim: App

  beforeAll(async () => {
    server = await startTally()
    attacker = await server.createApp("caps-attacker")
    victim = await server.createApp("caps-victim")
  }, 180_000)

  afterAll(async () => {
    expect(await shutdown(server)).toBe(0)
  }, 60_000)

  it("2,500 process types and 500 status codes: the caps filled exactly, the rest counted; a capped read says so", async () => {
    const now = Date.now()
    // 500 status codes (100-599) on web: 200 labels a day are kept.
    const statuses = Array.from({ length: 500 }, (_, i) => routerLine(now, 100 + i))
    expect((await postDrain(server, attacker, frame(statuses))).status).toBe(204)
    // Then 2,500 new process types: 999 fit beside web.
    for (const body of floodBodies(0, 2_500, now))
      expect((await postDrain(server, attacker, body)).status).toBe(204)
    expect(await metricValue(server, "tally_ingress_rejected_total", { reason: "too_many_labels" })).toBe(300)
    expect(
      await metricValue(server, "tally_ingress_rejected_total", { reason: "too_many_process_types" }),
    ).toBe(1_501)
    const catalogue = (await (await me(server, attacker)).json()) as { processTypes: Array<string> }
    expect(catalogue.processTypes.length).toBe(1_000)
    expect(catalogue.processTypes).toContain("web")
    expect(catalogue.processTypes).toContain("t998")
    expect(catalogue.processTypes).not.toContain("t999")

    // Every admitted process type is stored (the last one too); an unfiltered read holds 500 and says so.
    const last = await until(
      () => read(server, attacker, "memory_total", { process_type: "t998" }),
      (r) => r.body?.series?.length === 1,
      90_000,
    )
    expect(last?.body.series[0].points[0].count).toBe(1)
    const capped = await duringAttack(
      () => read(server, attacker, "memory_total"),
      () => me(server, victim),
      50,
    )
    console.log(
      `unfiltered read of 999 series: ${Math.round(capped.result.ms)} ms, ${capped.result.body?.series?.length} series, truncated ${JSON.stringify(capped.result.body?.truncated)}; victim /api/v1/me meanwhile at most ${Math.round(max(capped.probes.map((p) => p.ms)))} ms`,
    )
    expect(capped.result.status).toBe(200)
    expect(capped.result.ms).toBeLessThan(5_000)
    expect(capped.result.body.series.length).toBe(500)
    expect(capped.result.body.truncated).toMatchObject({ reason: "series", limit: 500 })
    expect(capped.result.body.truncated.message).toMatch(/process_type=/)
    expect(capped.probes.filter((p) => p.status !== 200 || p.ms >= 1_000)).toEqual([])
    // The labels kept are the first 200 seen.
    const labels = await read(server, attacker, "router_status", { process_type: "web" })
    expect(labels.body.series.map((s: { label: string }) => s.label)).toEqual(
      Array.from({ length: 200 }, (_, i) => String(100 + i)),
    )
  }, 300_000)
})
