/**
 * The metric catalogue: every metric tally rolls up, its measurement type, unit and whether it keeps a
 * quantile sketch. The aggregator derives samples from it and the API answers from it.
 */
import type { RolledUpType } from "./MeasurementType.ts"

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

/** The catalogue's entry for `metric`, or undefined (own names only: never `constructor`, `__proto__`…). */
export const metricInfo = (metric: string) => (Object.hasOwn(METRICS, metric) ? METRICS[metric] : undefined)
