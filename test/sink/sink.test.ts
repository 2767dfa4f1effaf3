/** The sink and the retrier on the in-memory bus and store: idempotent, order-safe, never losing a row. */
import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Stream } from "effect"
import { Bus } from "../../src/bus/Bus.ts"
import { PartitionedLog } from "../../src/bus/MemoryLog.ts"
import { makeMemoryBus } from "../../src/bus/memory.ts"
import type { Batch, BusError } from "../../src/bus/Records.ts"
import { catalogue, retryTopic, summaryTopic } from "../../src/bus/Topics.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { InFlight } from "../../src/sink/Batches.ts"
import { retrierTopology, retryTopics } from "../../src/sink/Retrier.ts"
import { sinkOptions } from "../../src/sink/Sink.ts"
import { sinkTopology, summaryTopics } from "../../src/sink/Topology.ts"
import { makeMemoryStore, SummaryStore } from "../../src/store/SummaryStore.ts"

const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const ALL = Array.from({ length: 32 }, (_, p) => p)
const owners = Array.from(
  { length: 12 },
  (_, i) => `0b7a3f2e-${String(i).padStart(4, "0")}-4a57-9c1e-2f0d8b4f1a01`,
)

const summary = (owner: string, processType: string, minute: number, version: number) => {
  const key = `${owner}:${processType}:router_service_ms::1m:${T + minute * 60_000}`
  const value = Wire.Summary.encode({
    owner,
    processType,
    metric: "router_service_ms",
    label: "",
    period: Wire.Period.PERIOD_1M,
    startMs: T + minute * 60_000,
    count: version,
    sum: version * 10,
    sumsq: version * 100,
    min: 1,
    max: version,
    sketch: new Uint8Array([version]),
    version,
  }).finish()
  return { topic: summaryTopic("ROUTER_REQUESTS"), key, value, timestamp: T + minute * 60_000 }
}

/** 12 owners x 2 process types x 30 minutes, each key emitted at versions 1..3, some replayed out of order. */
const traffic = () => {
  const out: Array<ReturnType<typeof summary>> = []
  for (let minute = 0; minute < 30; minute++)
    for (const owner of owners)
      for (const pt of ["web", "worker"]) {
        out.push(summary(owner, pt, minute, 1), summary(owner, pt, minute, 3))
        if (minute % 3 === 0) out.push(summary(owner, pt, minute, 2)) // an older version after a newer one
      }
  return out
}
const expectedRows = owners.length * 2 * 30

const setup = () => {
  const log = new PartitionedLog()
  // Not compacted here: the sink must see an older version arrive after a newer one.
  for (const spec of catalogue(1)) log.createTopic({ ...spec, config: { "cleanup.policy": "delete" } })
  const store = makeMemoryStore(3)
  const layer = Layer.mergeAll(Layer.succeed(Bus, makeMemoryBus(log)), Layer.succeed(SummaryStore, store))
  return { log, store, layer }
}

const readAll = (store: ReturnType<typeof makeMemoryStore>) =>
  Effect.gen(function* () {
    const rows: Array<{ key: string; version: number; count: number }> = []
    for (const owner of owners)
      for (const pt of ["web", "worker"]) {
        const found = yield* store.readSummaries(store.shardOf(owner, pt), {
          type: "ROUTER_REQUESTS",
          period: "1m",
          owner,
          metric: "router_service_ms",
          processTypes: [pt],
          fromMs: T,
          toMs: T + 3_600_000,
        })
        for (const r of found)
          rows.push({ key: `${owner}:${pt}:${r.startMs}`, version: r.version, count: r.count })
      }
    return rows
  })

/**
 * Runs a topology until it has processed every record of its topics. A graceful one (the sink) is then
 * stopped through `stop`, so it writes and commits what it holds; the retrier is simply cut there.
 */
const drain = <E, R>(
  make: (source: Stream.Stream<Batch, BusError>, stop: Effect.Effect<void>) => Stream.Stream<number, E, R>,
  topics: ReadonlyArray<string>,
  group: string,
  log: PartitionedLog,
  graceful: boolean,
) =>
  Effect.gen(function* () {
    const bus = yield* Bus
    const total = topics.reduce((n, t) => n + ALL.reduce((m, p) => m + log.highWatermark(t, p), 0), 0)
    if (total === 0) return
    const stop = yield* Deferred.make<void>()
    let processed = 0
    yield* make(bus.consume({ group, topics, partitions: ALL, maxRecords: 7 }), Deferred.await(stop)).pipe(
      Stream.tap((n) => {
        processed += n
        return processed >= total ? Deferred.succeed(stop, undefined) : Effect.void
      }),
      Stream.takeUntil(() => !graceful && processed >= total),
      Stream.runDrain,
    )
  })

describe("sink", () => {
  it("in-flight offsets: the commit point never passes an unfinished record", () => {
    const f = new InFlight()
    expect(f.commitPoint()).toBeUndefined()
    for (const o of [5, 6, 7, 8]) f.add(o)
    f.finish(6)
    f.finish(8)
    expect(f.commitPoint()).toBe(5)
    f.finish(5)
    expect(f.commitPoint()).toBe(7)
    f.finish(7)
    expect(f.commitPoint()).toBe(9)
  })

  it.effect(
    "writes the newest version of every key exactly; a full replay changes nothing; offsets are committed",
    () =>
      Effect.gen(function* () {
        const { log, store, layer } = setup()
        const options = sinkOptions("")
        const sent = traffic()
        for (const r of sent) log.append(r.topic, r.key, r.value, r.timestamp)
        const run = (group: string) =>
          drain(
            (source, stop) => sinkTopology({ ...options, group }, source, stop, Stream.empty),
            summaryTopics(""),
            group,
            log,
            true,
          )
        yield* run("sink-a").pipe(Effect.provide(layer))
        const first = yield* readAll(store)
        assert.strictEqual(first.length, expectedRows)
        assert.isTrue(first.every((r) => r.version === 3 && r.count === 3))
        const committed = yield* makeMemoryBus(log).committed("sink-a", summaryTopics(""))
        for (const c of committed) assert.strictEqual(c.offset, log.highWatermark(c.topic, c.partition))
        // Another group replays every summary from the start: the rows stay exactly the same.
        yield* run("sink-b").pipe(Effect.provide(layer))
        assert.deepStrictEqual(yield* readAll(store), first)
      }),
  )

  it.live(
    "a shard that is down: its batches go to RETRY, the others are written, the retrier lands every row",
    () =>
      Effect.gen(function* () {
        const { log, store, layer } = setup()
        const options = sinkOptions("")
        const sent = traffic()
        for (const r of sent) log.append(r.topic, r.key, r.value, r.timestamp)
        store.setAvailable(1, false)
        yield* drain(
          (source, stop) => sinkTopology(options, source, stop, Stream.empty),
          summaryTopics(""),
          options.group,
          log,
          true,
        ).pipe(Effect.provide(layer))
        const retried = ALL.reduce((n, p) => n + log.highWatermark(retryTopic("ROUTER_REQUESTS"), p), 0)
        assert.isAbove(retried, 0, "batches of the down shard went to RETRY")
        // Every other shard has all its rows, and the sink committed everything (it moved on).
        for (const c of yield* makeMemoryBus(log).committed(options.group, summaryTopics("")))
          assert.strictEqual(c.offset, log.highWatermark(c.topic, c.partition))
        store.setAvailable(1, true)
        yield* drain(
          (source) => retrierTopology("retrier", "", source),
          retryTopics(""),
          "retrier",
          log,
          false,
        ).pipe(Effect.provide(layer))
        const rows = yield* readAll(store)
        assert.strictEqual(rows.length, expectedRows)
        assert.isTrue(rows.every((r) => r.version === 3))
      }),
  )
})
