/**
 * The oracle: what the API must answer, known because the generator wrote every line. Bodies that got a
 * 204 are accepted (their samples count); a body given up after its last try, or one that may have been
 * counted more than once (no Frame-Id and retried), makes every rollup it touches indeterminate. Per app
 * and 1-minute window: count, sum, sumsq, min, max of each series, and for latencies the exact values
 * (value -> count) for p50/p95/p99. Poison lines are kept apart: they must count nowhere.
 */
import type { Body, ExpectedEvent, PoisonLine } from "./body.ts"
import type { Fleet } from "./fleet.ts"
import { METRICS, type Metric } from "./metrics.ts"
import { exactQuantile } from "./quantile.ts"

export interface Rollup {
  readonly processType: string
  readonly metric: Metric
  readonly label: string
  /** Window start, ms since the epoch (UTC minute). */
  readonly minute: number
  count: number
  sum: number
  sumsq: number
  min: number
  max: number
  /** Exact quantiles (sketched metrics only): sorted[floor(q * (n - 1))]. */
  p50?: number
  p95?: number
  p99?: number
}

/** `processType|metric|label|minute`: the key of a rollup within one app. */
export const rollupKey = (processType: string, metric: string, label: string, minute: number) =>
  `${processType}|${metric}|${label}|${minute}`

class Minute {
  readonly count: Float64Array
  readonly sum: Float64Array
  readonly sumsq: Float64Array
  readonly min: Float64Array
  readonly max: Float64Array
  readonly values = new Map<number, Map<number, number>>()

  constructor(size: number) {
    this.count = new Float64Array(size)
    this.sum = new Float64Array(size)
    this.sumsq = new Float64Array(size)
    this.min = new Float64Array(size).fill(Number.POSITIVE_INFINITY)
    this.max = new Float64Array(size).fill(Number.NEGATIVE_INFINITY)
  }
}

class AppTruth {
  readonly minutes = new Map<number, Minute>()
  /** `minute:slot` of rollups an uncertain body touched. */
  readonly indeterminate = new Set<string>()
  readonly events: Array<ExpectedEvent> = []
  readonly uncertainEvents: Array<ExpectedEvent> = []
  readonly poison: Array<PoisonLine> = []
  readonly uncertainPoison: Array<PoisonLine> = []
  lines = 0
}

/** What one app must show: determinate rollups, the keys of indeterminate ones, events, poison. */
export interface AppExpectation {
  readonly app: number
  readonly rollups: Map<string, Rollup>
  readonly indeterminate: Set<string>
  readonly events: ReadonlyArray<ExpectedEvent>
  /** Events of uncertain bodies: may or may not be stored. */
  readonly uncertainEvents: ReadonlyArray<ExpectedEvent>
  readonly poison: ReadonlyArray<PoisonLine>
  readonly uncertainPoison: ReadonlyArray<PoisonLine>
}

export class Oracle {
  readonly fleet: Fleet
  private readonly apps: Array<AppTruth>
  accepted = 0
  uncertain = 0

  constructor(fleet: Fleet) {
    this.fleet = fleet
    this.apps = fleet.apps.map(() => new AppTruth())
  }

  /** The body got a 204: every sample it carries counts once. */
  accept(body: Body): void {
    const truth = this.apps[body.app]!
    const series = this.fleet.apps[body.app]!.series
    const size = series.size
    let minute: Minute | undefined
    let minuteStart = Number.NaN
    for (let i = 0; i < body.samples; i++) {
      const start = body.minutes[i]!
      if (start !== minuteStart) {
        minuteStart = start
        minute = truth.minutes.get(start)
        if (!minute) truth.minutes.set(start, (minute = new Minute(size)))
      }
      const m = minute!
      const slot = body.slots[i]!
      const v = body.values[i]!
      m.count[slot]!++
      m.sum[slot]! += v
      m.sumsq[slot]! += v * v
      if (v < m.min[slot]!) m.min[slot] = v
      if (v > m.max[slot]!) m.max[slot] = v
      if (series.sketched(slot)) {
        let h = m.values.get(slot)
        if (!h) m.values.set(slot, (h = new Map()))
        h.set(v, (h.get(v) ?? 0) + 1)
      }
    }
    truth.events.push(...body.events)
    truth.poison.push(...body.poison)
    truth.lines += body.frames
    this.accepted++
  }

  /** The body may have counted partly, not at all, or (without a Frame-Id) more than once. */
  markUncertain(body: Body): void {
    const truth = this.apps[body.app]!
    for (let i = 0; i < body.samples; i++) truth.indeterminate.add(`${body.minutes[i]}:${body.slots[i]}`)
    truth.uncertainEvents.push(...body.events)
    truth.uncertainPoison.push(...body.poison)
    this.uncertain++
  }

  /** Lines of accepted bodies of `app`. */
  lines(app: number): number {
    return this.apps[app]!.lines
  }

  /** What `app` must show, materialised (exact quantiles computed here). */
  expectation(app: number): AppExpectation {
    const truth = this.apps[app]!
    const series = this.fleet.apps[app]!.series
    const rollups = new Map<string, Rollup>()
    const indeterminate = new Set<string>()
    for (const key of truth.indeterminate) {
      const [minute, slot] = key.split(":").map(Number) as [number, number]
      indeterminate.add(
        rollupKey(series.processType[slot]!, series.metric[slot]!, series.label[slot]!, minute),
      )
    }
    for (const [start, m] of truth.minutes)
      for (let slot = 0; slot < series.size; slot++) {
        if (m.count[slot] === 0) continue
        const metric = series.metric[slot]!
        const key = rollupKey(series.processType[slot]!, metric, series.label[slot]!, start)
        if (indeterminate.has(key)) continue
        const r: Rollup = {
          processType: series.processType[slot]!,
          metric,
          label: series.label[slot]!,
          minute: start,
          count: m.count[slot]!,
          sum: m.sum[slot]!,
          sumsq: m.sumsq[slot]!,
          min: m.min[slot]!,
          max: m.max[slot]!,
        }
        const h = m.values.get(slot)
        if (METRICS[metric].sketched && h) {
          r.p50 = exactQuantile(h, 0.5)
          r.p95 = exactQuantile(h, 0.95)
          r.p99 = exactQuantile(h, 0.99)
        }
        rollups.set(key, r)
      }
    return {
      app,
      rollups,
      indeterminate,
      events: truth.events,
      uncertainEvents: truth.uncertainEvents,
      poison: truth.poison,
      uncertainPoison: truth.uncertainPoison,
    }
  }
}
