/**
 * Restart exactness in the deterministic harness (in-memory bus, TestClock): the aggregator killed at
 * every message boundary (and between a produce and its commit) and restarted ends with exactly the
 * summaries of an oracle computed directly from the input.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Stream } from "effect"
import { visitSamples } from "../../src/aggregator/Samples.ts"
import { flushAll, initialState, type TopologyOptions, topology } from "../../src/aggregator/Topology.ts"
import { Bus } from "../../src/bus/Bus.ts"
import { PartitionedLog } from "../../src/bus/MemoryLog.ts"
import { makeMemoryBus } from "../../src/bus/memory.ts"
import type { BusApi } from "../../src/bus/Records.ts"
import { catalogue, rawTopic } from "../../src/bus/Topics.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { RolledUpTypes } from "../../src/domain/MeasurementType.ts"
import * as Wire from "../../src/proto/Wire.ts"
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
  const log = new PartitionedLog()
  for (const spec of catalogue(1)) log.createTopic(spec)
  const bus = makeMemoryBus(log)
  const statuses = yield* sendScenario(batches(60)).pipe(
    Effect.provide(Layer.mergeAll(Layer.succeed(Bus, bus), TallyConfig.layerWith({ retentionDays: 3650 }))),
  )
  return { log, statuses }
})

/** A fresh log with the same raw records (same partitions, same offsets) and nothing else. */
const copyRaw = (template: PartitionedLog) => {
  const log = new PartitionedLog()
  for (const spec of catalogue(1)) log.createTopic(spec)
  for (const type of RolledUpTypes)
    for (let p = 0; p < 32; p++)
      for (const r of template.readAll(rawTopic(type), p))
        log.append(rawTopic(type), r.key, r.value, r.timestamp)
  return log
}

const rawCount = (log: PartitionedLog) =>
  RolledUpTypes.reduce((n, t) => n + ALL.reduce((m, p) => m + log.highWatermark(rawTopic(t), p), 0), 0)

/** Runs the aggregator on `log` until `stopAfter` batches (a crash) or until caught up (then a graceful stop). */
const run = (
  log: PartitionedLog,
  opts: TopologyOptions,
  mode: { readonly crashAfter: number; readonly commitDies?: boolean } | "to-the-end",
  maxRecords: number,
) =>
  Effect.gen(function* () {
    const memory = makeMemoryBus(log)
    let commits = 0
    const bus: BusApi =
      mode !== "to-the-end" && mode.commitDies
        ? {
            ...memory,
            commit: (group, offsets) =>
              ++commits >= mode.crashAfter
                ? Effect.die("killed between produce and commit")
                : memory.commit(group, offsets),
          }
        : memory
    const withBus = Effect.provideService(Bus, bus)
    const state = yield* withBus(initialState(opts))
    const source = bus.consume({
      group: opts.group,
      topics: opts.types.map((t) => rawTopic(t)),
      partitions: opts.partitions,
      maxRecords,
      bufferBatches: 1,
    })
    if (mode === "to-the-end") {
      const hw = new Map<string, number>()
      for (const t of opts.types)
        for (const p of ALL) hw.set(`${rawTopic(t)}/${p}`, log.highWatermark(rawTopic(t), p))
      const caughtUp = () =>
        [...hw].every(([id, h]) => (state.rollups.get(id)?.nextOffset ?? initialOffset(state, id)) >= h)
      const initialOffset = (_: unknown, id: string) => committedOffsets.get(id) ?? 0
      const committedOffsets = new Map(
        (yield* withBus(
          memory.committed(
            opts.group,
            opts.types.map((t) => rawTopic(t)),
          ),
        )).map((c) => [`${c.topic}/${c.partition}`, c.offset]),
      )
      if (!caughtUp())
        yield* withBus(
          topology(opts, state, source.pipe(Stream.takeUntil(() => false)), Effect.never, Stream.empty).pipe(
            Stream.takeUntil(() => caughtUp()),
            Stream.runDrain,
          ),
        )
      yield* withBus(flushAll(opts, state))
      return
    }
    const exit = yield* withBus(
      topology(opts, state, source.pipe(Stream.take(mode.crashAfter)), Effect.never, Stream.empty).pipe(
        Stream.runDrain,
      ),
    ).pipe(Effect.exit)
    if (Exit.isFailure(exit) && !Cause.hasDies(exit.cause)) return yield* Effect.failCause(exit.cause)
  })

const compare = (log: PartitionedLog, want: ReturnType<typeof oracle>, context: string) => {
  const got = stored(log, RolledUpTypes)
  const strip = new Map([...got].map(([k, { version: _, ...v }]) => [k, v]))
  const missing = [...want.keys()].filter((k) => !strip.has(k))
  const extra = [...strip.keys()].filter((k) => !want.has(k))
  const different = [...want]
    .filter(([k, v]) => strip.has(k) && JSON.stringify(strip.get(k)) !== JSON.stringify(v))
    .map(([k]) => k)
  assert.deepStrictEqual({ missing, extra, different }, { missing: [], extra: [], different: [] }, context)
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
        yield* run(copy, options(flushAfter), "to-the-end", 1)
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
          yield* run(copy, options(0), { crashAfter: k }, 1)
          yield* run(copy, options(0), "to-the-end", 1)
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
          yield* run(copy, options(10_000), { crashAfter: k, commitDies: true }, 7)
          yield* run(copy, options(0), { crashAfter: Math.max(1, Math.floor(k / 2)) }, 3)
          yield* run(copy, options(10_000), "to-the-end", 7)
          compare(copy, want, `killed at commit ${k}, then again`)
        }
      }),
    600_000,
  )
})
