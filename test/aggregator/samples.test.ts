/** The aggregator's hand decoder agrees with the generated protobuf decoder on any message. */
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

/** What the generated decoder says the samples are (the reference). */
const reference = (type: string, bytes: Uint8Array) => {
  const out: Array<[string, string, number, boolean]> = []
  const v = (m: string, l: string, x: number | null | undefined, s = false) => {
    if (x !== null && x !== undefined) out.push([m, l, x, s])
  }
  switch (type) {
    case "DYNO_MEMORY": {
      const m = Wire.DynoMemory.decode(bytes)
      for (const [name, x] of [
        ["memory_total", m.memoryTotal],
        ["memory_rss", m.memoryRss],
        ["memory_cache", m.memoryCache],
        ["memory_swap", m.memorySwap],
        ["memory_pgpgin", m.memoryPgpgin],
        ["memory_pgpgout", m.memoryPgpgout],
        ["memory_quota", m.memoryQuota],
      ] as const)
        v(name, "", x)
      return { out, origin: m.origin }
    }
    case "DYNO_LOAD": {
      const m = Wire.DynoLoad.decode(bytes)
      v("load_avg_1m", "", m.loadAvg_1m)
      v("load_avg_5m", "", m.loadAvg_5m)
      v("load_avg_15m", "", m.loadAvg_15m)
      return { out, origin: m.origin }
    }
    case "ROUTER_REQUESTS": {
      const m = Wire.RouterRequest.decode(bytes)
      v("router_status", String(m.status), 1)
      v("router_service_ms", "", m.serviceMs, true)
      v("router_connect_ms", "", m.connectMs, true)
      v("router_bytes", "", m.bytes)
      return { out, origin: m.origin }
    }
    default: {
      const m = Wire.ErrorCode.decode(bytes)
      v("errors", m.code, m.count)
      return { out, origin: m.origin }
    }
  }
}

const message = fc.oneof(
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

const encoders = {
  DYNO_MEMORY: Wire.DynoMemory,
  DYNO_LOAD: Wire.DynoLoad,
  ROUTER_REQUESTS: Wire.RouterRequest,
  ERRORS: Wire.ErrorCode,
}

describe("the aggregator's decoder", () => {
  it("yields the generated decoder's samples and origin for any message", () => {
    fc.assert(
      fc.property(message, ({ t, ...fields }) => {
        const bytes = (encoders[t] as unknown as { encode(m: object): { finish(): Uint8Array } })
          .encode(fields)
          .finish()
        const got: Array<[string, string, number, boolean]> = []
        const o = visitSamples(t, bytes, (m, l, x, s) => got.push([m, l, x, s]))
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
