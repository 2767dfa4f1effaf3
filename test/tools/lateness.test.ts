/**
 * The load's lateness judgement (tools/load/lateness.ts) and the oracle's use of it: late lines count,
 * too-late lines are dropped and counted, and the bounds are sound. Soundness is checked against a
 * simulation written here: bodies appended to a log at random times between when they were made and
 * their 204, stream time per (type, partition) as DESIGN.md states it; whatever the judge calls certain
 * must be what the simulated aggregator does, whatever the order.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import {
  COUNTS,
  DROPPED,
  Generator,
  LATENESS_MS,
  Lateness,
  makeFleet,
  Oracle,
  PERIOD_MS,
  rollupKey,
  typeOfMetric,
  UNKNOWN,
} from "../../tools/load/index.ts"

const START = Date.UTC(2026, 11, 7, 12, 0, 0)
const owners = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`)

describe("late and too-late lines", () => {
  it("parse to the times the body records: late ones 1 s-4 min before the body's end, too-late ones 25-40 min", () => {
    const fleet = makeFleet({ apps: 2, seed: 3 })
    const generator = new Generator(fleet, { lateChance: 0.2, tooLateChance: 0.05 })
    let late = 0
    let tooLate = 0
    for (let t = 0; t < 40; t++) {
      const end = START + t * 1000
      const body = generator.body(t % 2, end, 200)
      tooLate += body.tooLate
      const { parser, error } = parseBody(body.bytes)
      expect(error).toBeUndefined()
      // Each measurement's time, as the ingress reads it, is among the body's sample times.
      const times = new Set(Array.from(body.times))
      for (const m of parser.measurements)
        if (m.type !== "PLATFORM_EVENTS") expect(times.has(Math.floor(m.timeUs / 1000))).toBe(true)
      for (const time of body.times) {
        const behind = end - time
        expect(behind).toBeGreaterThanOrEqual(-1)
        if (behind > 25 * 60_000) expect(behind).toBeLessThanOrEqual(40 * 60_000 + 1000)
        else expect(behind).toBeLessThanOrEqual(4 * 60_000 + 1000)
        if (behind > 1000 && behind <= 4 * 60_000 + 1000) late++
      }
      expect(body.sentMs).toBe(end)
    }
    expect(late).toBeGreaterThan(100)
    expect(tooLate).toBeGreaterThan(100)
  })

  it("without the options a seed's bodies are the same bytes as before (benchmarks keep their lines)", () => {
    const a = new Generator(makeFleet({ apps: 1, seed: 9 }))
    const b = new Generator(makeFleet({ apps: 1, seed: 9 }), { lateChance: 0, tooLateChance: 0 })
    for (let t = 0; t < 5; t++)
      expect(a.body(0, START + t, 100).bytes.equals(b.body(0, START + t, 100).bytes)).toBe(true)
  })
})

describe("the lateness judgement", () => {
  it("on time when the window closes after the 204; dropped when it closed by the floor; else unknown", () => {
    const fleet = makeFleet({ apps: 1, seed: 4 })
    const lateness = new Lateness(fleet, owners(1))
    const generator = new Generator(fleet, { tooLateChance: 0.5 })
    // A first body acknowledged at once raises the floor of its partitions to about its time.
    const first = generator.body(0, START, 200)
    lateness.made(first)
    lateness.acknowledged(first)
    const body = generator.body(0, START + 10_000, 200)
    lateness.made(body)
    const ack = START + 11_000
    let counts = 0
    let dropped = 0
    for (let i = 0; i < body.samples; i++) {
      const behind = body.sentMs - body.times[i]!
      const v1 = lateness.judge(body, i, 0, ack)
      const v15 = lateness.judge(body, i, 1, ack)
      if (behind < 60_000) {
        expect(v1).toBe(COUNTS)
        expect(v15).toBe(COUNTS)
        counts++
      } else {
        // 25-40 minutes late: both windows closed long before the floor (about START).
        expect(v1).toBe(DROPPED)
        expect(v15).toBe(DROPPED)
        dropped++
      }
    }
    expect(counts).toBeGreaterThan(0)
    expect(dropped).toBeGreaterThan(0)
    // Without an acknowledgement nothing counts for sure; with no floor nothing is known dropped.
    const fresh = new Lateness(fleet, owners(1))
    fresh.made(body)
    for (let i = 0; i < body.samples; i++) {
      expect(fresh.judge(body, i, 0, Number.POSITIVE_INFINITY)).toBe(UNKNOWN)
      expect([COUNTS, UNKNOWN]).toContain(fresh.judge(body, i, 0, ack))
    }
  })

  it("is sound: what it calls certain is what the aggregator's rule does, in every order the log can take", () => {
    const fleet = makeFleet({ apps: 2, seed: 8 })
    const own = owners(2)
    const partitionOf = new Lateness(fleet, own)
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            app: fc.integer({ min: 0, max: 1 }),
            made: fc.integer({ min: 0, max: 20 * 60_000 }),
            // Appended this long after it was made, and acknowledged this long after that.
            appendAfter: fc.integer({ min: 0, max: 120_000 }),
            ackAfter: fc.integer({ min: 0, max: 5_000 }),
            late: fc.constantFrom(0, 0.2),
          }),
          { minLength: 2, maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 1000 }),
        (specs, seed) => {
          const generator = new Generator(fleet, {
            seed,
            lateChance: 0.3,
            tooLateChance: 0.1,
            lateMaxMs: 400_000,
          })
          const lateness = new Lateness(fleet, own)
          const bodies = specs
            .map((s) => ({ s, body: generator.body(s.app, START + s.made, 20) }))
            .sort((a, b) => a.body.sentMs - b.body.sentMs)
          // The harness's view, in wall-clock order: each body made at sentMs, acknowledged at ack.
          const events: Array<{ at: number; kind: "made" | "ack"; i: number }> = []
          for (const [i, { s, body }] of bodies.entries()) {
            events.push({ at: body.sentMs, kind: "made", i })
            events.push({ at: body.sentMs + s.appendAfter + s.ackAfter, kind: "ack", i })
          }
          events.sort((a, b) => a.at - b.at || (a.kind === "made" ? -1 : 1))
          const verdicts = new Map<number, Array<[number, number]>>()
          for (const e of events) {
            const { s, body } = bodies[e.i]!
            if (e.kind === "made") lateness.made(body)
            else {
              const ack = body.sentMs + s.appendAfter + s.ackAfter
              verdicts.set(
                e.i,
                Array.from({ length: body.samples }, (_, k) => [
                  lateness.judge(body, k, 0, ack),
                  lateness.judge(body, k, 1, ack),
                ]),
              )
              lateness.acknowledged(body)
            }
          }
          // The log: bodies in the order they were appended; each record's ingest time its append time.
          const log = [...bodies.entries()].sort(
            (a, b) => a[1].body.sentMs + a[1].s.appendAfter - (b[1].body.sentMs + b[1].s.appendAfter),
          )
          const stream = new Map<string, number>()
          for (const [i, { s, body }] of log) {
            const ingest = body.sentMs + s.appendAfter
            for (let k = 0; k < body.samples; k++) {
              const slot = body.slots[k]!
              const series = fleet.apps[body.app]!.series
              const cell = `${typeOfMetric(series.metric[slot]!)}:${partitionOf.partitionOf(body.app, slot)}`
              const t = body.times[k]!
              const st = Math.max(stream.get(cell) ?? Number.NEGATIVE_INFINITY, Math.min(t, ingest))
              stream.set(cell, st)
              for (const period of [0, 1] as const) {
                const size = PERIOD_MS[period]
                const counts = t - (t % size) + size + LATENESS_MS > st
                const verdict = verdicts.get(i)![k]![period]!
                if (verdict === COUNTS) expect(counts).toBe(true)
                if (verdict === DROPPED) expect(counts).toBe(false)
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe("the oracle with 15-minute windows and the lateness rule", () => {
  it("keeps 15-minute rollups merged from the samples, drops too-late ones (counted per type) and reads where they fall", () => {
    const fleet = makeFleet({ apps: 1, seed: 6 })
    const lateness = new Lateness(fleet, owners(1))
    const oracle = new Oracle(fleet, { quarters: true, lateness })
    const plain = new Oracle(fleet)
    const generator = new Generator(fleet, { tooLateChance: 0.05 })
    let tooLate = 0
    for (let t = 0; t < 60; t++) {
      const body = generator.body(0, Date.now() - 60_000 + t * 1000, 100)
      oracle.sent(body)
      tooLate += body.tooLate
      oracle.accept(body)
      plain.accept(body)
    }
    const x = oracle.expectation(0)
    // 1m: the same as the plain oracle's, without the too-late samples' windows where they alone fell.
    for (const [k, r] of x.rollups)
      expect(plain.expectation(0).rollups.get(k)?.count).toBeGreaterThanOrEqual(r.count)
    // 15m: each the merge of its 1m windows.
    expect(x.rollups15!.size).toBeGreaterThan(0)
    for (const [k, q] of x.rollups15!) {
      const parts = [...x.rollups.values()].filter(
        (r) =>
          r.processType === q.processType &&
          r.metric === q.metric &&
          r.label === q.label &&
          r.minute - (r.minute % 900_000) === q.minute,
      )
      expect(
        parts.reduce((a, r) => a + r.count, 0),
        k,
      ).toBe(q.count)
      expect(Math.min(...parts.map((r) => r.min))).toBe(q.min)
      expect(Math.max(...parts.map((r) => r.max))).toBe(q.max)
    }
    // The first body had no floor: its too-late lines are unknown; later ones are dropped and counted.
    expect(tooLate).toBeGreaterThan(10)
    const records = oracle.droppedRecords(0)
    expect(records.ROUTER_REQUESTS).toBeGreaterThan(0)
    expect(records.ROUTER_REQUESTS).toBeLessThanOrEqual(tooLate)
    expect(oracle.droppedRecords(1).ROUTER_REQUESTS).toBe(records.ROUTER_REQUESTS)
    expect(x.span!.fromMs).toBeLessThan(Date.now() - 24 * 60_000)
    // Nothing determinate comes from a too-late line: every 1m rollup lies after the span's end.
    for (const r of x.rollups.values()) expect(r.minute).toBeGreaterThan(x.span!.toMs - 60_000)
    expect(rollupKey("web", "router_status", "200", 0)).toBe("web|router_status|200|0")
  })
})
