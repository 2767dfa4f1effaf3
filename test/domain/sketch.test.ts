import { DDSketch } from "@datadog/sketches-js"
import { LogarithmicMapping } from "@datadog/sketches-js/dist/ddsketch/mapping/index.js"
import fc from "fast-check"
import { assert, describe, expect, it } from "vitest"
import { Sketch, Stats, sketchFromBytes, sketchKey } from "../../src/domain/Sketch.ts"

describe("sketch and stats", () => {
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

  it("the bytes read right by the protobuf's own convention (sketches-java, sketches-go): within 1%", () => {
    const values = Array.from({ length: 5000 }, (_, i) => 1 + ((i * 7919) % 30_000) * 0.73)
    const sketch = new Sketch()
    for (const v of values) sketch.add(v)
    // As sketches-java reads a DDSketch: key k with index offset o is [gamma^(k-o), gamma^(k-o+1)),
    // valued at its lower bound times (1 + relative accuracy).
    const proto = DDSketch.fromProto(sketch.toBytes())
    const { gamma, _offset: offset } = proto.mapping as unknown as { gamma: number; _offset: number }
    expect(offset).toBe(1)
    const accuracy = (gamma - 1) / (gamma + 1)
    const { store } = proto
    const sorted = [...values].sort((a, b) => a - b)
    for (const q of [0.5, 0.95, 0.99]) {
      const rank = q * (values.length - 1)
      let running = 0
      let key = store.minKey
      for (; key <= store.maxKey; key++) {
        running += store.bins[key - store.offset] ?? 0
        if (running > rank) break
      }
      const javaValue = gamma ** (key - offset) * (1 + accuracy)
      const exact = sorted[Math.floor(rank)]!
      expect(Math.abs(javaValue - exact) / exact).toBeLessThanOrEqual(0.0101)
    }
  })

  it("zeros go to the zero bucket; empty bytes are an empty sketch", () => {
    const s = new Sketch()
    s.add(0)
    s.add(0)
    s.add(10)
    expect(sketchFromBytes(s.toBytes()).count).toBe(3)
    expect(sketchFromBytes(new Uint8Array()).count).toBe(0)
  })

  it("keys are the library mapping's keys", () => {
    const mapping = new LogarithmicMapping(0.01)
    fc.assert(
      fc.property(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), (v) => {
        expect(sketchKey(v)).toBe(mapping.key(v))
      }),
      { numRuns: 20_000 },
    )
    for (let v = 1; v < 70_000; v++) expect(sketchKey(v)).toBe(mapping.key(v))
    for (const v of [1, 2, 1e-9, 0.5, 1e-307, 1.0202, 30_000, 2 ** 52, 65_535.5, 2 ** 31 + 0.5])
      expect(sketchKey(v)).toBe(mapping.key(v))
  })

  it("the typed bins hold exactly the library's bins, in any order of values, growing either way", () => {
    const values = fc.array(
      fc.oneof(
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 1e-9, max: 1e-3, noNaN: true }),
        fc.constantFrom(0, -1, 30_000),
      ),
      { maxLength: 400 },
    )
    fc.assert(
      fc.property(values, (vs) => {
        const sketch = new Sketch()
        const reference = new DDSketch({ relativeAccuracy: 0.01 })
        for (const v of vs) {
          sketch.add(v)
          reference.accept(Math.max(0, v))
        }
        const bins = (s: DDSketch) => {
          const out: Array<[number, number]> = []
          const { store } = s
          for (let key = store.minKey; key <= store.maxKey; key++) {
            const n = store.bins[key - store.offset] ?? 0
            if (n > 0) out.push([key, n])
          }
          return out
        }
        const back = sketchFromBytes(sketch.toBytes())
        expect(bins(back)).toEqual(bins(reference))
        expect(back.zeroCount).toBe(reference.zeroCount)
        expect(back.count).toBe(vs.length)
      }),
      { numRuns: 300 },
    )
  })
})
