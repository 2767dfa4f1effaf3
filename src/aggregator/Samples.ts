/**
 * What each raw measurement contributes to rollups: (metric, label, value) samples, and whether the
 * metric keeps a quantile sketch. One table, shared by the aggregator, the oracle in tests and the API.
 */
import type { RolledUpType } from "../domain/MeasurementType.ts"
import * as Wire from "../proto/Wire.ts"

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

const present = (v: number | null | undefined): v is number => v !== null && v !== undefined

/** Decodes one raw record of `type` and visits its samples; returns its Origin. */
export const visitSamples = (type: RolledUpType, value: Uint8Array, visit: Visit): Wire.Origin => {
  switch (type) {
    case "DYNO_MEMORY": {
      const m = Wire.DynoMemory.decode(value)
      if (present(m.memoryTotal)) visit("memory_total", "", m.memoryTotal, false)
      if (present(m.memoryRss)) visit("memory_rss", "", m.memoryRss, false)
      if (present(m.memoryCache)) visit("memory_cache", "", m.memoryCache, false)
      if (present(m.memorySwap)) visit("memory_swap", "", m.memorySwap, false)
      if (present(m.memoryPgpgin)) visit("memory_pgpgin", "", m.memoryPgpgin, false)
      if (present(m.memoryPgpgout)) visit("memory_pgpgout", "", m.memoryPgpgout, false)
      if (present(m.memoryQuota)) visit("memory_quota", "", m.memoryQuota, false)
      return m.origin
    }
    case "DYNO_LOAD": {
      const m = Wire.DynoLoad.decode(value)
      if (present(m.loadAvg_1m)) visit("load_avg_1m", "", m.loadAvg_1m, false)
      if (present(m.loadAvg_5m)) visit("load_avg_5m", "", m.loadAvg_5m, false)
      if (present(m.loadAvg_15m)) visit("load_avg_15m", "", m.loadAvg_15m, false)
      return m.origin
    }
    case "ROUTER_REQUESTS": {
      const m = Wire.RouterRequest.decode(value)
      visit("router_status", statusLabel(m.status), 1, false)
      if (present(m.serviceMs)) visit("router_service_ms", "", m.serviceMs, true)
      if (present(m.connectMs)) visit("router_connect_ms", "", m.connectMs, true)
      if (present(m.bytes)) visit("router_bytes", "", m.bytes, false)
      return m.origin
    }
    case "ERRORS": {
      const m = Wire.ErrorCode.decode(value)
      visit("errors", m.code, m.count, false)
      return m.origin
    }
  }
}
