import { DDSketch } from "@datadog/sketches-js"
import fc from "fast-check"
import { assert, describe, expect, it } from "vitest"
import { Series, Sketch, Stats, sketchFromBytes } from "../../src/stream/Accumulators.ts"

describe("accumulators", () => {
  it("stats: count, min, max exact and sums to 1e-9 of plain arithmetic over the values, added or merged", () => {
    const value = fc.oneof(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.integer({ min: -1000, max: 1000 }),
    )
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), fc.array(value, { maxLength: 300 }), (a, b) => {
        const values = [...a, ...b]
        // The oracle: plain arithmetic over the values, independent of Stats.
        let sum = 0
        let sumsq = 0
        let magnitude = 0
        for (const v of values) {
          sum += v
          sumsq += v * v
          magnitude += Math.abs(v)
        }
        const one = new Stats()
        for (const v of values) one.add(v)
        const left = new Stats()
        const right = new Stats()
        for (const v of a) left.add(v)
        for (const v of b) right.add(v)
        left.merge(right)
        left.merge(new Stats())
        for (const s of [one, left]) {
          assert.strictEqual(s.count, values.length)
          assert.strictEqual(s.min, Math.min(...values))
          assert.strictEqual(s.max, Math.max(...values))
          // A signed sum can cancel to about 0, so its error is bounded by the sum of magnitudes.
          assert.isAtMost(Math.abs(s.sum - sum), 1e-9 * magnitude, `sum of ${values.length}`)
          assert.isAtMost(Math.abs(s.sumsq - sumsq), 1e-9 * sumsq, `sum of squares of ${values.length}`)
        }
      }),
      { numRuns: 500 },
    )
  })

  it("the sketch answers quantiles within 1% and merges like the library's DDSketch", () => {
    const values = Array.from({ length: 5000 }, (_, i) => 1 + ((i * 7919) % 3000) * 0.37)
    const sketch = new Sketch()
    const reference = new DDSketch({ relativeAccuracy: 0.01 })
    for (const v of values) {
      sketch.add(v)
      reference.accept(v)
    }
    const back = sketchFromBytes(sketch.toBytes())
    const sorted = [...values].sort((a, b) => a - b)
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))]!
      expect(Math.abs(back.getValueAtQuantile(q) - exact) / exact).toBeLessThanOrEqual(0.0101)
      expect(back.getValueAtQuantile(q)).toBeCloseTo(reference.getValueAtQuantile(q), 6)
    }
    const merged = sketchFromBytes(sketch.toBytes())
    merged.merge(sketchFromBytes(sketch.toBytes()))
    expect(merged.count).toBe(2 * values.length)
    expect(merged.getValueAtQuantile(0.5)).toBeCloseTo(back.getValueAtQuantile(0.5), 6)
  })

  it("zeros go to the zero bucket; empty bytes are an empty sketch", () => {
    const s = new Sketch()
    s.add(0)
    s.add(0)
    s.add(10)
    expect(sketchFromBytes(s.toBytes()).count).toBe(3)
    expect(sketchFromBytes(new Uint8Array()).count).toBe(0)
  })

  it("a series' version is its sample count; it is dirty until emitted", () => {
    const s = new Series("o", "web", "router_service_ms", "", true)
    expect(s.dirty).toBe(false)
    s.add(5)
    s.add(7)
    expect([s.dirty, s.stats.count]).toEqual([true, 2])
    s.emitted = s.stats.count
    expect(s.dirty).toBe(false)
  })
})
