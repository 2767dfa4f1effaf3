import { DDSketch } from "@datadog/sketches-js"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Series, Sketch, Stats, sketchFromBytes } from "../../src/stream/Accumulators.ts"

describe("accumulators", () => {
  it("stats: count, sum, sum of squares, min, max; merging equals one accumulator over both", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
        (a, b) => {
          const one = new Stats()
          for (const v of [...a, ...b]) one.add(v)
          const left = new Stats()
          const right = new Stats()
          for (const v of a) left.add(v)
          for (const v of b) right.add(v)
          left.merge(right)
          expect([left.count, left.min, left.max]).toEqual([one.count, one.min, one.max])
          expect(left.sum).toBeCloseTo(one.sum, 3)
          expect(left.sumsq).toBeCloseTo(one.sumsq, -3)
        },
      ),
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
