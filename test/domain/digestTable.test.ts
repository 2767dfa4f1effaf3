import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DigestTable } from "../../src/domain/DigestTable.ts"

/** An entry's identity as the oracle (a Map) keys it. */
const id = (owner: number, d: ReadonlyArray<number>) => `${owner}/${d.join(",")}`

interface Entry {
  readonly owner: number
  readonly d: readonly [number, number]
  readonly v: readonly [number, number]
}

describe("DigestTable", () => {
  const asMap = (entry: fc.Arbitrary<Entry>, kind: "set" | "map") =>
    fc.property(fc.array(fc.record({ remove: fc.boolean(), entry }), { maxLength: 600 }), (ops) => {
      const table = new DigestTable(kind)
      const oracle = new Map<string, readonly [number, number]>()
      const seen: Array<Entry> = []
      for (const { remove, entry: e } of ops) {
        const key = id(e.owner, e.d)
        const slot = table.find(e.owner, e.d[0], e.d[1])
        expect(slot >= 0).toBe(oracle.has(key))
        if (slot >= 0) {
          if (kind === "map") expect([table.valueHigh(slot), table.valueLow(slot)]).toEqual(oracle.get(key))
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
    })

  it("finds, inserts and removes as a Map does, through growth and colliding homes", () => {
    // Few owners and first words: many entries share a home slot, so removals shift probe runs.
    const entry = fc.record({
      owner: fc.integer({ min: 1, max: 4 }),
      d: fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 })),
      v: fc.tuple(fc.nat(), fc.nat()),
    })
    fc.assert(asMap(entry, "map"), { numRuns: 200 })
    fc.assert(asMap(entry, "set"), { numRuns: 200 })
  })

  it("finds, inserts and removes as a Map does with keys anywhere, so probe runs wrap around the end", () => {
    // Any owner and first word: homes all over the table, some in its last slots; one batch digest
    // under several owners (a drain batch reaching several record keys) must stay several entries.
    const entry = fc.record({
      owner: fc.integer({ min: 1, max: 0xffff_ffff }),
      d: fc.tuple(
        fc
          .constantFrom(0, 1, 0xffff_ffff, 0x8000_0000)
          .chain((w) => fc.oneof(fc.constant(w), fc.nat({ max: 0xffff_ffff }))),
        fc.integer({ min: 0, max: 3 }),
      ),
      v: fc.tuple(fc.nat(), fc.nat()),
    })
    fc.assert(asMap(entry, "map"), { numRuns: 200 })
    fc.assert(asMap(entry, "set"), { numRuns: 200 })
  })

  it.each([
    ["map", 16],
    ["set", 8],
  ] as const)("a %s holds 100,000 entries in %i bytes each at a load between 1/2 and 4/5", (kind, bytes) => {
    const table = new DigestTable(kind)
    for (let i = 1; i <= 100_000; i++) {
      table.insert(i, i * 7, i * 13, i, i + 1)
      if (i % 1_000 === 0) {
        const load = (i * bytes) / table.bytes
        expect(load).toBeGreaterThan(0.5)
        expect(load).toBeLessThanOrEqual(0.8)
      }
    }
    expect(table.size).toBe(100_000)
    for (let i = 1; i <= 100_000; i += 997) {
      const slot = table.find(i, i * 7, i * 13)
      expect(slot).toBeGreaterThanOrEqual(0)
      if (kind === "map") expect([table.valueHigh(slot), table.valueLow(slot)]).toEqual([i, i + 1])
    }
    expect(table.find(1, 7, 14)).toBe(-1)
    // One digest under another owner is another entry.
    expect(table.find(2, 7, 13)).toBe(-1)
  })
})
