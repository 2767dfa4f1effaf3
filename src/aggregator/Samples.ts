/**
 * What each raw measurement contributes to rollups: (metric, label, value) samples, and whether the
 * metric keeps a quantile sketch. One table, shared by the aggregator, the oracle in tests and the API.
 */
import type { RolledUpType } from "../domain/MeasurementType.ts"
import "../proto/Wire.ts" // 64-bit fields as numbers (configures protobufjs before any decode)
import protobuf from "protobufjs/minimal.js"

export type Visit = (metric: string, label: string, value: number, sketched: boolean) => void

/** The metrics of each type, with units (DESIGN.md: memory in MB or pages, router times in ms). */
export const METRICS: Readonly<
  Record<string, { readonly type: RolledUpType; readonly unit: string; readonly sketched: boolean }>
> = {
  memory_total: { type: "DYNO_MEMORY", unit: "MB", sketched: false },
  memory_rss: { type: "DYNO_MEMORY", unit: "MB", sketched: false },
  memory_cache: { type: "DYNO_MEMORY", unit: "MB", sketched: false },
  memory_swap: { type: "DYNO_MEMORY", unit: "MB", sketched: false },
  memory_pgpgin: { type: "DYNO_MEMORY", unit: "pages", sketched: false },
  memory_pgpgout: { type: "DYNO_MEMORY", unit: "pages", sketched: false },
  memory_quota: { type: "DYNO_MEMORY", unit: "MB", sketched: false },
  load_avg_1m: { type: "DYNO_LOAD", unit: "load", sketched: false },
  load_avg_5m: { type: "DYNO_LOAD", unit: "load", sketched: false },
  load_avg_15m: { type: "DYNO_LOAD", unit: "load", sketched: false },
  router_service_ms: { type: "ROUTER_REQUESTS", unit: "ms", sketched: true },
  router_connect_ms: { type: "ROUTER_REQUESTS", unit: "ms", sketched: true },
  router_bytes: { type: "ROUTER_REQUESTS", unit: "bytes", sketched: false },
  router_status: { type: "ROUTER_REQUESTS", unit: "requests", sketched: false },
  errors: { type: "ERRORS", unit: "errors", sketched: false },
}

const statusLabels = new Map<number, string>()
const statusLabel = (status: number) => {
  let label = statusLabels.get(status)
  if (label === undefined) {
    label = String(status)
    statusLabels.set(status, label)
  }
  return label
}

/** The parts of an Origin the aggregator needs. */
export interface OriginView {
  readonly owner: string
  readonly processType: string
  readonly timeUs: number
  readonly drain: string
  readonly frameId: string
  readonly delivery: string
}

// A hand decoder over protobufjs' Reader: it reads only what rollups need and skips the rest (router
// paths, request ids, descriptions...), which is most of the bytes. test/aggregator/samples.test.ts
// holds it to the generated decoder on random messages.
const VARINT = 0
const FIXED64 = 1
const LENGTH = 2

const readOrigin = (r: protobuf.Reader, end: number): OriginView => {
  let owner = ""
  let processType = ""
  let timeUs = 0
  let drain = ""
  let frameId = ""
  let delivery = ""
  while (r.pos < end) {
    const tag = r.uint32()
    switch (tag >>> 3) {
      case 1:
        owner = r.string()
        break
      case 2:
        processType = r.string()
        break
      case 4:
        timeUs = r.int64() as unknown as number
        break
      case 5:
        drain = r.string()
        break
      case 6:
        frameId = r.string()
        break
      case 7:
        delivery = r.string()
        break
      default:
        r.skipType(tag & 7)
    }
  }
  return { owner, processType, timeUs, drain, frameId, delivery }
}

const NO_ORIGIN: OriginView = { owner: "", processType: "", timeUs: 0, drain: "", frameId: "", delivery: "" }
const MEMORY_FIELDS = [
  "",
  "",
  "memory_total",
  "memory_rss",
  "memory_cache",
  "memory_swap",
  "memory_pgpgin",
  "memory_pgpgout",
  "memory_quota",
]
const LOAD_FIELDS = ["", "", "load_avg_1m", "load_avg_5m", "load_avg_15m"]

/** Decodes one raw record of `type` and visits its samples; returns its origin. */
export const visitSamples = (type: RolledUpType, value: Uint8Array, visit: Visit): OriginView => {
  const r = protobuf.Reader.create(value)
  let origin = NO_ORIGIN
  switch (type) {
    case "DYNO_MEMORY":
    case "DYNO_LOAD": {
      const names = type === "DYNO_MEMORY" ? MEMORY_FIELDS : LOAD_FIELDS
      while (r.pos < r.len) {
        const tag = r.uint32()
        const field = tag >>> 3
        if (field === 1 && (tag & 7) === LENGTH) origin = readOrigin(r, r.uint32() + r.pos)
        else if (field < names.length && (tag & 7) === FIXED64) visit(names[field]!, "", r.double(), false)
        else r.skipType(tag & 7)
      }
      return origin
    }
    case "ROUTER_REQUESTS": {
      let status = 0
      let service: number | undefined
      let connect: number | undefined
      let bytes: number | undefined
      while (r.pos < r.len) {
        const tag = r.uint32()
        switch (tag >>> 3) {
          case 1:
            origin = readOrigin(r, r.uint32() + r.pos)
            break
          case 8:
            status = r.uint32()
            break
          case 9:
            connect = r.double()
            break
          case 10:
            service = r.double()
            break
          case 11:
            bytes = r.uint64() as unknown as number
            break
          default:
            r.skipType(tag & 7)
        }
      }
      visit("router_status", statusLabel(status), 1, false)
      if (service !== undefined) visit("router_service_ms", "", service, true)
      if (connect !== undefined) visit("router_connect_ms", "", connect, true)
      if (bytes !== undefined) visit("router_bytes", "", bytes, false)
      return origin
    }
    case "ERRORS": {
      let code = ""
      let count = 0
      while (r.pos < r.len) {
        const tag = r.uint32()
        const field = tag >>> 3
        if (field === 1 && (tag & 7) === LENGTH) origin = readOrigin(r, r.uint32() + r.pos)
        else if (field === 2) code = r.string()
        else if (field === 3 && (tag & 7) === VARINT) count = r.uint64() as unknown as number
        else r.skipType(tag & 7)
      }
      visit("errors", code, count, false)
      return origin
    }
  }
}
