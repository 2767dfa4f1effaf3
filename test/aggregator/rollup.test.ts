/** Late data exactly as DESIGN.md says: lines 2 and 4 minutes late count; later ones are dropped and counted. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Accumulator } from "../../src/aggregator/Accumulators.ts"
import { PartitionRollup } from "../../src/aggregator/Rollup.ts"
import { encodeSummary, summaryHead } from "../../src/aggregator/SummaryBytes.ts"
import type { Measurement } from "../../src/domain/Measurement.ts"
import { toRecord } from "../../src/ingress/Encode.ts"
import * as Wire from "../../src/proto/Wire.ts"

const OWNER = "0b7a3f2e-1111-4a57-9c1e-2f0d8b4f1a01"
const M = 60_000
const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const r14 = (ms: number): Measurement => ({
  type: "ERRORS",
  processType: "web",
  dyno: "web.1",
  timeUs: ms * 1000,
  code: "R14",
  count: 1,
  description: "",
})
const delivery = { owner: OWNER, drain: "d", frameId: "", delivery: "x" }

const feed = (rollup: PartitionRollup, times: ReadonlyArray<number>) =>
  times.forEach((ms, offset) => {
    const r = toRecord(r14(ms), delivery)
    rollup.process({ key: r.key, value: r.value, timestamp: r.timestamp, offset }, 0)
  })

const emitted = (rollup: PartitionRollup) =>
  new Map(
    rollup.collect(0, 0, true).map((o) => {
      const s = Wire.Summary.decode(o.value)
      return [`${s.period === Wire.Period.PERIOD_1M ? "1m" : "15m"}@${(s.startMs - T) / M}`, s.count]
    }),
  )

describe("late data", () => {
  it("2 and 4 minutes late still count in their minute; 6.5 minutes late only in its quarter; later nowhere", () => {
    const rollup = new PartitionRollup("ERRORS", "ERRORS.1", 0)
    // Stream time reaches T+22m first; then lines 2, ~4, 6.5, 7.5 and 27 minutes behind it.
    feed(rollup, [
      T + 22 * M,
      T + 20 * M,
      T + 18 * M + 10,
      T + 15 * M + 30_000,
      T + 14 * M + 30_000,
      T - 5 * M,
    ])
    const counts = emitted(rollup)
    expect(counts.get("1m@22")).toBe(1)
    expect(counts.get("1m@20")).toBe(1) // 2 minutes late: [20, 21) closes at 26
    expect(counts.get("1m@18")).toBe(1) // ~4 minutes late: [18, 19) closes at 24
    expect(counts.has("1m@15")).toBe(false) // [15, 16) closed at 21
    expect(counts.has("1m@14")).toBe(false)
    expect(counts.get("15m@15")).toBe(4) // [15, 30) is open until 35
    expect(counts.has("15m@0")).toBe(false) // [0, 15) closed at 20
    expect(counts.has("15m@-15")).toBe(false)
    expect(Object.fromEntries(rollup.counters.late)).toEqual({
      [`${OWNER}:web:ERRORS:1m`]: 3,
      [`${OWNER}:web:ERRORS:15m`]: 2,
    })
  })

  it("a line stamped ahead of the ingest clock counts in its own window but does not make another app's lines late", () => {
    const VICTIM = "0b7a3f2e-2222-4a57-9c1e-2f0d8b4f1a02"
    const rollup = new PartitionRollup("ERRORS", "ERRORS.1", 0)
    const now = T + 30 * M
    const at = (owner: string, eventMs: number, offset: number) => {
      const r = toRecord(r14(eventMs), { owner, drain: "d", frameId: "", delivery: "x", receivedMs: now })
      expect(r.timestamp).toBe(now)
      rollup.process({ key: r.key, value: r.value, timestamp: r.timestamp, offset }, 0)
    }
    at(OWNER, now + 110_000, 0) // 110 s ahead of the ingest clock (the ingress admits up to 2 minutes)
    at(VICTIM, now - 4.5 * M, 1) // 4.5 minutes late: within the 5 minutes of lateness
    const counts = new Map(
      rollup.collect(0, 0, true).map((o) => {
        const s = Wire.Summary.decode(o.value)
        return [
          `${s.owner}:${s.period === Wire.Period.PERIOD_1M ? "1m" : "15m"}@${(s.startMs - T) / M}`,
          s.count,
        ]
      }),
    )
    expect(counts.get(`${OWNER}:1m@31`)).toBe(1)
    expect(counts.get(`${VICTIM}:1m@25`)).toBe(1)
    expect(counts.get(`${VICTIM}:15m@15`)).toBe(1)
    expect(rollup.counters.late.size).toBe(0)
  })

  it("closed windows are freed: state stays O(open windows x active series)", () => {
    const rollup = new PartitionRollup("ERRORS", "ERRORS.1", 0)
    feed(
      rollup,
      Array.from({ length: 600 }, (_, i) => T + i * 10_000),
    )
    rollup.collect(0, 0)
    // 100 minutes of data; open: the 1m windows of the last 6 minutes and at most two 15m windows.
    expect(rollup.windows.openCount).toBeLessThanOrEqual(8)
  })
})

describe("summaries", () => {
  it("are written byte for byte as the generated encoder writes them", () => {
    const values = fc.array(
      fc.oneof(fc.integer({ min: 0, max: 40_000 }), fc.double({ min: -1e9, max: 1e12, noNaN: true })),
      { maxLength: 60 },
    )
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.constantFrom("router_service_ms", "router_status", "errors", ""),
        fc.string({ maxLength: 4 }),
        fc.constantFrom(1, 2),
        fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 45 })),
        fc.boolean(),
        values,
        (owner, processType, metric, label, period, startMs, sketched, xs) => {
          const a = new Accumulator(sketched)
          for (const x of xs) a.add(x)
          const want = Wire.Summary.encode({
            owner,
            processType,
            metric,
            label,
            period,
            startMs,
            count: a.count,
            sum: a.sum,
            sumsq: a.sumsq,
            min: a.min,
            max: a.max,
            sketch: sketched ? a.toBytes() : new Uint8Array(),
            version: a.count,
          }).finish()
          const got = encodeSummary(summaryHead(owner, processType, metric, label), period, startMs, a)
          expect(Buffer.from(got).toString("hex")).toBe(Buffer.from(want).toString("hex"))
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe("memory", () => {
  it("keys and drain batches are forgotten once all their windows have closed", () => {
    const rollup = new PartitionRollup("ERRORS", "ERRORS.1", 0)
    for (let i = 0; i < 600; i++) {
      const r = toRecord(r14(T + i * 10_000), {
        owner: `0b7a3f2e-1111-4a57-9c1e-${String(i).padStart(12, "0")}`,
        drain: "d",
        frameId: `frame-${i}`,
        delivery: `delivery-${i}`,
      })
      rollup.process({ key: r.key, value: r.value, timestamp: r.timestamp, offset: i }, 0)
      rollup.collect(0, 0)
    }
    // 100 minutes of one key every 10 s: only keys whose quarter (plus lateness) has not closed remain.
    expect(rollup.keyCount).toBeLessThanOrEqual(2 * 90 + 30)
    expect(rollup.activeSeries()).toBeLessThanOrEqual(2 * 90 + 30)
    // One batch per record here: the same bound.
    expect(rollup.batchCount).toBeGreaterThan(0)
    expect(rollup.batchCount).toBeLessThanOrEqual(2 * 90 + 30)
  })
})

describe("retried drain batches", () => {
  const counts = (deliveries: ReadonlyArray<[processType: string, frameId: string, delivery: string]>) => {
    const rollup = new PartitionRollup("ERRORS", "ERRORS.1", 0)
    deliveries.forEach(([processType, frameId, delivery], offset) => {
      const r = toRecord({ ...r14(T + offset), processType }, { owner: OWNER, drain: "d", frameId, delivery })
      rollup.process({ key: r.key, value: r.value, timestamp: r.timestamp, offset }, 0)
    })
    const byType = new Map<string, number>()
    for (const o of rollup.collect(0, 0, true)) {
      const s = Wire.Summary.decode(o.value)
      if (s.period === Wire.Period.PERIOD_1M)
        byType.set(s.processType, (byType.get(s.processType) ?? 0) + s.count)
    }
    return { byType: Object.fromEntries(byType), duplicates: rollup.counters.duplicates }
  }

  // A delivery's records of a key are one run among that key's records (a Bus appends the records of
  // a produce call so, see the Bus conformance suite): the sequences below keep to that.
  it("count their first delivery only, per record key, whatever other keys' records come in between", () => {
    expect(
      counts([
        ["web", "A", "p-1"],
        ["worker", "A", "p-1"],
        ["web", "A", "p-1"], // web's run of p-1 goes on (the worker record is another key's)
        ["web", "B", "p-2"],
        ["web", "A", "p-3"], // a retry of A: discarded
        ["worker", "A", "p-3"], // discarded
        ["worker", "B", "p-3b"], // B's first delivery for the worker key: counts
        ["web", "", "p-4"], // no Frame-Id: always counts
        ["web", "", "p-4"],
      ]),
    ).toEqual({ byType: { web: 5, worker: 2 }, duplicates: 2 })
  })

  it("keys of one batch whose first deliveries differ keep each their own", () => {
    expect(
      counts([
        ["web", "B", "p-2"],
        ["worker", "B", "p-3"], // B's first delivery for worker is another one: counts
        ["router", "B", "p-2"], // counts
        ["worker", "B", "p-3"], // the same run of worker's: counts
        ["web", "B", "p-3"], // discarded: web's first is p-2
        ["worker", "B", "p-2"], // discarded: worker's first is p-3
        ["router", "B", "p-3"], // discarded
        ["api", "B", "p-4"], // a third first delivery: counts
        ["api", "B", "p-2"], // discarded
      ]),
    ).toEqual({ byType: { web: 1, worker: 2, router: 1, api: 1 }, duplicates: 4 })
  })

  it("without delivery ids, batches are told apart by drain and Frame-Id", () => {
    expect(
      counts([
        ["web", "A", ""],
        ["web", "A", ""], // the same run
        ["web", "B", ""], // another batch: counts
        ["web", "B", "x"], // B again from another delivery: a retry
        ["web", "A", ""], // A again, in a run of its own: a retry
      ]),
    ).toEqual({ byType: { web: 3 }, duplicates: 2 })
  })

  it("a batch whose lines span two quarters is remembered until the later one closes", () => {
    const rollup = new PartitionRollup("ERRORS", "ERRORS.1", 0)
    let offset = 0
    const send = (ms: number, frameId: string, d: string, owner = OWNER) => {
      const r = toRecord(r14(ms), { owner, drain: "d", frameId, delivery: d })
      rollup.process({ key: r.key, value: r.value, timestamp: r.timestamp, offset: offset++ }, 0)
      rollup.collect(0, 0)
    }
    const before = () => rollup.counters.duplicates
    // Batch A: its lines at 12:14:30 and 12:15:30 (two quarters), first delivery p-1.
    send(T + 14.5 * M, "A", "p-1")
    send(T + 15.5 * M, "A", "p-1")
    expect(rollup.batchCount).toBe(1)
    // Another app moves stream time past the first quarter's close (12:15 + 5 min), not the second's.
    send(T + 21 * M, "B", "q-1", "0b7a3f2e-1111-4a57-9c1e-2f0d8b4f1a02")
    // A retry of A (both lines) is still known: discarded.
    const d0 = before()
    send(T + 14.5 * M, "A", "p-2")
    send(T + 15.5 * M, "A", "p-2")
    expect(rollup.counters.duplicates - d0).toBe(2)
    // Past the second quarter's close (12:30 + 5 min): A is forgotten.
    send(T + 36 * M, "B", "q-1", "0b7a3f2e-1111-4a57-9c1e-2f0d8b4f1a02")
    expect(rollup.batchCount).toBe(1)
  })
})
