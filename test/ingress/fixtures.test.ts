/** Every real drain body in ../shared/fixtures parses exactly to what expected.json says. */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Measurement } from "../../src/domain/Measurement.ts"
import { DrainParser, parseBody } from "../../src/ingress/DrainParser.ts"
import { fixtures } from "../support/shared.ts"

const dir = fixtures
const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Record<string, Expected>

interface Expected {
  readonly frames: number
  readonly ignored: number
  readonly measurements: ReadonlyArray<Record<string, unknown>>
  readonly events: ReadonlyArray<Record<string, unknown>>
}

/** expected.json writes times as UTC ISO strings with the line's own fraction digits: compare in µs. */
const micros = (iso: string) => {
  const m = /^(.{19})(?:\.(\d{1,6}))?Z$/.exec(iso)
  if (!m) throw new Error(`bad time in expected.json: ${iso}`)
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? "").padEnd(6, "0"))
}
const inMicros = (list: ReadonlyArray<Record<string, unknown>>) =>
  list.map((o) => ({ ...o, time: micros(o.time as string) }))

/** The shape expected.json uses for a measurement. */
const shape = (m: Measurement): Record<string, unknown> => {
  const common: Record<string, unknown> = { type: m.type, process_type: m.processType, time: m.timeUs }
  if (m.dyno) common.dyno = m.dyno
  switch (m.type) {
    case "DYNO_MEMORY":
      return {
        ...common,
        memory_total: m.memoryTotal,
        memory_rss: m.memoryRss,
        memory_cache: m.memoryCache,
        memory_swap: m.memorySwap,
        memory_pgpgin: m.memoryPgpgin,
        memory_pgpgout: m.memoryPgpgout,
        memory_quota: m.memoryQuota,
      }
    case "DYNO_LOAD":
      return { ...common, load_avg_1m: m.loadAvg1m, load_avg_5m: m.loadAvg5m, load_avg_15m: m.loadAvg15m }
    case "ROUTER_REQUESTS": {
      const r: Record<string, unknown> = { ...common, method: m.method, status: m.status }
      if (m.connectMs !== undefined) r.connect_ms = m.connectMs
      if (m.serviceMs !== undefined) r.service_ms = m.serviceMs
      if (m.bytes !== undefined) r.bytes = m.bytes
      if (m.code) r.code = m.code
      return r
    }
    case "ERRORS":
      return m.code === "L10" ? { ...common, code: m.code, dropped: m.count } : { ...common, code: m.code }
    case "PLATFORM_EVENTS": {
      const e: Record<string, unknown> = {
        time: m.timeUs,
        kind: m.kind,
        process: m.process,
        description: m.description,
      }
      if (m.actor) e.actor = m.actor
      return e
    }
  }
}

const split = (ms: ReadonlyArray<Measurement>) => ({
  measurements: ms.filter((m) => m.type !== "PLATFORM_EVENTS").map(shape),
  events: ms.filter((m) => m.type === "PLATFORM_EVENTS").map(shape),
})

const cases = Object.entries(expected).filter(([name]) => !name.startsWith("_"))

describe("drain fixtures", () => {
  it("covers every fixture body", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15)
  })

  it.each(cases)("%s", (name, want) => {
    const { parser, error } = parseBody(readFileSync(join(dir, name)))
    expect(error).toBeUndefined()
    expect(parser.frames).toBe(want.frames)
    expect(parser.ignored).toBe(want.ignored)
    expect(parser.malformed).toBe(0)
    expect(split(parser.measurements)).toEqual({
      measurements: inMicros(want.measurements),
      events: inMicros(want.events),
    })
  })

  it("parses the same when the body arrives in the chunks of chunked-three-bodies.chunks.json", () => {
    const chunks = JSON.parse(
      readFileSync(join(dir, "chunked-three-bodies.chunks.json"), "utf8"),
    ) as Array<string>
    const parser = new DrainParser()
    for (const chunk of chunks) expect(parser.push(Buffer.from(chunk, "utf8"))).toBe(true)
    expect(parser.end()).toBeUndefined()
    const want = expected["chunked-three-bodies.body"]!
    expect(parser.frames).toBe(want.frames)
    expect(split(parser.measurements)).toEqual({
      measurements: inMicros(want.measurements),
      events: inMicros(want.events),
    })
  })

  it.each(cases)("%s parses the same fed one byte at a time", (name) => {
    const body = readFileSync(join(dir, name))
    const whole = parseBody(body).parser
    const parser = new DrainParser()
    for (let i = 0; i < body.length; i++) parser.push(body.subarray(i, i + 1))
    expect(parser.end()).toBeUndefined()
    expect(parser.measurements).toEqual(whole.measurements)
    expect([parser.frames, parser.ignored]).toEqual([whole.frames, whole.ignored])
  })
})
