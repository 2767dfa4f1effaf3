/**
 * The aggregator's hand decoder agrees with the generated protobuf decoder on any message: a record of
 * one measurement, or of several (the first, then `next`, whose origins hold only dyno and time).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { visitSamples } from "../../src/aggregator/Samples.ts"
import * as Wire from "../../src/proto/Wire.ts"

const origin = fc.record({
  owner: fc.uuid(),
  processType: fc.string({ maxLength: 12 }),
  dyno: fc.string({ maxLength: 12 }),
  timeUs: fc.integer({ min: 0, max: 4_102_444_800_000_000 }),
  drain: fc.string({ maxLength: 40 }),
  frameId: fc.string({ maxLength: 32 }),
  delivery: fc.string({ maxLength: 20 }),
})
const maybe = <A>(a: fc.Arbitrary<A>) => fc.option(a, { nil: null })
const num = fc.double({ noNaN: true, noDefaultInfinity: true })

const decoders = {
  DYNO_MEMORY: Wire.DynoMemory,
  DYNO_LOAD: Wire.DynoLoad,
  ROUTER_REQUESTS: Wire.RouterRequest,
  ERRORS: Wire.ErrorCode,
}

/** What the generated decoder says the samples are (the reference), with each measurement's time. */
const reference = (type: string, bytes: Uint8Array) => {
  const out: Array<[string, string, number, boolean, number]> = []
  type Any = Record<string, unknown> & { origin?: { timeUs?: number } | null; next: Array<Any> }
  const visit = (m: Any) => {
    const t = m.origin?.timeUs ?? 0
    const v = (name: string, l: string, x: unknown, s = false) => {
      if (x !== null && x !== undefined) out.push([name, l, x as number, s, t])
    }
    switch (type) {
      case "DYNO_MEMORY":
        for (const [name, f] of [
          ["memory_total", "memoryTotal"],
          ["memory_rss", "memoryRss"],
          ["memory_cache", "memoryCache"],
          ["memory_swap", "memorySwap"],
          ["memory_pgpgin", "memoryPgpgin"],
          ["memory_pgpgout", "memoryPgpgout"],
          ["memory_quota", "memoryQuota"],
        ] as const)
          v(name, "", m[f])
        break
      case "DYNO_LOAD":
        v("load_avg_1m", "", m.loadAvg_1m)
        v("load_avg_5m", "", m.loadAvg_5m)
        v("load_avg_15m", "", m.loadAvg_15m)
        break
      case "ROUTER_REQUESTS":
        v("router_status", String(m.status), 1)
        v("router_service_ms", "", m.serviceMs, true)
        v("router_connect_ms", "", m.connectMs, true)
        v("router_bytes", "", m.bytes)
        break
      default:
        v("errors", m.code as string, m.count)
    }
  }
  const m = (decoders[type as keyof typeof decoders] as unknown as { decode(b: Uint8Array): Any }).decode(
    bytes,
  )
  visit(m)
  for (const n of m.next) visit(n)
  return { out, origin: m.origin as Wire.Origin }
}

/** Further measurements of a record: the same fields, an origin of only dyno and time. */
const further = (fields: fc.Arbitrary<Record<string, unknown>>) =>
  fc.array(
    fc
      .tuple(
        fields,
        fc.record({
          dyno: fc.string({ maxLength: 12 }),
          timeUs: fc.integer({ min: 0, max: 4_102_444_800_000_000 }),
        }),
      )
      .map(([f, o]) => ({ ...f, t: undefined, origin: o, next: [] })),
    { maxLength: 4 },
  )

const one = fc.oneof(
  fc.record({
    origin,
    t: fc.constant("DYNO_MEMORY" as const),
    memoryTotal: maybe(num),
    memoryRss: maybe(num),
    memoryCache: maybe(num),
    memorySwap: maybe(num),
    memoryPgpgin: maybe(num),
    memoryPgpgout: maybe(num),
    memoryQuota: maybe(num),
  }),
  fc.record({
    origin,
    t: fc.constant("DYNO_LOAD" as const),
    loadAvg_1m: maybe(num),
    loadAvg_5m: maybe(num),
    loadAvg_15m: maybe(num),
  }),
  fc.record({
    origin,
    t: fc.constant("ROUTER_REQUESTS" as const),
    at: fc.string(),
    method: fc.string(),
    path: fc.string({ maxLength: 200 }),
    host: fc.string(),
    requestId: fc.string(),
    fwd: fc.string(),
    status: fc.integer({ min: 0, max: 599 }),
    connectMs: maybe(num),
    serviceMs: maybe(num),
    bytes: maybe(fc.integer({ min: 0, max: 2 ** 40 })),
    protocol: fc.string(),
    code: fc.string(),
    desc: fc.string(),
  }),
  fc.record({
    origin,
    t: fc.constant("ERRORS" as const),
    code: fc.string({ maxLength: 4 }),
    count: fc.integer({ min: 0, max: 2 ** 40 }),
    description: fc.string(),
  }),
)

const message = one.chain((m) =>
  further(one.filter((x) => x.t === m.t) as fc.Arbitrary<Record<string, unknown>>).map((next) => ({
    ...m,
    next: next.map(({ t: _t, ...rest }) => rest),
  })),
)

describe("the aggregator's decoder", () => {
  it("yields the generated decoder's samples and origin for any message", () => {
    fc.assert(
      fc.property(message, ({ t, ...fields }) => {
        const bytes = (decoders[t] as unknown as { encode(m: object): { finish(): Uint8Array } })
          .encode(fields)
          .finish()
        const got: Array<[string, string, number, boolean, number]> = []
        const o = visitSamples(t, bytes, (m, l, x, s, time) => got.push([m, l, x, s, time]))
        const want = reference(t, bytes)
        expect(got).toEqual(want.out)
        expect(o).toEqual({
          owner: want.origin.owner,
          processType: want.origin.processType,
          timeUs: want.origin.timeUs,
          drain: want.origin.drain,
          frameId: want.origin.frameId,
          delivery: want.origin.delivery,
        })
      }),
      { numRuns: 2000 },
    )
  })
})
