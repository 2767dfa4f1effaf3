import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DigestTable } from "../../src/stream/DigestTable.ts"

/** An entry's identity as the oracle (a Map) keys it. */
const id = (owner: number, d: ReadonlyArray<number>) => `${owner}/${d.join(",")}`

describe("DigestTable", () => {
  it("finds, inserts and removes as a Map does, through growth and colliding homes", () => {
    // Few owners and first words: many entries share a home slot, so removals shift probe runs.
    const entry = fc.record({
      owner: fc.integer({ min: 1, max: 4 }),
      d: fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 })),
      v: fc.tuple(fc.nat(), fc.nat()),
    })
    const op = fc.record({ remove: fc.boolean(), entry })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const table = new DigestTable()
        const oracle = new Map<string, readonly [number, number]>()
        const seen: Array<{ owner: number; d: readonly [number, number] }> = []
        for (const { remove, entry: e } of ops) {
          const key = id(e.owner, e.d)
          const slot = table.find(e.owner, e.d[0], e.d[1])
          expect(slot >= 0).toBe(oracle.has(key))
          if (slot >= 0) {
            expect([table.valueHigh(slot), table.valueLow(slot)]).toEqual(oracle.get(key))
            if (remove) {
              table.remove(slot)
              oracle.delete(key)
            }
          } else if (!remove) {
            table.insert(e.owner, e.d[0], e.d[1], e.v[0], e.v[1])
            oracle.set(key, e.v)
            seen.push(e)
          }
          expect(table.size).toBe(oracle.size)
        }
        // Every entry ever inserted is found exactly when the oracle still holds it.
        for (const e of seen) {
          const slot = table.find(e.owner, e.d[0], e.d[1])
          expect(slot >= 0).toBe(oracle.has(id(e.owner, e.d)))
        }
      }),
      { numRuns: 200 },
    )
  })

  it("holds 100,000 entries in 20 bytes each at a load of at most 3/4", () => {
    const table = new DigestTable()
    for (let i = 1; i <= 100_000; i++) table.insert(i, i * 7, i * 13, i, i + 1)
    expect(table.size).toBe(100_000)
    expect(table.bytes).toBe(262_144 * 20)
    for (let i = 1; i <= 100_000; i += 997) {
      const slot = table.find(i, i * 7, i * 13)
      expect([table.valueHigh(slot), table.valueLow(slot)]).toEqual([i, i + 1])
    }
    expect(table.find(1, 7, 14)).toBe(-1)
  })
})
