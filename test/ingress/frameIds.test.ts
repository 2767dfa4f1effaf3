/** The ingress's memory of acknowledged drain batches (FrameIds.ts): first line of defence against retries. */
import { describe, expect, it } from "@effect/vitest"
import { batchKey, FrameIds } from "../../src/ingress/FrameIds.ts"

const MINUTE = 60_000
const T = Date.UTC(2026, 10, 29, 12)

describe("FrameIds", () => {
  it("a retry of an acknowledged batch is a duplicate for 15 minutes, then new again", () => {
    const ids = new FrameIds()
    const key = batchKey("app-1", "d.1", "f-1")
    expect(ids.claim(key, T)).toBe("new")
    ids.finish(key, true, T + 40)
    expect(ids.claim(key, T + 14 * MINUTE)).toBe("duplicate")
    expect(ids.claim(batchKey("app-2", "d.1", "f-1"), T + MINUTE)).toBe("new")
    expect(ids.claim(batchKey("app-1", undefined, "f-1"), T + MINUTE)).toBe("new")
    expect(ids.claim(key, T + 16 * MINUTE)).toBe("new")
  })

  it("a failed batch is forgotten, and a retry racing its first delivery waits for its outcome", async () => {
    const ids = new FrameIds()
    const key = batchKey("app-1", "d.1", "f-2")
    expect(ids.claim(key, T)).toBe("new")
    const waiting = ids.claim(key, T + 10)
    expect(waiting).toBeInstanceOf(Promise)
    ids.finish(key, false, T + 20)
    await expect(waiting).resolves.toBe(false)
    expect(ids.claim(key, T + 30)).toBe("new")
    const again = ids.claim(key, T + 40)
    ids.finish(key, true, T + 50)
    await expect(again).resolves.toBe(true)
    expect(ids.claim(key, T + 60)).toBe("duplicate")
  })

  it("holds at most 200,000 batches, forgetting the oldest first", () => {
    const ids = new FrameIds()
    for (let i = 0; i < 200_100; i++) {
      const key = batchKey("app", "d.x", `f-${i}`)
      ids.claim(key, T + i)
      ids.finish(key, true, T + i)
    }
    expect(ids.size).toBeLessThanOrEqual(200_001)
    expect(ids.claim(batchKey("app", "d.x", "f-200099"), T + 200_100)).toBe("duplicate")
    expect(ids.claim(batchKey("app", "d.x", "f-0"), T + 200_100)).toBe("new")
  })

  it("keys are 16-character digests of the app, the drain and the Frame-Id, told apart by every part", () => {
    const keys = [
      batchKey("o", "d.t", "f"),
      batchKey("o", undefined, "f"),
      batchKey("o", "d.t", "g"),
      batchKey("p", "d.t", "f"),
      batchKey("o", "d.tf", ""),
      batchKey("o\u0000d.t", undefined, "f"),
    ]
    for (const k of keys) expect(k).toHaveLength(16)
    expect(new Set(keys).size).toBe(keys.length)
    expect(batchKey("o", "d.t", "f")).toBe(batchKey("o", "d.t", "f"))
  })
})
