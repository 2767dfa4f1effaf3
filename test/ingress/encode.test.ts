/**
 * The hand encoder (RecordEncoder) writes exactly what the generated protobuf encoder writes, for every
 * measurement of the shared fixtures and for arbitrary measurements (non-ASCII and long strings, absent
 * and zero fields, large and negative numbers): one record per (type, process type) of a delivery, in
 * the order of their first measurement, each holding its measurements in line order (the first as the
 * message, the rest in `next` with only dyno and time in their origin), large ones split into several
 * records of the key one after another.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Measurement } from "../../src/domain/Measurement.ts"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import {
  type Delivery,
  MAX_RECORD_BYTES,
  RecordEncoder,
  toRecord,
  toRecords,
} from "../../src/ingress/Encode.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { Generator, makeFleet } from "../../tools/load/index.ts"
import { fixtures } from "../support/shared.ts"

const KINDS = {
  state: Wire.EventKind.EVENT_KIND_STATE,
  crash: Wire.EventKind.EVENT_KIND_CRASH,
  restart: Wire.EventKind.EVENT_KIND_RESTART,
  scale: Wire.EventKind.EVENT_KIND_SCALE,
  release: Wire.EventKind.EVENT_KIND_RELEASE,
  deploy: Wire.EventKind.EVENT_KIND_DEPLOY,
  config: Wire.EventKind.EVENT_KIND_CONFIG,
} as const

/** The reference message of one measurement (the generated encoder's input); `whole`: the whole origin. */
const message = (m: Measurement, d: Delivery, whole: boolean) => {
  const origin = whole
    ? {
        owner: d.owner,
        processType: m.processType,
        dyno: m.dyno,
        timeUs: m.timeUs,
        drain: d.drain,
        frameId: d.frameId,
        delivery: d.delivery,
      }
    : { dyno: m.dyno, timeUs: m.timeUs }
  switch (m.type) {
    case "DYNO_MEMORY":
      return {
        type: "DynoMemory" as const,
        value: {
          origin,
          memoryTotal: m.memoryTotal ?? null,
          memoryRss: m.memoryRss ?? null,
          memoryCache: m.memoryCache ?? null,
          memorySwap: m.memorySwap ?? null,
          memoryPgpgin: m.memoryPgpgin ?? null,
          memoryPgpgout: m.memoryPgpgout ?? null,
          memoryQuota: m.memoryQuota ?? null,
        },
      }
    case "DYNO_LOAD":
      return {
        type: "DynoLoad" as const,
        value: {
          origin,
          loadAvg_1m: m.loadAvg1m ?? null,
          loadAvg_5m: m.loadAvg5m ?? null,
          loadAvg_15m: m.loadAvg15m ?? null,
        },
      }
    case "ROUTER_REQUESTS":
      return {
        type: "RouterRequest" as const,
        value: {
          origin,
          at: m.at,
          method: m.method,
          path: m.path,
          host: m.host,
          requestId: m.requestId,
          fwd: m.fwd,
          status: m.status,
          connectMs: m.connectMs ?? null,
          serviceMs: m.serviceMs ?? null,
          bytes: m.bytes ?? null,
          protocol: m.protocol,
          code: m.code,
          desc: m.desc,
        },
      }
    case "ERRORS":
      return {
        type: "ErrorCode" as const,
        value: {
          origin,
          code: m.code,
          count: m.count,
          description: m.description,
        },
      }
    case "PLATFORM_EVENTS":
      return {
        type: "PlatformEvent" as const,
        value: {
          origin,
          kind: KINDS[m.kind],
          process: m.process,
          description: m.description,
          actor: m.actor,
        },
      }
  }
}

/** The reference: the generated encoder, of a record holding `ms` (one delivery's of one key, in order). */
const reference = (ms: ReadonlyArray<Measurement>, d: Delivery): Uint8Array => {
  const [first, ...rest] = ms.map((m, i) => message(m, d, i === 0))
  const next = rest.map((r) => r.value)
  const value = { ...first!.value, next } as never
  switch (first!.type) {
    case "DynoMemory":
      return Wire.DynoMemory.encode(value).finish()
    case "DynoLoad":
      return Wire.DynoLoad.encode(value).finish()
    case "RouterRequest":
      return Wire.RouterRequest.encode(value).finish()
    case "ErrorCode":
      return Wire.ErrorCode.encode(value).finish()
    case "PlatformEvent":
      return Wire.PlatformEvent.encode(value).finish()
  }
}

/** How many measurements a record holds (decoded by the generated decoder). */
const countOf = (topic: string, value: Uint8Array): number => {
  const type = /([A-Z_]+)\.1$/.exec(topic)![1]!
  const decoder = {
    DYNO_MEMORY: Wire.DynoMemory,
    DYNO_LOAD: Wire.DynoLoad,
    ROUTER_REQUESTS: Wire.RouterRequest,
    ERRORS: Wire.ErrorCode,
    PLATFORM_EVENTS: Wire.PlatformEvent,
  }[type]!
  return 1 + (decoder.decode(value) as unknown as { next: Array<unknown> }).next.length
}

const delivery: Delivery = {
  owner: "3f0c7a52-7d1e-4c2a-9a57-0f6f1b2e9c11",
  drain: "d.5d6a0c9e-1b2f-4f3a-8e7d-6c5b4a392817",
  frameId: "0123456789abcdef0123456789abcdef",
  delivery: "a1b2c3d4e5f6-42",
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

const expectSame = (ms: ReadonlyArray<Measurement>, d: Delivery) => {
  const encoder = new RecordEncoder("p.")
  encoder.begin(d)
  for (const m of ms) encoder.add(m)
  const records = encoder.finish()
  // The keys in the order of their first measurement, each key's records one after another.
  const groups = new Map<string, Array<Measurement>>()
  for (const m of ms) {
    const id = `${m.type}\u0000${m.processType}`
    const g = groups.get(id) ?? []
    g.push(m)
    groups.set(id, g)
  }
  let i = 0
  for (const g of groups.values()) {
    let at = 0
    while (at < g.length) {
      const r = records[i++]!
      const m = g[at]!
      expect(r.key).toBe(`${d.owner}:${m.processType}`)
      expect(r.topic).toBe(`p.${m.type}.1`)
      const n = countOf(r.topic, r.value)
      const held = g.slice(at, at + n)
      expect(hex(r.value)).toBe(hex(reference(held, d)))
      expect(r.timestamp).toBe(Math.floor(Math.max(...held.map((x) => x.timeUs)) / 1000))
      // Split only past the size limit: a record holds one measurement more than fits, at most.
      if (at + n < g.length) expect(r.value.byteLength).toBeGreaterThan(MAX_RECORD_BYTES / 2)
      expect(r.value.byteLength - MAX_RECORD_BYTES).toBeLessThan(n === 1 ? 1 << 20 : 70_000)
      at += n
    }
  }
  expect(i).toBe(records.length)
  expect(toRecords(ms, d, "p.").map((r) => hex(r.value))).toEqual(records.map((r) => hex(r.value)))
}

const text = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ unit: "grapheme", minLength: 100, maxLength: 300 }),
  fc.string({ minLength: 120, maxLength: 20_000 }),
)
const maybe = (a: fc.Arbitrary<number>) => fc.option(a, { nil: undefined })
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 40), 12.5),
)
const base = {
  processType: text,
  dyno: text,
  timeUs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 53 - 1 })),
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const isWellFormed = (s: string) => !LONE_SURROGATE.test(s)
/** Well-formed text only: the parser's strings are decoded from UTF-8 (lone surrogates cannot occur). */
const wellFormed = (m: Measurement) => Object.values(m).every((v) => typeof v !== "string" || isWellFormed(v))
/** Absent, not undefined, as the parser leaves optional fields. */
const present = (o: object) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Measurement

/** Measurements with their optional fields undefined where absent (`present` removes them). */
const measurement: fc.Arbitrary<object> = fc.oneof(
  fc.record({
    type: fc.constant("DYNO_MEMORY" as const),
    ...base,
    memoryTotal: maybe(number),
    memoryRss: maybe(number),
    memoryCache: maybe(number),
    memorySwap: maybe(number),
    memoryPgpgin: maybe(number),
    memoryPgpgout: maybe(number),
    memoryQuota: maybe(number),
  }),
  fc.record({
    type: fc.constant("DYNO_LOAD" as const),
    ...base,
    loadAvg1m: maybe(number),
    loadAvg5m: maybe(number),
    loadAvg15m: maybe(number),
  }),
  fc.record({
    type: fc.constant("ROUTER_REQUESTS" as const),
    ...base,
    at: text,
    method: text,
    path: text,
    host: text,
    requestId: text,
    fwd: text,
    status: fc.oneof(fc.integer({ min: 0, max: 999 }), fc.integer()),
    connectMs: maybe(number),
    serviceMs: maybe(number),
    bytes: maybe(number),
    protocol: text,
    code: text,
    desc: text,
  }),
  fc.record({
    type: fc.constant("ERRORS" as const),
    ...base,
    code: text,
    count: number,
    description: text,
  }),
  fc.record({
    type: fc.constant("PLATFORM_EVENTS" as const),
    ...base,
    kind: fc.constantFrom("state", "crash", "restart", "scale", "release", "deploy", "config" as const),
    process: text,
    description: text,
    actor: text,
  }),
)

describe("RecordEncoder", () => {
  it("encodes every fixture measurement as the generated encoder does", () => {
    const all: Array<Measurement> = []
    for (const f of readdirSync(fixtures).filter((n) => n.endsWith(".body")))
      all.push(...parseBody(readFileSync(join(fixtures, f))).parser.measurements)
    expect(all.length).toBeGreaterThanOrEqual(16)
    expectSame(all, delivery)
    expectSame(all, { owner: "o", drain: "", frameId: "", delivery: "" })
  })

  it("encodes the load tool's drain bodies as the generated encoder does", () => {
    const fleet = makeFleet({ apps: 3, seed: 7 })
    const generator = new Generator(fleet, { poisonEvery: 5 })
    for (let i = 0; i < 30; i++) {
      const body = generator.body(i % 3, Date.UTC(2026, 10, 29, 12, 0, i), 200)
      const ms = parseBody(body.bytes).parser.measurements
      expect(ms.length).toBeGreaterThan(50)
      expectSame(ms, { ...delivery, delivery: `d-${i}` })
    }
  })

  it("encodes arbitrary measurements as the generated encoder does", () => {
    fc.assert(
      fc.property(
        fc.array(measurement.map(present).filter(wellFormed), { minLength: 1, maxLength: 12 }),
        text,
        (ms, frame) => expectSame(ms, { ...delivery, frameId: isWellFormed(frame) ? frame : "" }),
      ),
      { numRuns: 400 },
    )
  })

  it("toRecord is one record of a fresh encoder", () => {
    const [m] = parseBody(readFileSync(join(fixtures, "line-memory-2023.body"))).parser.measurements
    expect(hex(toRecord(m!, delivery).value)).toBe(hex(reference([m!], delivery)))
  })

  it("a record's value stays under the size limit, its key's measurements split over records in order", () => {
    const m = parseBody(readFileSync(join(fixtures, "line-memory-2023.body"))).parser.measurements[0]!
    const ms = Array.from({ length: 5000 }, (_, i) => ({ ...m, timeUs: m.timeUs + i }))
    const records = toRecords(ms, delivery)
    expect(records.length).toBeGreaterThan(2)
    for (const r of records) expect(r.value.byteLength).toBeLessThanOrEqual(MAX_RECORD_BYTES)
    expect(records.reduce((a, r) => a + countOf(r.topic, r.value), 0)).toBe(5000)
    expectSame(ms, delivery)
  })

  it("a record of the ingress clock carries it as its timestamp", () => {
    const ms = parseBody(readFileSync(join(fixtures, "line-memory-2023.body"))).parser.measurements
    for (const r of toRecords(ms, { ...delivery, receivedMs: 1234 })) expect(r.timestamp).toBe(1234)
  })
})
