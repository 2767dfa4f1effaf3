import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { splitByKey } from "../../src/bus/kafka/kafka.ts"
import type { OutRecord } from "../../src/bus/Records.ts"

describe("splitting a produce call into broker requests", () => {
  it("never splits a (topic, key), keeps each key's order, and stays under the size unless one key is larger", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("A.1", "B.1"),
            fc.integer({ min: 0, max: 6 }),
            fc.integer({ min: 1, max: 300 }),
          ),
          {
            maxLength: 200,
          },
        ),
        (spec) => {
          const records: Array<OutRecord> = spec.map(([topic, k, size], i) => ({
            topic,
            key: `o:${k}`,
            value: new Uint8Array(size),
            timestamp: i,
          }))
          const pieces = splitByKey(records, 1000, (r) => r.value.byteLength)
          expect(pieces.flat().length).toBe(records.length)
          const home = new Map<string, number>()
          pieces.forEach((piece, i) => {
            for (const r of piece) {
              const id = `${r.topic}/${r.key}`
              expect(home.get(id) ?? i).toBe(i)
              home.set(id, i)
            }
            const groups = new Set(piece.map((r) => `${r.topic}/${r.key}`))
            if (groups.size > 1)
              expect(piece.reduce((n, r) => n + r.value.byteLength, 0)).toBeLessThanOrEqual(1000)
          })
          for (const id of home.keys()) {
            const mine = (rs: ReadonlyArray<OutRecord>) =>
              rs.filter((r) => `${r.topic}/${r.key}` === id).map((r) => r.timestamp)
            expect(mine(pieces.flat())).toEqual(mine(records))
          }
        },
      ),
    )
  })
})
