import { describe, expect, it } from "vitest"
import { Accumulator } from "../../src/aggregator/Accumulators.ts"
import { sketchFromBytes } from "../../src/domain/Sketch.ts"

describe("accumulators", () => {
  it("an accumulator's version is its sample count; it is dirty until emitted", () => {
    const a = new Accumulator(true)
    expect(a.dirty).toBe(false)
    a.add(5)
    a.add(7)
    expect([a.dirty, a.count, a.sum, a.sumsq, a.min, a.max]).toEqual([true, 2, 12, 74, 5, 7])
    expect(sketchFromBytes(a.toBytes()).count).toBe(2)
    a.emitted = a.count
    expect(a.dirty).toBe(false)
    expect(new Accumulator(false).sketched).toBe(false)
  })
})
