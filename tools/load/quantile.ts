/**
 * The exact quantile the API's p50/p95/p99 are held to. DDSketch's getValueAtQuantile(q) takes
 * rank = q * (count - 1) and returns the value of the first bin whose running count exceeds the rank,
 * i.e. the bin of the sorted sample at index floor(rank) (0-based); its answer is within the sketch's
 * relative accuracy (1%) of that sample. So the exact reference is sorted[floor(q * (n - 1))], and a
 * value of 0 (DDSketch's zero bucket) must come back as 0.
 */

/** Exact quantile of values kept as value -> count. */
export const exactQuantile = (histogram: ReadonlyMap<number, number>, q: number): number => {
  let n = 0
  for (const c of histogram.values()) n += c
  if (n === 0) return Number.NaN
  const index = Math.floor(q * (n - 1))
  const keys = [...histogram.keys()].sort((a, b) => a - b)
  let running = 0
  for (const k of keys) {
    running += histogram.get(k)!
    if (running > index) return k
  }
  return keys[keys.length - 1]!
}

/** Within DDSketch's 1% relative accuracy of `exact` (plus float slack). */
export const withinSketchAccuracy = (got: number, exact: number): boolean =>
  Math.abs(got - exact) <= Math.abs(exact) * 0.01 * (1 + 1e-9) + 1e-9

/** Equal within 1e-9 relative: sums in another order differ in the last bits. */
export const closeEnough = (got: number, want: number): boolean =>
  got === want || Math.abs(got - want) <= 1e-9 * Math.max(Math.abs(got), Math.abs(want))
