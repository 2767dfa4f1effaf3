/** RecentStrings hands back held copies, but never a wrong string: checked against Buffer's decoder. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { RecentStrings } from "../../src/stream/RecentStrings.ts"

describe("RecentStrings", () => {
  it("decodes every byte range as Buffer does, through collisions and non-ASCII text", () => {
    // Two slots: nearly every lookup collides with a different string held before.
    const recent = new RecentStrings(2)
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("d.abc\u0000f00d", "p-1", "é€")), {
          minLength: 1,
          maxLength: 30,
        }),
        (texts) => {
          for (const text of texts) {
            const padded = Buffer.concat([Buffer.from("xy"), Buffer.from(text), Buffer.from("z")])
            const end = padded.length - 1
            expect(recent.of(padded, 2, end)).toBe(padded.toString("utf8", 2, end))
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  it("the same text from other bytes, then another text of the same length", () => {
    const recent = new RecentStrings()
    const a = recent.of(Buffer.from("d.1234\u0000frame-1"), 0, 14)
    const b = recent.of(Buffer.from("__d.1234\u0000frame-1"), 2, 16)
    expect(b).toBe(a)
    expect(recent.of(Buffer.from("d.1234\u0000frame-2"), 0, 14)).toBe("d.1234\u0000frame-2")
  })
})
