/**
 * The metric catalogue as DESIGN.md and the README's API section state it, written down here on purpose
 * (the load tool never imports src's parsing or rollup code): each metric's unit and whether the API
 * answers p50/p95/p99 for it.
 */
export const METRICS = {
  memory_total: { unit: "MB", sketched: false },
  memory_rss: { unit: "MB", sketched: false },
  memory_cache: { unit: "MB", sketched: false },
  memory_swap: { unit: "MB", sketched: false },
  memory_pgpgin: { unit: "pages", sketched: false },
  memory_pgpgout: { unit: "pages", sketched: false },
  memory_quota: { unit: "MB", sketched: false },
  load_avg_1m: { unit: "load", sketched: false },
  load_avg_5m: { unit: "load", sketched: false },
  load_avg_15m: { unit: "load", sketched: false },
  router_service_ms: { unit: "ms", sketched: true },
  router_connect_ms: { unit: "ms", sketched: true },
  router_bytes: { unit: "bytes", sketched: false },
  router_status: { unit: "requests", sketched: false },
  errors: { unit: "errors", sketched: false },
} as const

export type Metric = keyof typeof METRICS
export const METRIC_NAMES = Object.keys(METRICS) as ReadonlyArray<Metric>

/** `sample#<name>` keys of runtime-metric lines, in the order Heroku prints them. */
export const MEMORY_METRICS = [
  "memory_total",
  "memory_rss",
  "memory_cache",
  "memory_swap",
  "memory_pgpgin",
  "memory_pgpgout",
  "memory_quota",
] as const satisfies ReadonlyArray<Metric>
export const LOAD_METRICS = [
  "load_avg_1m",
  "load_avg_5m",
  "load_avg_15m",
] as const satisfies ReadonlyArray<Metric>

/** What each kind of platform event is called in the events API. */
export type EventKind = "state" | "crash" | "restart" | "scale" | "release" | "deploy" | "config"

/**
 * Rollup series of one app: (process type, metric, label) interned to a small integer, so that what a
 * line contributes is recorded as (slot, minute, value) without building a string per sample.
 */
export class SeriesTable {
  readonly processType: Array<string> = []
  readonly metric: Array<Metric> = []
  readonly label: Array<string> = []
  private readonly ids = new Map<string, number>()

  id(processType: string, metric: Metric, label = ""): number {
    const key = `${processType}\u0000${metric}\u0000${label}`
    let id = this.ids.get(key)
    if (id === undefined) {
      id = this.metric.length
      this.ids.set(key, id)
      this.processType.push(processType)
      this.metric.push(metric)
      this.label.push(label)
    }
    return id
  }

  get size(): number {
    return this.metric.length
  }

  sketched(slot: number): boolean {
    return METRICS[this.metric[slot]!].sketched
  }
}
