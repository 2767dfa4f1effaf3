/**
 * Percentiles of a downsampled point stay within its exact [min, max] (a DDSketch bin's value may lie up
 * to 1% past the extremes: p95 came back 30040 with max 30000) and within 1% of the exact quantile.
 */
import fc from "fast-check"
import { assert, describe, it } from "vitest"
import { MergedSketch, Sketch } from "../../src/domain/Sketch.ts"
import { downsample } from "../../src/query/Downsample.ts"
import type { SummaryRow } from "../../src/store/Rows.ts"

/** One stored 1m rollup of `values` starting at `startMs`, with its sketch. */
const row = (startMs: number, values: ReadonlyArray<number>): SummaryRow => {
  const sketch = new Sketch()
  for (const v of values) sketch.add(v)
  return {
    owner: "o",
    processType: "web",
    metric: "router_service_ms",
    label: "",
    startMs,
    count: values.length,
    sum: values.reduce((a, v) => a + v, 0),
    sumsq: values.reduce((a, v) => a + v * v, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    sketch: sketch.toBytes(),
    version: 1,
  }
}

/** The exact value DDSketch's rank rule points at: the sorted value at floor(q * (n - 1)). */
const exact = (values: ReadonlyArray<number>, q: number) =>
  [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!

describe("downsample percentiles", () => {
  it("p50/p95/p99 of a point of 30000 ms requests are 30000, not the bin's 30040", () => {
    const values = Array.from({ length: 40 }, () => 30_000)
    const raw = new MergedSketch()
    raw.add(row(0, values).sketch)
    // The sketch alone overshoots the max (what the API answered before the clamp).
    assert.isAbove(raw.quantile(0.95), 30_000)
    const [point] = downsample([row(0, values)], 60_000, true)
    assert.strictEqual(point!.max, 30_000)
    assert.deepStrictEqual([point!.p50, point!.p95, point!.p99], [30_000, 30_000, 30_000])
  })

  it("every percentile lies in [min, max] and within 1% of the exact quantile, over merged rows", () => {
    const ms = fc.integer({ min: 1, max: 60_000 })
    fc.assert(
      fc.property(
        fc.array(fc.array(ms, { minLength: 1, maxLength: 50 }), { minLength: 1, maxLength: 10 }),
        (minutes) => {
          const rows = minutes.map((values, i) => row(i * 60_000, values))
          const all = minutes.flat()
          const [point] = downsample(rows, 10 * 60_000, true)
          assert.strictEqual(point!.min, Math.min(...all))
          assert.strictEqual(point!.max, Math.max(...all))
          for (const [q, p] of [
            [0.5, point!.p50],
            [0.95, point!.p95],
            [0.99, point!.p99],
          ] as const) {
            assert.isDefined(p)
            assert.isAtLeast(p!, point!.min)
            assert.isAtMost(p!, point!.max)
            const e = exact(all, q)
            assert.isAtMost(Math.abs(p! - e), e * 0.01 + 1e-9, `q ${q}: ${p} vs exact ${e}`)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
