import { describe, expect, it } from "vitest"
import { decodeResume, encodeResume } from "../../src/aggregator/CommitPoint.ts"
import { PartitionWindows, windowStart } from "../../src/aggregator/EventTimeWindows.ts"

const M = 60_000
const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const make = () =>
  new PartitionWindows<{ n: number }>(
    {
      periods: [
        { name: "1m", sizeMs: M },
        { name: "15m", sizeMs: 15 * M },
      ],
      latenessMs: 5 * M,
    },
    () => ({
      n: 0,
    }),
  )

describe("event-time windows", () => {
  it("aligns windows on UTC boundaries", () => {
    expect(windowStart(T + 59_999, M)).toBe(T)
    expect(windowStart(T + 60_000, M)).toBe(T + M)
    expect(windowStart(T + 14 * M + 5, 15 * M)).toBe(T)
  })

  it("a record counts while end + lateness > stream time; stream time only grows", () => {
    const w = make()
    w.observe(T + 10 * M)
    w.observe(T + 3 * M) // older events do not move stream time back
    expect(w.streamTimeMs).toBe(T + 10 * M)
    // 1m window [T+4m, T+5m): end + 5m = T+10m <= stream time: closed.
    expect(w.windowFor(0, T + 4 * M + 30_000, 1)).toBeUndefined()
    // 1m window [T+5m, T+6m): end + 5m = T+11m > T+10m: open (a line 4.5 minutes late counts).
    expect(w.windowFor(0, T + 5 * M + 30_000, 2)).toBeDefined()
    // The 15m window of the too-late line is still open.
    expect(w.windowFor(1, T + 4 * M + 30_000, 3)).toBeDefined()
  })

  it("closes windows when stream time passes end + lateness and frees them", () => {
    const w = make()
    w.observe(T)
    w.windowFor(0, T, 10)!.state.n++
    w.windowFor(1, T, 10)!.state.n++
    w.observe(T + 6 * M - 1)
    expect(w.takeClosed()).toEqual([])
    w.observe(T + 6 * M)
    expect(w.takeClosed().map((x) => [x.period, x.startMs])).toEqual([[0, T]])
    expect(w.openCount).toBe(1)
    w.observe(T + 20 * M)
    expect(w.takeClosed().map((x) => [x.period, x.startMs])).toEqual([[1, T]])
    expect(w.openCount).toBe(0)
  })

  it("the commit point is the smallest first-seen offset among open windows", () => {
    const w = make()
    w.observe(T)
    w.windowFor(0, T, 5)
    w.windowFor(1, T, 5)
    w.observe(T + 2 * M)
    w.windowFor(0, T + 2 * M, 9)
    expect(w.commitPoint(12)).toBe(5)
    w.observe(T + 20 * M + 1)
    w.takeClosed()
    expect(w.commitPoint(12)).toBe(12)
    expect(w.oldestOpen()).toBeUndefined()
  })

  it("flushes windows dirty for flushAfter of processing time", () => {
    const w = make()
    w.observe(T)
    const win = w.windowFor(0, T, 0)!
    win.dirtySince = 1000
    expect(w.dueForFlush(10_999, 10_000)).toEqual([])
    expect(w.dueForFlush(11_000, 10_000)).toEqual([win])
  })

  it("resume metadata round-trips and rejects anything else", () => {
    const r = { streamTimeMs: T, upto: 42, oldestOpenMs: T - M }
    expect(decodeResume(encodeResume(r))).toEqual(r)
    expect(
      decodeResume(encodeResume({ streamTimeMs: Number.NEGATIVE_INFINITY, upto: 0, oldestOpenMs: null })),
    ).toEqual({
      streamTimeMs: Number.NEGATIVE_INFINITY,
      upto: 0,
      oldestOpenMs: null,
    })
    for (const bad of [undefined, "", "x", "{}", '{"v":2,"upto":1}'])
      expect(decodeResume(bad)).toBeUndefined()
  })
})
