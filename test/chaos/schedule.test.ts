/**
 * The chaos run's seeded schedule (tools/chaos/schedule.ts): replayable, every kind of its broker count,
 * every fault over by 80% of the load, Kafka nodes killed one at a time, and the kills placed inside the
 * long faults they are meant to hit.
 */
import { describe, expect, it } from "vitest"
import {
  EXTENSION_KINDS,
  FAULT_KINDS,
  type Fault,
  kindsFor,
  makeSchedule,
  NET_DELAY_SECONDS,
  NET_HOLE_SECONDS,
  ONE_BROKER_KINDS,
  THREE_BROKER_KINDS,
} from "../../tools/chaos/schedule.ts"

/** When a fault is over at the latest, as the schedule plans it. */
const end = (f: Fault) =>
  f.at +
  (f.kind === "net-shard" || f.kind === "net-broker"
    ? NET_DELAY_SECONDS + NET_HOLE_SECONDS
    : f.kind === "pg-restart"
      ? 10
      : (f.seconds ?? 0))

describe("the chaos schedule", () => {
  for (const brokers of [1, 3])
    for (const loadSeconds of [90, 900])
      it(`on ${brokers} broker(s), ${loadSeconds} s: the same every time, every kind, over by 80% of the load`, () => {
        const a = makeSchedule({ seed: 5, loadSeconds, brokers })
        expect(makeSchedule({ seed: 5, loadSeconds, brokers })).toEqual(a)
        expect(makeSchedule({ seed: 6, loadSeconds, brokers })).not.toEqual(a)
        expect(new Set(a.faults.map((f) => f.kind))).toEqual(new Set(kindsFor(brokers)))
        for (const k of brokers === 1 ? THREE_BROKER_KINDS : ONE_BROKER_KINDS)
          expect(a.faults.map((f) => f.kind)).not.toContain(k)
        for (const f of a.faults) expect(end(f), f.kind).toBeLessThanOrEqual(a.faultsEndBy)
        // Kafka nodes go down one at a time (a node kill's budget: its time down + 15 s to start).
        const nodes = a.faults
          .filter((f) => f.kind === "node-kill" || f.kind === "node-kill-in-flight")
          .sort((x, y) => x.at - y.at)
        for (let i = 1; i < nodes.length; i++)
          expect(nodes[i]!.at).toBeGreaterThanOrEqual(nodes[i - 1]!.at + nodes[i - 1]!.seconds! + 15)
      })

  it("15 minutes: each kill kind at least 3 times, three node kills and one in flight, three freezes of three stages", () => {
    const s = makeSchedule({ seed: 42, loadSeconds: 900, brokers: 3 })
    for (const kind of FAULT_KINDS.filter((k) => k.startsWith("kill-") && k !== "kill-alerter"))
      expect(s.faults.filter((f) => f.kind === kind).length, kind).toBeGreaterThanOrEqual(3)
    expect(s.faults.filter((f) => f.kind === "node-kill")).toHaveLength(3)
    expect(s.faults.filter((f) => f.kind === "node-kill-in-flight")).toHaveLength(1)
    expect(
      s.faults
        .filter((f) => f.kind === "freeze")
        .map((f) => f.target)
        .sort(),
    ).toEqual(["aggregator-0", "aggregator-1", "sink"])
    for (const f of s.faults.filter((x) => x.kind === "freeze")) expect(f.seconds).toBeGreaterThan(10)
  })

  it("places kills inside the faults they are meant to hit", () => {
    const s = makeSchedule({ seed: 42, loadSeconds: 900, brokers: 1 })
    const first = (kind: string) => s.faults.find((f) => f.kind === kind)!
    const inside = (kill: string, long: string) => {
      const l = first(long)
      expect(
        s.faults.some((f) => f.kind === kill && f.at > l.at && f.at < l.at + l.seconds!),
        `${kill} inside ${long}`,
      ).toBe(true)
    }
    inside("kill-sink", "shard-refuse")
    inside("kill-retrier", "shard-refuse")
    inside("kill-ingress", "catalogue-down")
    inside("kill-aggregator-0", "broker")
  })

  it("leaves out what is asked, and the alerter's kind unless its extension is there", () => {
    const without = makeSchedule({ seed: 3, loadSeconds: 900, without: ["broker", "pg-restart"] })
    expect(without.faults.map((f) => f.kind)).not.toContain("broker")
    expect(without.faults.map((f) => f.kind)).not.toContain("pg-restart")
    for (const k of EXTENSION_KINDS) {
      expect(kindsFor(1)).not.toContain(k)
      expect(
        makeSchedule({ seed: 3, loadSeconds: 900, extensions: [k] }).faults.map((f) => f.kind),
      ).toContain(k)
    }
  })
})
