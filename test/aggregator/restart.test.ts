/**
 * Restart exactness in the deterministic harness (in-memory bus, TestClock): the aggregator killed at
 * every message boundary (and between a produce and its commit) and restarted ends with exactly the
 * summaries of an oracle computed directly from the input.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { visitSamples } from "../../src/aggregator/Samples.ts"
import { type TopologyOptions, topology } from "../../src/aggregator/Topology.ts"
import { Bus } from "../../src/bus/Bus.ts"
import { makeLocalBus } from "../../src/bus/local.ts"
import type { PartitionedLog } from "../../src/bus/memory/MemoryLog.ts"
import { rawTopic } from "../../src/bus/Topics.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { RolledUpTypes } from "../../src/domain/MeasurementType.ts"
import * as Wire from "../../src/proto/Wire.ts"
import {
  copyTopics,
  crashAfter,
  crashInCommit,
  compare as differences,
  makeLog,
  type RunMode,
  runTopology,
  toTheEnd,
} from "../../src/testing/Harness.ts"
import { oracle, stored } from "./oracle.ts"
import { batches, sendScenario, T0 } from "./scenario.ts"

const ALL = Array.from({ length: 32 }, (_, p) => p)
const options = (flushAfterMs: number): TopologyOptions => ({
  group: "harness",
  prefix: "",
  types: RolledUpTypes,
  partitions: ALL,
  flushAfterMs,
  commitIntervalMs: 0,
})

/** The raw topics of the scenario, built once through the ingress. */
const buildInput = Effect.gen(function* () {
  const log = makeLog()
  const bus = makeLocalBus(log)
  const statuses = yield* sendScenario(batches(60)).pipe(
    Effect.provide(Layer.mergeAll(Layer.succeed(Bus, bus), TallyConfig.layerWith({ retentionDays: 3650 }))),
  )
  return { log, statuses }
})

const rawTopics = RolledUpTypes.map((t) => rawTopic(t))
/** A fresh log with the same raw records (same partitions, same offsets) and nothing else. */
const copyRaw = (template: PartitionedLog) => copyTopics(template, rawTopics)

const rawCount = (log: PartitionedLog) =>
  RolledUpTypes.reduce((n, t) => n + ALL.reduce((m, p) => m + log.highWatermark(rawTopic(t), p), 0), 0)

/** Runs the aggregator on `log` with batches of at most `maxRecords`, until the crash point or to the end. */
const run = (log: PartitionedLog, opts: TopologyOptions, mode: RunMode, maxRecords: number) =>
  runTopology(
    log,
    { group: opts.group, topics: rawTopics, partitions: opts.partitions, maxRecords },
    (source, stop) => topology(opts, source, stop),
    mode,
  )

const compare = (log: PartitionedLog, want: ReturnType<typeof oracle>, context: string) => {
  const got = stored(log, RolledUpTypes)
  const strip = new Map([...got].map(([k, { version: _, ...v }]) => [k, v]))
  assert.deepStrictEqual(differences(want, strip), { missing: [], extra: [], different: [] }, context)
  // The compacted view (what a brand-new store would read) converged on the same snapshots.
  for (const type of RolledUpTypes)
    for (const p of ALL)
      for (const r of log.read(`${type}_SUMMARY.1`, p, 0, Number.MAX_SAFE_INTEGER).records)
        if (Wire.Summary.decode(r.value).version !== got.get(r.key)?.version)
          assert.fail(`${context}: compacted ${r.key} is stale`)
}

describe("aggregator restart exactness (in-memory bus, TestClock)", () => {
  it.effect("the scenario exercises late, too-late, retried and refused lines", () =>
    Effect.gen(function* () {
      const { log, statuses } = yield* buildInput
      assert.isTrue(statuses.every((s) => s === "Success"))
      const want = oracle(log, RolledUpTypes)
      assert.isAbove(rawCount(log), 200)
      assert.isAbove(want.size, 100)
      // What reached the raw topics: retried deliveries, lines late by minutes, nothing from the future.
      let retried = 0
      let late = 0
      for (const type of RolledUpTypes)
        for (const p of ALL) {
          let st = Number.NEGATIVE_INFINITY
          const deliveries = new Map<string, Set<string>>()
          for (const r of log.readAll(rawTopic(type), p)) {
            const origin = visitSamples(type, r.value, () => undefined)
            const t = origin.timeUs / 1000
            if (st - t >= 2 * 60_000) late++
            st = Math.max(st, t)
            const id = `${r.key}|${origin.frameId}`
            if (!deliveries.has(id)) deliveries.set(id, new Set())
            deliveries.get(id)!.add(origin.delivery)
            assert.isBelow(t, T0 + 60 * 30_000 + 60 * 60_000 + 1, "no far-future line got through")
          }
          for (const [id, ds] of deliveries) if (!id.endsWith("|") && ds.size > 1) retried++
        }
      assert.isAbove(retried, 0, "the scenario has retried batches")
      assert.isAbove(late, 5, "the scenario has late lines")
      // Without a kill, with flushes after every change or only at close, the result is the oracle's.
      for (const flushAfter of [0, 10_000]) {
        const copy = copyRaw(log)
        yield* run(copy, options(flushAfter), toTheEnd, 1)
        compare(copy, want, `no kill, flushAfter ${flushAfter}`)
      }
    }),
  )

  it.effect(
    "killed at every message boundary and restarted: zero differences from the oracle",
    () =>
      Effect.gen(function* () {
        const { log } = yield* buildInput
        const want = oracle(log, RolledUpTypes)
        const total = rawCount(log)
        for (let k = 1; k < total; k++) {
          const copy = copyRaw(log)
          yield* run(copy, options(0), crashAfter(k), 1)
          yield* run(copy, options(0), toTheEnd, 1)
          compare(copy, want, `killed after record ${k} of ${total}`)
        }
      }),
    600_000,
  )

  it.effect(
    "killed between a produce and its commit, and killed twice, with larger batches",
    () =>
      Effect.gen(function* () {
        const { log } = yield* buildInput
        const want = oracle(log, RolledUpTypes)
        const steps = Math.ceil(rawCount(log) / 7)
        for (let k = 1; k < steps + 3; k++) {
          const copy = copyRaw(log)
          yield* run(copy, options(10_000), crashInCommit(k), 7)
          yield* run(copy, options(0), crashAfter(Math.max(1, Math.floor(k / 2))), 3)
          yield* run(copy, options(10_000), toTheEnd, 7)
          compare(copy, want, `killed at commit ${k}, then again`)
        }
      }),
    600_000,
  )

  it.effect(
    "rebalances in the middle: kept state where the commits are its own, rebuilt from them otherwise",
    () =>
      Effect.gen(function* () {
        const { log } = yield* buildInput
        const want = oracle(log, RolledUpTypes)
        // After a rebalance the consumer reads again from the commit points (the oldest open windows), so a
        // few rebalances per run, as in production, not one every few batches (that would never finish).
        for (const at of [
          [30, 90, 150],
          [5, 60],
          [100, 101, 102],
        ]) {
          const copy = copyRaw(log)
          let rebalances = 0
          yield* runTopology(
            copy,
            { group: "harness", topics: rawTopics, partitions: ALL, maxRecords: 2 },
            (source, stop) => topology(options(0), source, stop),
            toTheEnd,
            {
              onBatch: (n) => {
                if (at.includes(n)) {
                  copy.groups.rebalance("harness")
                  rebalances++
                }
              },
            },
          )
          assert.strictEqual(rebalances, at.length)
          compare(copy, want, `rebalanced at batches ${at.join(", ")}`)
        }
      }),
  )

  it.effect("a hot standby takes over from an owner that dies, from the owner's commits", () =>
    Effect.gen(function* () {
      const { log } = yield* buildInput
      const want = oracle(log, RolledUpTypes)
      for (const k of [5, 40, 150]) {
        const copy = copyRaw(log)
        const owner = yield* Effect.forkChild(run(copy, options(0), crashAfter(k), 1))
        // The owner joins first; the standby joins behind it and gets an empty assignment.
        while (copy.groups.generation("harness") === 0) yield* Effect.yieldNow
        const standby = yield* Effect.forkChild(run(copy, options(0), toTheEnd, 1))
        yield* Fiber.join(owner)
        yield* Fiber.join(standby)
        compare(copy, want, `the owner died after batch ${k}`)
      }
    }),
  )
})
