/** Who owns a worker's partitions among its group's members (FixedAssigner.ts). */
import { describe, expect, it } from "vitest"
import { chooseOwner, decodeClaim, encodeClaim } from "../../src/bus/kafka/FixedAssigner.ts"

const member = (memberId: string, since: number, owns = -1) => ({ memberId, since, owns })

describe("the fixed assigner's owner", () => {
  it("is the member that started first when nobody holds the partitions, whatever the member ids", () => {
    expect(chooseOwner([member("b", 100), member("a", 200), member("c", 300)])).toBe("b")
    expect(chooseOwner([member("z", 100), member("a", 100)])).toBe("a")
  })

  it("stays with the member that holds them, however old the others are", () => {
    expect(chooseOwner([member("a", 100), member("b", 500, 7)])).toBe("b")
  })

  it("is the holder of the newest generation when an old owner comes back claiming them", () => {
    expect(chooseOwner([member("old-owner", 100, 3), member("replacement", 500, 5)])).toBe("replacement")
  })

  it("is nobody in an empty group", () => {
    expect(chooseOwner([])).toBeUndefined()
  })

  it("reads back what a member joined with; foreign or missing user data counts as youngest, holding nothing", () => {
    expect(decodeClaim(encodeClaim({ since: 1_764_000_000_123, owns: 42 }))).toEqual({
      since: 1_764_000_000_123,
      owns: 42,
    })
    expect(decodeClaim(Buffer.alloc(0))).toEqual({ since: Number.MAX_SAFE_INTEGER, owns: -1 })
    expect(decodeClaim(undefined)).toEqual({ since: Number.MAX_SAFE_INTEGER, owns: -1 })
  })
})
