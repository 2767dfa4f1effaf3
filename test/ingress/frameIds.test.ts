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
    ids.finish(key, true, T + 40, "app-1")
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
    ids.finish(key, false, T + 20, "app-1")
    await expect(waiting).resolves.toBe(false)
    expect(ids.claim(key, T + 30)).toBe("new")
    const again = ids.claim(key, T + 40)
    ids.finish(key, true, T + 50, "app-1")
    await expect(again).resolves.toBe(true)
    expect(ids.claim(key, T + 60)).toBe("duplicate")
  })

  it("holds at most 200,000 batches, forgetting the oldest first", () => {
    const ids = new FrameIds()
    for (let i = 0; i < 200_100; i++) {
      const key = batchKey("app", "d.x", `f-${i}`)
      ids.claim(key, T + i)
      ids.finish(key, true, T + i, "app")
    }
    expect(ids.size).toBeLessThanOrEqual(200_001)
    expect(ids.claim(batchKey("app", "d.x", "f-200099"), T + 200_100)).toBe("duplicate")
    expect(ids.claim(batchKey("app", "d.x", "f-0"), T + 200_100)).toBe("new")
  })

  it("an app past its budget has its new batches acknowledged but not remembered; others are not touched", () => {
    const ids = new FrameIds(1_000)
    const remember = (owner: string, id: string, now: number) => {
      const key = batchKey(owner, "d.x", id)
      expect(ids.claim(key, now)).toBe("new")
      return ids.finish(key, true, now, owner)
    }
    expect(remember("victim", "v-1", T)).toBe(true)
    // The attacker's endless new Frame-Ids fill only its own 1,000: more than the 200,000 of all apps
    // (which, without budgets, dropped the oldest generation, the victim's) leave the victim's alone.
    let refused = 0
    for (let i = 0; i < 201_000; i++) if (!remember("attacker", `a-${i}`, T + i)) refused++
    expect(refused).toBe(200_000)
    expect(ids.rememberedOf("attacker")).toBe(1_000)
    expect(ids.size).toBe(1_001)
    expect(ids.claim(batchKey("victim", "d.x", "v-1"), T + 201_000)).toBe("duplicate")
    // The attacker's remembered ones are still duplicates; the unremembered ones are new to it (the
    // aggregator drops their second delivery).
    expect(ids.claim(batchKey("attacker", "d.x", "a-999"), T + 201_000)).toBe("duplicate")
    expect(ids.claim(batchKey("attacker", "d.x", "a-1000"), T + 201_000)).toBe("new")
    // Its generations expire: 15 minutes after the last one it remembered, it has room again.
    expect(remember("attacker", "a-late", T + 16 * MINUTE)).toBe(true)
    expect(ids.rememberedOf("attacker")).toBe(1)
    expect(ids.rememberedOf("victim")).toBe(0)
  })

  it("counts per app across generations, and dropping a generation subtracts what it held of each app", () => {
    const ids = new FrameIds(3)
    const remember = (owner: string, id: string, now: number) => {
      const key = batchKey(owner, undefined, id)
      ids.claim(key, now)
      return ids.finish(key, true, now, owner)
    }
    // Two in one 30 s generation, one in the next, for "a"; "b" one in each.
    expect([remember("a", "1", T), remember("a", "2", T + 1), remember("b", "1", T + 2)]).toEqual([
      true,
      true,
      true,
    ])
    expect([remember("a", "3", T + 30_000), remember("b", "2", T + 30_000)]).toEqual([true, true])
    expect(remember("a", "4", T + 30_001)).toBe(false)
    expect([ids.rememberedOf("a"), ids.rememberedOf("b")]).toEqual([3, 2])
    // The first generation ended at T + 30 s: it is dropped at T + 15.5 min, the second 30 s later.
    expect(remember("a", "5", T + 15.5 * MINUTE)).toBe(true)
    expect([ids.rememberedOf("a"), ids.rememberedOf("b")]).toEqual([2, 1])
    expect(ids.claim(batchKey("a", undefined, "1"), T + 15.5 * MINUTE)).toBe("new")
    expect(ids.claim(batchKey("a", undefined, "3"), T + 15.5 * MINUTE)).toBe("duplicate")
    expect(remember("b", "3", T + 16 * MINUTE)).toBe(true)
    expect([ids.rememberedOf("a"), ids.rememberedOf("b")]).toEqual([1, 1])
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
