/**
 * The hand encoder (RecordEncoder) writes exactly what the generated protobuf encoder writes, for every
 * measurement of the shared fixtures and for arbitrary measurements (non-ASCII and long strings, absent
 * and zero fields, large and negative numbers), several records to one buffer.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Measurement } from "../../src/domain/Measurement.ts"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import { type Delivery, RecordEncoder, toRecord } from "../../src/ingress/Encode.ts"
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

/** The reference: the generated encoder (what the ingress used before the hand encoder). */
const reference = (m: Measurement, d: Delivery): Uint8Array => {
  const origin = {
    owner: d.owner,
    processType: m.processType,
    dyno: m.dyno,
    timeUs: m.timeUs,
    drain: d.drain,
    frameId: d.frameId,
    delivery: d.delivery,
  }
  switch (m.type) {
    case "DYNO_MEMORY":
      return Wire.DynoMemory.encode({
        origin,
        memoryTotal: m.memoryTotal ?? null,
        memoryRss: m.memoryRss ?? null,
        memoryCache: m.memoryCache ?? null,
        memorySwap: m.memorySwap ?? null,
        memoryPgpgin: m.memoryPgpgin ?? null,
        memoryPgpgout: m.memoryPgpgout ?? null,
        memoryQuota: m.memoryQuota ?? null,
      }).finish()
    case "DYNO_LOAD":
      return Wire.DynoLoad.encode({
        origin,
        loadAvg_1m: m.loadAvg1m ?? null,
        loadAvg_5m: m.loadAvg5m ?? null,
        loadAvg_15m: m.loadAvg15m ?? null,
      }).finish()
    case "ROUTER_REQUESTS":
      return Wire.RouterRequest.encode({
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
      }).finish()
    case "ERRORS":
      return Wire.ErrorCode.encode({
        origin,
        code: m.code,
        count: m.count,
        description: m.description,
      }).finish()
    case "PLATFORM_EVENTS":
      return Wire.PlatformEvent.encode({
        origin,
        kind: KINDS[m.kind],
        process: m.process,
        description: m.description,
        actor: m.actor,
      }).finish()
  }
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
  encoder.begin(d, 64) // a small first buffer: records spill into new ones
  const records = ms.map((m) => encoder.record(m))
  for (const [i, m] of ms.entries()) {
    expect(hex(records[i]!.value)).toBe(hex(reference(m, d)))
    expect(records[i]!.key).toBe(`${d.owner}:${m.processType}`)
    expect(records[i]!.topic).toBe(`p.${m.type}.1`)
    expect(records[i]!.timestamp).toBe(Math.floor(m.timeUs / 1000))
  }
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
    expect(hex(toRecord(m!, delivery).value)).toBe(hex(reference(m!, delivery)))
  })
})
