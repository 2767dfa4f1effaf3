/**
 * The load generator writes what its oracle says it wrote. Its bodies are held to the ingress's own parser
 * (frames, ignored lines, every measurement and event), its line formats to the shared fixtures, and its
 * conventions (process type, units, what router_status, errors and L10 carry) to expected.json.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { DDSketch } from "@datadog/sketches-js"
import { describe, expect, it } from "vitest"
import type { Measurement } from "../../src/domain/Measurement.ts"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import {
  BodyBuilder,
  cents,
  exactQuantile,
  Generator,
  l10,
  loadSample,
  makeFleet,
  memorySample,
  Oracle,
  platformEvent,
  Random,
  rollupKey,
  routerError,
  routerInfo,
  withinSketchAccuracy,
} from "../../tools/load/index.ts"
import { fixtures } from "../support/shared.ts"

const minuteOf = (timeUs: number) => Math.floor(timeUs / 60_000_000) * 60_000

/** What a parsed measurement contributes, by the conventions of DESIGN.md and the README (test-local). */
const samplesOf = (m: Measurement, visit: (pt: string, metric: string, label: string, v: number) => void) => {
  const pt = m.processType
  switch (m.type) {
    case "DYNO_MEMORY":
      for (const [k, metric] of [
        ["memoryTotal", "memory_total"],
        ["memoryRss", "memory_rss"],
        ["memoryCache", "memory_cache"],
        ["memorySwap", "memory_swap"],
        ["memoryPgpgin", "memory_pgpgin"],
        ["memoryPgpgout", "memory_pgpgout"],
        ["memoryQuota", "memory_quota"],
      ] as const)
        if (m[k] !== undefined) visit(pt, metric, "", m[k])
      return
    case "DYNO_LOAD":
      for (const [k, metric] of [
        ["loadAvg1m", "load_avg_1m"],
        ["loadAvg5m", "load_avg_5m"],
        ["loadAvg15m", "load_avg_15m"],
      ] as const)
        if (m[k] !== undefined) visit(pt, metric, "", m[k])
      return
    case "ROUTER_REQUESTS":
      visit(pt, "router_status", String(m.status), 1)
      if (m.serviceMs !== undefined) visit(pt, "router_service_ms", "", m.serviceMs)
      if (m.connectMs !== undefined) visit(pt, "router_connect_ms", "", m.connectMs)
      if (m.bytes !== undefined) visit(pt, "router_bytes", "", m.bytes)
      return
    case "ERRORS":
      visit(pt, "errors", m.code, m.count)
      return
    case "PLATFORM_EVENTS":
      return
  }
}

interface Agg {
  count: number
  sum: number
  min: number
  max: number
  values: Array<number>
}

describe("the generator's bodies, read by the ingress's parser", () => {
  it("parse to exactly the samples, events and ignored lines the oracle recorded", () => {
    const fleet = makeFleet({ apps: 6, seed: 11, shieldApps: 2 })
    const generator = new Generator(fleet, { l10Chance: 0.2 })
    const oracle = new Oracle(fleet)
    const parsed = fleet.apps.map(() => new Map<string, Agg>())
    const events = fleet.apps.map(() => [] as Array<string>)
    const start = Date.UTC(2026, 10, 28, 12, 0, 0)
    let bodies = 0
    for (let t = 0; t < 150; t++)
      for (const app of fleet.apps) {
        const overflow = t % 17 === 5 ? { dropped: 40 + t, sinceMs: start + t * 800 - 3000 } : undefined
        const body = generator.body(app.index, start + t * 800, 200, overflow)
        bodies++
        expect(body.bytes.toString("latin1")).toMatch(/^\d+ </)
        const { parser, error } = parseBody(body.bytes)
        expect(error).toBeUndefined()
        expect(parser.frames).toBe(body.frames)
        expect(parser.malformed).toBe(0)
        expect(parser.ignored).toBe(body.ignored)
        for (const m of parser.measurements) {
          if (m.type === "PLATFORM_EVENTS") {
            events[app.index]!.push(
              `${Math.floor(m.timeUs / 1000)}|${m.kind}|${m.process}|${m.description}|${m.actor}`,
            )
            continue
          }
          samplesOf(m, (pt, metric, label, v) => {
            const k = rollupKey(pt, metric, label, minuteOf(m.timeUs))
            const map = parsed[app.index]!
            let a = map.get(k)
            if (!a) map.set(k, (a = { count: 0, sum: 0, min: Infinity, max: -Infinity, values: [] }))
            a.count++
            a.sum += v
            a.min = Math.min(a.min, v)
            a.max = Math.max(a.max, v)
            a.values.push(v)
          })
        }
        oracle.accept(body)
      }
    expect(bodies).toBe(900)
    for (const app of fleet.apps) {
      const x = oracle.expectation(app.index)
      const got = parsed[app.index]!
      expect([...got.keys()].sort()).toEqual([...x.rollups.keys()].sort())
      for (const [k, want] of x.rollups) {
        const a = got.get(k)!
        expect({ k, count: a.count, min: a.min, max: a.max }).toEqual({
          k,
          count: want.count,
          min: want.min,
          max: want.max,
        })
        expect(Math.abs(a.sum - want.sum)).toBeLessThanOrEqual(1e-9 * Math.abs(want.sum))
        if (want.p50 !== undefined) {
          const sorted = a.values.sort((p, q) => p - q)
          for (const q of [0.5, 0.95, 0.99] as const)
            expect(want[`p${Math.round(q * 100)}` as "p50" | "p95" | "p99"]).toBe(
              sorted[Math.floor(q * (sorted.length - 1))],
            )
        }
      }
      expect(events[app.index]!.sort()).toEqual(
        x.events.map((e) => `${e.timeMs}|${e.kind}|${e.process}|${e.description}|${e.actor}`).sort(),
      )
      // Every kind of series is there: memory, load, router with statuses and latencies, H/R/L errors.
      const metrics = new Set([...x.rollups.values()].map((r) => `${r.processType}:${r.metric}`))
      for (const m of ["web:memory_total", "worker:load_avg_1m", "web:router_service_ms", "router:errors"])
        expect(metrics, m).toContain(m)
      expect([...x.rollups.values()].some((r) => r.processType === "logplex" && r.label === "L10")).toBe(true)
      expect(x.events.length).toBeGreaterThan(0)
    }
  })

  it("poison lines reach the parser as router lines with a bad dyno, process type or label, and count nowhere", () => {
    const fleet = makeFleet({ apps: 1, seed: 5 })
    const generator = new Generator(fleet, { poisonEvery: 1 })
    const body = generator.body(0, Date.UTC(2026, 10, 28, 12), 3)
    expect(body.frames).toBe(3)
    expect(body.samples).toBe(0)
    expect(
      body.poison.map((p) => [p.reason, p.processType.slice(0, 12), p.processType.length, p.code]),
    ).toEqual([
      ["nul-dyno", "web\u0000evil", 8, ""],
      ["long-process-type", "pppppppppppp", 300, ""],
      ["bad-label", "web", 3, "H\u001b[1m12"],
    ])
    const text = body.bytes.toString("latin1")
    expect(text).toContain("dyno=web\u0000evil.1 ")
    expect(text).toContain(`dyno=${"p".repeat(300)}.1 `)
    expect(text).toContain("code=H\u001b[1m12 ")
    expect(parseBody(body.bytes).error).toBeUndefined()
    const oracle = new Oracle(fleet)
    oracle.accept(body)
    expect(oracle.expectation(0).rollups.size).toBe(0)
    expect(oracle.expectation(0).poison).toHaveLength(3)
  })
})

describe("the generator's lines follow the shared fixtures", () => {
  const expected = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as Record<
    string,
    { measurements: Array<Record<string, unknown>> }
  >
  const fixtureLine = (name: string) => {
    const text = readFileSync(join(fixtures, name), "latin1")
    return text.slice(text.indexOf(" ") + 1).replace(/\n$/, "")
  }
  /** `<PRI>1 TIME host APP PROC - ` and the logfmt keys of the message, in order. */
  const shape = (line: string) => {
    const m = /^<\d+>1 \S+ (\S+) (\S+) (\S+) - (.*)$/s.exec(line)
    if (!m) throw new Error(`not a Logplex line: ${line}`)
    const keys = [...m[4]!.matchAll(/(?:^| )([^ =]+)=/g)].map((k) => k[1])
    return { host: m[1], app: m[2], proc: m[3]!.replace(/^\w+\.\d+$/, "<dyno>"), keys }
  }
  const fleet = makeFleet({ apps: 1, seed: 3 })
  const app = fleet.apps[0]!
  const rng = new Random(9)
  const us = Date.UTC(2026, 10, 28, 12, 0, 30) * 1000 + 123_456
  /** Writes lines with `write` until one matches `want`; returns its text and samples. */
  const lineOf = (write: (b: BodyBuilder) => void, want: RegExp = /./) => {
    for (let i = 0; i < 500; i++) {
      const b = new BodyBuilder()
      write(b)
      const body = b.finish(0)
      const text = body.bytes.toString("latin1")
      const line = text.slice(text.indexOf(" ") + 1).replace(/\n$/, "")
      if (!want.test(line)) continue
      const samples = Array.from({ length: body.samples }, (_, k) => {
        const slot = body.slots[k]!
        return `${app.series.processType[slot]}|${app.series.metric[slot]}|${app.series.label[slot]}=${body.values[k]}`
      })
      return { line, samples, body }
    }
    throw new Error(`no line matching ${want}`)
  }
  const fieldOf = (line: string, key: string) =>
    /(?:^| )([^ =]+)=(\S*)/g.exec(line.slice(line.indexOf(`${key}=`)))![2]!

  it("router at=info: the fixture's keys; status, connect, service and bytes as printed (ms, bytes)", () => {
    const { line, samples } = lineOf((b) => routerInfo(b, app, rng, us))
    expect(shape(line)).toEqual(shape(fixtureLine("line-router-info-2020.body")))
    const want = expected["line-router-info-2020.body"]!.measurements[0]!
    expect(want).toMatchObject({
      process_type: "web",
      connect_ms: 1,
      service_ms: 22,
      bytes: 656,
      status: 304,
    })
    const dyno = fieldOf(line, "dyno")
    expect(samples).toEqual([
      `web|router_status|${fieldOf(line, "status")}=1`,
      `web|router_service_ms|=${Number.parseInt(fieldOf(line, "service"), 10)}`,
      `web|router_connect_ms|=${Number.parseInt(fieldOf(line, "connect"), 10)}`,
      `web|router_bytes|=${fieldOf(line, "bytes")}`,
    ])
    expect(dyno).toMatch(/^web\.\d$/)
  })

  it("router H10 with empty values: the fixture's keys; process type router, status and H10 only", () => {
    const { line, samples } = lineOf((b) => routerError(b, app, rng, us), /code=H10 /)
    const fixture = shape(fixtureLine("line-router-h10-empty-values-2015.body"))
    expect(shape(line).keys.slice(0, fixture.keys.length)).toEqual(fixture.keys)
    expect(line).toContain(" dyno= connect= service= status=503 bytes= ")
    expect(expected["line-router-h10-empty-values-2015.body"]!.measurements).toEqual([
      expect.objectContaining({ type: "ROUTER_REQUESTS", process_type: "router", status: 503, code: "H10" }),
      expect.objectContaining({ type: "ERRORS", process_type: "router", code: "H10" }),
    ])
    expect(samples).toEqual(["router|router_status|503=1", "router|errors|H10=1"])
  })

  it("router H12 of a dyno: latencies, status 503 and errors{H12} in the dyno's process type", () => {
    const { line, samples } = lineOf((b) => routerError(b, app, rng, us), /code=H12 .* service=30\d{3}ms/)
    expect(line).toMatch(
      /at=error code=H12 desc="Request timeout" .* dyno=web\.\d connect=\dms service=30\d{3}ms status=503 bytes=0/,
    )
    expect(samples).toEqual([
      `web|router_service_ms|=${Number.parseInt(fieldOf(line, "service"), 10)}`,
      `web|router_connect_ms|=${Number.parseInt(fieldOf(line, "connect"), 10)}`,
      "web|router_bytes|=0",
      "web|router_status|503=1",
      "web|errors|H12=1",
    ])
  })

  it("memory samples: the fixture's keys and units; MB and pages as printed", () => {
    const { line, samples } = lineOf((b) => memorySample(b, app, rng, us))
    const fixture = fixtureLine("line-memory-2023.body")
    expect(shape(line)).toEqual(shape(fixture))
    const units = (l: string) =>
      [...l.matchAll(/sample#(\w+)=[\d.]+([A-Za-z]*)/g)].map((m) => `${m[1]}:${m[2]}`)
    expect(units(line)).toEqual(units(fixture))
    expect(expected["line-memory-2023.body"]!.measurements[0]).toMatchObject({
      memory_total: 180.43,
      memory_pgpgin: 84329,
    })
    const pt = /source=(\w+)\./.exec(line)![1]
    expect(samples).toEqual(
      [...line.matchAll(/sample#(\w+)=([\d.]+)/g)].map((m) => `${pt}|${m[1]}|=${Number(m[2])}`),
    )
  })

  it("load samples: the fixture's keys; values as printed", () => {
    const { line, samples } = lineOf((b) => loadSample(b, app, rng, us))
    expect(shape(line)).toEqual(shape(fixtureLine("line-load-2023-3-digit-fraction.body")))
    const pt = /source=(\w+)\./.exec(line)![1]
    expect(samples).toEqual(
      [...line.matchAll(/sample#(\w+)=([\d.]+)/g)].map((m) => `${pt}|${m[1]}|=${Number(m[2])}`),
    )
  })

  it("L10: Logplex's wording, no trailing newline, process type logplex, value = messages dropped", () => {
    const fixture = readFileSync(join(fixtures, "l10-glued-state-change.body"), "latin1")
    const space = fixture.indexOf(" ")
    const fixtureL10 = fixture.slice(space + 1, space + 1 + Number(fixture.slice(0, space)))
    expect(expected["l10-glued-state-change.body"]!.measurements[0]).toMatchObject({
      process_type: "logplex",
      code: "L10",
      dropped: 1,
    })
    const { line, samples, body } = lineOf((b) => l10(b, app, rng, us, 37, us - 5e6), /Error L10/)
    expect(body.bytes.at(-1)).not.toBe(0x0a)
    expect(line.replace(/\d{4}-\S+\+00:00/g, "T").replace(/\d+ messages/, "N messages")).toBe(
      fixtureL10.replace(/\d{4}-\S+\+00:00/g, "T").replace(/\d+ messages/, "N messages"),
    )
    expect(samples).toEqual(["logplex|errors|L10=37"])
  })

  it("platform events: dyno state lines and API lines in the fixtures' forms", () => {
    const state = lineOf((b) => platformEvent(b, app, rng, us), / heroku \w+\.\d - State changed/)
    expect(shape(state.line)).toMatchObject({
      host: "host",
      app: "heroku",
      proc: "<dyno>",
    })
    expect(state.body.events[0]!.description).toBe(state.line.slice(state.line.indexOf(" - ") + 3))
    const release = lineOf((b) => platformEvent(b, app, rng, us), /Release v/)
    expect(release.line).toMatch(/^<134>1 \S+ host app api - Release v\d+ created by user \S+@\S+$/)
    expect(release.body.events[0]).toMatchObject({
      kind: "release",
      process: "api",
      actor: expect.stringMatching(/@/),
    })
    expect(expected["line-api-release-2015.body"]!.measurements).toEqual([])
  })
})

describe("numbers", () => {
  it("cents print exactly what they stand for", () => {
    for (let c = 0; c <= 2_000_000; c++) if (Number(cents(c)) !== c / 100) throw new Error(`cents(${c})`)
  })

  it("the exact quantile convention is DDSketch's: within 1% of sorted[floor(q * (n - 1))], zero as zero", () => {
    const rng = new Random(1)
    for (let round = 0; round < 50; round++) {
      const sketch = new DDSketch({ relativeAccuracy: 0.01 })
      const histogram = new Map<number, number>()
      const n = rng.int(1, 400)
      for (let i = 0; i < n; i++) {
        const v = rng.float() < 0.2 ? 0 : Math.round(Math.exp(3 + 1.5 * rng.normal()))
        sketch.accept(v)
        histogram.set(v, (histogram.get(v) ?? 0) + 1)
      }
      for (const q of [0.5, 0.95, 0.99]) {
        const exact = exactQuantile(histogram, q)
        const got = sketch.getValueAtQuantile(q)
        expect(withinSketchAccuracy(got, exact), `q=${q} n=${n}: ${got} vs ${exact}`).toBe(true)
        if (exact === 0) expect(got).toBe(0)
      }
    }
  })
})
