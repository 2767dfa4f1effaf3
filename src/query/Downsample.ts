/**
 * On-demand downsampling: stored rollups merged into step buckets, exactly. Counts, sums and sums of
 * squares add; min and max fold; sketches merge (p50/p95/p99 within the sketch's 1% relative accuracy,
 * clamped to the point's [min, max]: a bin's representative value may lie past the exact extremes).
 * Steps that are multiples of 15 minutes read the 15m rollups, others the 1m rollups.
 */

import type { Step } from "../api/Metrics.ts"
import { MergedSketch } from "../domain/Sketch.ts"
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../domain/Time.ts"
import type { PeriodName } from "../store/Schema.ts"
import type { SummaryRow } from "../store/SummaryStore.ts"

export const STEP_MS: Readonly<Record<Step, number>> = {
  "1m": MINUTE_MS,
  "5m": 5 * MINUTE_MS,
  "10m": 10 * MINUTE_MS,
  "15m": 15 * MINUTE_MS,
  "1h": HOUR_MS,
  "1d": DAY_MS,
}

export const periodFor = (step: Step): PeriodName => (STEP_MS[step] % 900_000 === 0 ? "15m" : "1m")

export interface PointOut {
  readonly time: string
  readonly count: number
  readonly sum: number
  readonly sumsq: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly stddev: number
  readonly p50?: number
  readonly p95?: number
  readonly p99?: number
}

interface Bucket {
  count: number
  sum: number
  sumsq: number
  min: number
  max: number
  sketch: MergedSketch | undefined
}

/** Merges rows (of one series) into buckets of `stepMs`, in time order. */
export const downsample = (
  rows: ReadonlyArray<SummaryRow>,
  stepMs: number,
  sketched: boolean,
): Array<PointOut> => {
  const buckets = new Map<number, Bucket>()
  for (const r of rows) {
    const t = r.startMs - (r.startMs % stepMs)
    let b = buckets.get(t)
    if (!b) {
      b = {
        count: 0,
        sum: 0,
        sumsq: 0,
        min: Number.POSITIVE_INFINITY,
        max: Number.NEGATIVE_INFINITY,
        sketch: undefined,
      }
      buckets.set(t, b)
    }
    b.count += r.count
    b.sum += r.sum
    b.sumsq += r.sumsq
    if (r.min < b.min) b.min = r.min
    if (r.max > b.max) b.max = r.max
    if (sketched && r.sketch.length > 0) {
      b.sketch ??= new MergedSketch()
      b.sketch.add(r.sketch)
    }
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([t, b]) => {
      const mean = b.count === 0 ? 0 : b.sum / b.count
      const variance = b.count === 0 ? 0 : Math.max(0, b.sumsq / b.count - mean * mean)
      const point: PointOut = {
        time: new Date(t).toISOString(),
        count: b.count,
        sum: b.sum,
        sumsq: b.sumsq,
        min: b.min,
        max: b.max,
        mean,
        stddev: Math.sqrt(variance),
      }
      const sketch = b.sketch
      if (!sketched || !sketch || sketch.count === 0) return point
      // Clamped: no percentile is below the exact min or above the exact max of its point.
      const at = (q: number) => Math.min(b.max, Math.max(b.min, sketch.quantile(q)))
      return { ...point, p50: at(0.5), p95: at(0.95), p99: at(0.99) }
    })
}

export interface Range {
  readonly fromMs: number
  readonly toMs: number
  readonly step: Step
  readonly stepMs: number
}

const MAX_RANGE_MS = 31 * DAY_MS

/** How far back a read goes when `from` is not given (from `to`, or now). */
export const DEFAULT_RANGE_MS = 2 * HOUR_MS

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

/** An instant given as ISO 8601, or a reason naming the parameter. */
const instant = (name: "from" | "to", text: string, example: string): number | string => {
  const ms = ISO.test(text) ? Date.parse(text) : Number.NaN
  return Number.isNaN(ms)
    ? `${name} must be an ISO 8601 instant such as ${example}; got ${JSON.stringify(text)}`
    : ms
}

/**
 * Validates and completes from/to/step (what the read endpoints promise, in OpenAPI and the README):
 * - `step` defaults to 1m; `to` to now, `from` to 2 hours before (the aligned) `to`;
 * - both are aligned to the step for the caller, outward (UTC): `from` down to the start of its step,
 *   `to` up to the end of its step, so the answer covers at least what was asked;
 * - `from` must be before `to`, and they may be at most 31 days apart (before alignment).
 * Returns a reason (the 400's message) or the aligned range.
 */
export const parseRange = (
  from: string | undefined,
  to: string | undefined,
  step: string | undefined,
  nowMs: number,
): Range | string => {
  const s = (step ?? "1m") as Step
  if (!Object.hasOwn(STEP_MS, s))
    return `step must be one of ${Object.keys(STEP_MS).join(", ")}; got ${JSON.stringify(step)}`
  const stepMs = STEP_MS[s]
  const toRaw = to === undefined || to === "" ? nowMs : instant("to", to, "2026-11-28T14:00:00Z")
  if (typeof toRaw === "string") return toRaw
  const toMs = Math.ceil(toRaw / stepMs) * stepMs
  // Without `from`: the 2 hours before the aligned end (2 hours of 1m steps), or before `to` itself when
  // a step is longer than that.
  const defaulted = from === undefined || from === ""
  const fromRaw = defaulted
    ? toMs - DEFAULT_RANGE_MS < toRaw
      ? toMs - DEFAULT_RANGE_MS
      : toRaw - DEFAULT_RANGE_MS
    : instant("from", from, "2026-11-28T12:00:00Z")
  if (typeof fromRaw === "string") return fromRaw
  if (!defaulted && fromRaw >= toRaw) return "from must be before to"
  if (toRaw - fromRaw > MAX_RANGE_MS)
    return "from and to may be at most 31 days apart; ask for less, in several reads"
  const fromMs = Math.floor(fromRaw / stepMs) * stepMs
  return { fromMs, toMs, step: s, stepMs }
}
