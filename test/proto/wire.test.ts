import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Wire from "../../src/proto/Wire.ts"

const origin = {
  owner: "8c5a1b8e-1f3b-4a57-9c1e-2f0d8b4f1a23",
  processType: "web",
  dyno: "web.2",
  timeUs: 1_764_331_200_123_456,
  drain: "d.2a3c9d0e-5b3f-4b8e-9a51-6f7d0c2e4b11",
  frameId: "09f3ad8c6e2b4f1aa1d0b7e4c2f35a96",
  delivery: "ingress-1:42",
}

const samples = {
  DynoMemory: {
    origin,
    memoryTotal: 154.85,
    memoryRss: 139.79,
    memoryCache: 3.63,
    memorySwap: 11.43,
    memoryPgpgin: 80522,
    memoryPgpgout: 53004,
    memoryQuota: 512,
  },
  DynoLoad: { origin, loadAvg_1m: 0.01, loadAvg_5m: 0.02, loadAvg_15m: 0.03 },
  RouterRequest: {
    origin,
    at: "info",
    method: "GET",
    path: "/",
    host: "example.herokuapp.com",
    requestId: "3b5a2c1d-0000-4000-8000-000000000001",
    fwd: "10.0.0.1",
    status: 200,
    connectMs: 1,
    serviceMs: 22,
    bytes: 656,
    protocol: "https",
    code: "",
    desc: "",
  },
  ErrorCode: { origin, code: "L10", count: 3, description: "output buffer overflow" },
  PlatformEvent: {
    origin,
    kind: Wire.EventKind.EVENT_KIND_DEPLOY,
    process: "web",
    description: "Deploy 1a2b3c4 by user ada@example.com",
    actor: "ada@example.com",
  },
  Summary: {
    owner: origin.owner,
    processType: "web",
    metric: "router_service_ms",
    label: "",
    period: Wire.Period.PERIOD_15M,
    startMs: 1_764_331_200_000,
    count: 12,
    sum: 345.5,
    sumsq: 12345.25,
    min: 1,
    max: 99.5,
    sketch: new Uint8Array([1, 2, 3, 250]),
    version: 7,
  },
} as const

type Codec = {
  encode(m: object): { finish(): Uint8Array }
  decode(b: Uint8Array): object
  toObject(m: object, o?: object): Record<string, unknown>
}
const codecs = {
  DynoMemory: Wire.DynoMemory,
  DynoLoad: Wire.DynoLoad,
  RouterRequest: Wire.RouterRequest,
  ErrorCode: Wire.ErrorCode,
  PlatformEvent: Wire.PlatformEvent,
  Summary: Wire.Summary,
}
const codec = (name: keyof typeof samples) => codecs[name] as unknown as Codec

describe("wire format", () => {
  it.each(Object.keys(samples) as Array<keyof typeof samples>)(
    "%s survives encode and decode with every field",
    (name) => {
      const c = codec(name)
      const bytes = c.encode(samples[name]).finish()
      const back = c.toObject(c.decode(bytes), { defaults: true, bytes: Uint8Array })
      const want = c.toObject(c.decode(c.encode(samples[name]).finish()), {
        defaults: true,
        bytes: Uint8Array,
      })
      expect(back).toEqual(want)
      const plain = (o: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof Uint8Array ? [...v] : v]))
      expect(plain(back)).toMatchObject(plain(samples[name]))
    },
  )

  it("unset optional samples stay unset, unlike zero", () => {
    const bytes = Wire.DynoLoad.encode({ origin, loadAvg_1m: 0 }).finish()
    const back = Wire.DynoLoad.decode(bytes)
    expect(back.loadAvg_1m).toBe(0)
    expect(back.loadAvg_5m).toBeNull()
  })

  it("summaries round-trip for arbitrary values", () => {
    fc.assert(
      fc.property(
        fc.record({
          owner: fc.uuid(),
          processType: fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/),
          metric: fc.constantFrom("memory_rss", "router_service_ms", "errors"),
          label: fc.string({ maxLength: 8 }),
          startMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
          count: fc.nat(),
          sum: fc.double({ noNaN: true }),
          sumsq: fc.double({ noNaN: true, min: 0 }),
          min: fc.double({ noNaN: true }),
          max: fc.double({ noNaN: true }),
          sketch: fc.uint8Array({ maxLength: 64 }),
          version: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        }),
        (s) => {
          const decoded = Wire.Summary.decode(
            Wire.Summary.encode({ ...s, period: Wire.Period.PERIOD_1M }).finish(),
          )
          const back = Wire.Summary.toObject(decoded, { defaults: true })
          expect({ ...back, sketch: new Uint8Array(decoded.sketch) }).toEqual({
            ...s,
            period: Wire.Period.PERIOD_1M,
          })
        },
      ),
    )
  })

  it("the generated code matches proto/ (run `npm run proto` after editing a .proto)", () => {
    const out = mkdtempSync(join(tmpdir(), "tally-proto-"))
    execFileSync(process.execPath, ["scripts/proto.ts", "--out", out], { stdio: "pipe" })
    const committed = join(import.meta.dirname, "../../src/proto/generated")
    expect(readdirSync(out).sort()).toEqual(readdirSync(committed).sort())
    for (const file of readdirSync(out))
      expect(readFileSync(join(out, file), "utf8"), `${file} drifted from proto/`).toBe(
        readFileSync(join(committed, file), "utf8"),
      )
  })
})
