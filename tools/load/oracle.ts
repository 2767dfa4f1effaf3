/**
 * The oracle: what the API must answer, known because the generator wrote every line. Bodies that got a
 * 204 are accepted (their samples count); a body given up after its last try, or one that may have been
 * counted more than once (no Frame-Id and retried), makes every rollup it touches indeterminate. Per app
 * and 1-minute window: count, sum, sumsq, min, max of each series, and for latencies the exact values
 * (value -> count) for p50/p95/p99. Poison lines are kept apart: they must count nowhere.
 *
 * Optionally (OracleOptions) also the 15-minute windows, and late lines judged by the lateness rule
 * (lateness.ts): a sample counts in a period's window only if certainly on time; certainly too late, it
 * is counted as dropped (and its minute must show nothing of it); unknown, its rollup is indeterminate.
 */
import type { Body, ExpectedEvent, PoisonLine } from "./body.ts"
import type { Fleet } from "./fleet.ts"
import { COUNTS, DROPPED, type Lateness, PERIOD_MS, RECORD_METRIC, TYPES } from "./lateness.ts"
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
  /** The same for 15-minute windows (`quarter start:slot`), when the oracle keeps them. */
  readonly quarters = new Map<number, Minute>()
  readonly indeterminate15 = new Set<string>()
  /** Samples certainly too late, per period, and the records among them per type (RECORD_METRIC). */
  readonly dropped = [0, 0]
  readonly droppedRecords: Array<Record<string, number>> = [{}, {}]
  /** Time range of the samples certainly too late (their windows must show nothing of them). */
  droppedFromMs = Number.POSITIVE_INFINITY
  droppedToMs = Number.NEGATIVE_INFINITY
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
  /** 15-minute rollups (keys carry the window start), when the oracle keeps them. */
  readonly rollups15?: Map<string, Rollup>
  readonly indeterminate15?: Set<string>
  /** Times that must be read too: where too-late samples would show, were they stored. */
  readonly span?: { readonly fromMs: number; readonly toMs: number }
  /** Compare only windows that end by this time (a live check while the load goes on); default all. */
  readonly until?: number
}

export interface OracleOptions {
  /** Also keep the 15-minute windows (default false). */
  readonly quarters?: boolean
  /** Judge each sample by the lateness rule (default: every sample of an acknowledged body counts). */
  readonly lateness?: Lateness
}

/** Merges one sample into a window's accumulators. */
const add = (m: Minute, slot: number, v: number, sketched: boolean) => {
  m.count[slot]!++
  m.sum[slot]! += v
  m.sumsq[slot]! += v * v
  if (v < m.min[slot]!) m.min[slot] = v
  if (v > m.max[slot]!) m.max[slot] = v
  if (sketched) {
    let h = m.values.get(slot)
    if (!h) m.values.set(slot, (h = new Map()))
    h.set(v, (h.get(v) ?? 0) + 1)
  }
}

export class Oracle {
  readonly fleet: Fleet
  private readonly apps: Array<AppTruth>
  private readonly quarters: boolean
  private readonly lateness: Lateness | undefined
  accepted = 0
  uncertain = 0

  constructor(fleet: Fleet, options: OracleOptions = {}) {
    this.fleet = fleet
    this.apps = fleet.apps.map(() => new AppTruth())
    this.quarters = options.quarters ?? false
    this.lateness = options.lateness
  }

  /** The body was made and is about to be sent for the first time. */
  sent(body: Body): void {
    this.lateness?.made(body)
  }

  /** Samples certainly too late so far, per period (0: 1m, 1: 15m), all apps. */
  droppedSamples(period: 0 | 1): number {
    return this.apps.reduce((a, t) => a + t.dropped[period]!, 0)
  }

  /** Records certainly too late so far, of `app` (all apps when undefined), per period and type. */
  droppedRecords(period: 0 | 1, app?: number): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [i, t] of this.apps.entries())
      if (app === undefined || app === i)
        for (const [k, v] of Object.entries(t.droppedRecords[period]!)) out[k] = (out[k] ?? 0) + v
    return out
  }

  private drop(truth: AppTruth, body: Body, i: number, period: 0 | 1): void {
    truth.dropped[period]!++
    const metric = this.fleet.apps[body.app]!.series.metric[body.slots[i]!]!
    for (const type of TYPES)
      if (RECORD_METRIC[type] === metric)
        truth.droppedRecords[period]![type] = (truth.droppedRecords[period]![type] ?? 0) + 1
    const t = body.times[i]!
    if (t < truth.droppedFromMs) truth.droppedFromMs = t
    if (t > truth.droppedToMs) truth.droppedToMs = t
  }

  /** The general path: each sample judged per period. */
  private acceptJudged(body: Body, truth: AppTruth, ackMs: number): void {
    const series = this.fleet.apps[body.app]!.series
    const size = series.size
    const lateness = this.lateness
    const periods = this.quarters ? 2 : 1
    for (let i = 0; i < body.samples; i++) {
      const slot = body.slots[i]!
      const v = body.values[i]!
      for (let p = 0; p < periods; p++) {
        const period = p as 0 | 1
        const verdict = lateness ? lateness.judge(body, i, period, ackMs) : COUNTS
        const start = period === 0 ? body.minutes[i]! : body.minutes[i]! - (body.minutes[i]! % PERIOD_MS[1])
        if (verdict === DROPPED) {
          this.drop(truth, body, i, period)
          continue
        }
        if (verdict !== COUNTS) {
          ;(period === 0 ? truth.indeterminate : truth.indeterminate15).add(`${start}:${slot}`)
          continue
        }
        const windows = period === 0 ? truth.minutes : truth.quarters
        let m = windows.get(start)
        if (!m) windows.set(start, (m = new Minute(size)))
        add(m, slot, v, series.sketched(slot))
      }
    }
    lateness?.acknowledged(body)
  }

  /** The body got a 204 (on try `_tries`): every sample it carries counts once (by the lateness rule, when judged). */
  accept(body: Body, _tries = 1): void {
    if (this.lateness || this.quarters) {
      const truth = this.apps[body.app]!
      this.acceptJudged(body, truth, Date.now())
      truth.events.push(...body.events)
      truth.poison.push(...body.poison)
      truth.lines += body.frames
      this.accepted++
      return
    }
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
  markUncertain(body: Body, _tries = 1): void {
    const truth = this.apps[body.app]!
    const lateness = this.lateness
    for (let i = 0; i < body.samples; i++) {
      // Only what is certainly too late, whenever it arrived, is known not to count.
      if (lateness?.judge(body, i, 0, Number.POSITIVE_INFINITY) !== DROPPED)
        truth.indeterminate.add(`${body.minutes[i]}:${body.slots[i]}`)
      if (this.quarters && lateness?.judge(body, i, 1, Number.POSITIVE_INFINITY) !== DROPPED)
        truth.indeterminate15.add(`${body.minutes[i]! - (body.minutes[i]! % PERIOD_MS[1])}:${body.slots[i]}`)
    }
    lateness?.forget(body)
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
    const { rollups, indeterminate } = this.materialise(app, truth.minutes, truth.indeterminate)
    const quarters = this.quarters ? this.materialise(app, truth.quarters, truth.indeterminate15) : undefined
    return {
      app,
      rollups,
      indeterminate,
      events: truth.events,
      uncertainEvents: truth.uncertainEvents,
      poison: truth.poison,
      uncertainPoison: truth.uncertainPoison,
      ...(quarters ? { rollups15: quarters.rollups, indeterminate15: quarters.indeterminate } : {}),
      ...(truth.droppedFromMs <= truth.droppedToMs
        ? { span: { fromMs: truth.droppedFromMs, toMs: truth.droppedToMs } }
        : {}),
    }
  }

  private materialise(
    app: number,
    windows: ReadonlyMap<number, Minute>,
    uncertain: ReadonlySet<string>,
  ): { rollups: Map<string, Rollup>; indeterminate: Set<string> } {
    const series = this.fleet.apps[app]!.series
    const rollups = new Map<string, Rollup>()
    const indeterminate = new Set<string>()
    for (const key of uncertain) {
      const [minute, slot] = key.split(":").map(Number) as [number, number]
      indeterminate.add(
        rollupKey(series.processType[slot]!, series.metric[slot]!, series.label[slot]!, minute),
      )
    }
    for (const [start, m] of windows)
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
    return { rollups, indeterminate }
  }
}
