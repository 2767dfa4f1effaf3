/**
 * The sink and the retrier in the deterministic harness (in-memory bus and store, TestClock):
 * idempotent, order-safe, never losing a row — across a down shard, crashes at every batch, and
 * rebalances.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { makeLocalBus } from "../../src/bus/local.ts"
import { PartitionedLog } from "../../src/bus/memory/MemoryLog.ts"
import { catalogue, deadTopic, retryTopic, summaryTopic } from "../../src/bus/Topics.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { retrierTopology, retryTopics } from "../../src/sink/Retrier.ts"
import { retrierOptions, sinkOptions } from "../../src/sink/Sink.ts"
import { sinkTopology, summaryTopics } from "../../src/sink/Topology.ts"
import { makeMemoryStore, SummaryStore } from "../../src/store/SummaryStore.ts"
import {
  crashAfter,
  type RunMode,
  type RunOptions,
  runTopology,
  toTheEnd,
} from "../../src/testing/Harness.ts"

const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const ALL = Array.from({ length: 32 }, (_, p) => p)
const owners = Array.from(
  { length: 12 },
  (_, i) => `0b7a3f2e-${String(i).padStart(4, "0")}-4a57-9c1e-2f0d8b4f1a01`,
)
const PROCESS_TYPES = ["web", "worker"]

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
      for (const pt of PROCESS_TYPES) {
        out.push(summary(owner, pt, minute, 1), summary(owner, pt, minute, 3))
        if (minute % 3 === 0) out.push(summary(owner, pt, minute, 2)) // an older version after a newer one
      }
  return out
}
const rowsPerSeries = 30

/** A log with the traffic on the summary topics (not compacted: an older version must arrive after a newer one). */
const setup = (shards = 3) => {
  const log = new PartitionedLog()
  for (const spec of catalogue(1)) log.createTopic({ ...spec, config: { "cleanup.policy": "delete" } })
  for (const r of traffic()) log.appendOne(r.topic, r.key, r.value, r.timestamp)
  const store = makeMemoryStore(shards)
  return { log, store, layer: Layer.succeed(SummaryStore, store) }
}

type Store = ReturnType<typeof makeMemoryStore>

/** Every stored row of the traffic's series (on the shards not `skipping`), by `owner:pt:start`, with its shard. */
const readAll = (store: Store, skipping?: number) =>
  Effect.gen(function* () {
    const rows = new Map<string, { version: number; count: number; shard: number }>()
    for (const owner of owners)
      for (const pt of PROCESS_TYPES) {
        const shard = store.shardOf(owner, pt)
        if (shard === skipping) continue
        const found = yield* store.readSummaries(shard, {
          type: "ROUTER_REQUESTS",
          period: "1m",
          owner,
          metric: "router_service_ms",
          processTypes: [pt],
          fromMs: T,
          toMs: T + 3_600_000,
        })
        for (const r of found)
          rows.set(`${owner}:${pt}:${r.startMs}`, { version: r.version, count: r.count, shard })
      }
    return rows
  })

const sink = (log: PartitionedLog, mode: RunMode, options: RunOptions & { group?: string } = {}) =>
  runTopology(
    log,
    { group: options.group ?? "tally-sink", topics: summaryTopics(""), partitions: ALL, maxRecords: 7 },
    // Commits after every acknowledgement: virtual time stands still, so an interval would never pass.
    (source, stop) =>
      sinkTopology(
        { ...sinkOptions(""), group: options.group ?? "tally-sink", commitIntervalMs: 0 },
        source,
        stop,
      ),
    mode,
    options,
  )

const retrier = (log: PartitionedLog, mode: RunMode) =>
  runTopology(
    log,
    { group: "tally-retrier", topics: retryTopics(""), partitions: ALL, maxRecords: 5 },
    (source, stop) => retrierTopology({ ...retrierOptions(""), commitIntervalMs: 0 }, source, stop),
    mode,
    { clockStep: "100 millis" },
  )

const committedAll = (log: PartitionedLog, group: string, topics: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const committed = yield* makeLocalBus(log).committed(group, topics)
    const behind = committed.filter((c) => c.offset !== log.highWatermark(c.topic, c.partition))
    const withRecords = topics.flatMap((t) =>
      ALL.filter((p) => log.highWatermark(t, p) > 0).map((p) => `${t}/${p}`),
    )
    return (
      behind.length === 0 &&
      withRecords.every((id) => committed.some((c) => `${c.topic}/${c.partition}` === id))
    )
  })

const everySeriesAtVersion3 = (rows: ReadonlyMap<string, { version: number; count: number }>) =>
  rows.size === owners.length * PROCESS_TYPES.length * rowsPerSeries &&
  [...rows.values()].every((r) => r.version === 3 && r.count === 3)

describe("sink", () => {
  it.effect(
    "writes the newest version of every key exactly; a full replay changes nothing; offsets are committed",
    () =>
      Effect.gen(function* () {
        const { log, store, layer } = setup()
        yield* sink(log, toTheEnd).pipe(Effect.provide(layer))
        const first = yield* readAll(store)
        assert.isTrue(everySeriesAtVersion3(first))
        assert.isTrue(yield* committedAll(log, "tally-sink", summaryTopics("")))
        // Another group replays every summary from the start: the rows stay exactly the same.
        yield* sink(log, toTheEnd, { group: "another-sink" }).pipe(Effect.provide(layer))
        assert.deepStrictEqual(yield* readAll(store), first)
      }),
  )

  it.effect(
    "killed after any batch and restarted, it ends with exactly the newest version of every key",
    () =>
      Effect.gen(function* () {
        const batches = Math.ceil(traffic().length / 7)
        for (let k = 1; k <= batches; k += 7) {
          const { log, store, layer } = setup()
          yield* sink(log, crashAfter(k)).pipe(Effect.provide(layer))
          yield* sink(log, crashAfter(Math.ceil(k / 3))).pipe(Effect.provide(layer))
          yield* sink(log, toTheEnd).pipe(Effect.provide(layer))
          assert.isTrue(everySeriesAtVersion3(yield* readAll(store)), `killed after batch ${k}`)
          assert.isTrue(yield* committedAll(log, "tally-sink", summaryTopics("")), `killed after batch ${k}`)
        }
      }),
  )

  it.effect("rebalances in the middle void the old assignments' commits; the result is still exact", () =>
    Effect.gen(function* () {
      const { log, store, layer } = setup()
      const generations: Array<number> = []
      // Every 40th batch the group starts a new generation (another member joined and left).
      yield* runTopology(
        log,
        { group: "tally-sink", topics: summaryTopics(""), partitions: ALL, maxRecords: 7 },
        // A linger shorter than the virtual time between rebalances (each voids the batches lingering).
        (source, stop) =>
          sinkTopology({ ...sinkOptions(""), lingerMs: 500, commitIntervalMs: 0 }, source, stop),
        toTheEnd,
        {
          // Virtual time moves on, so batches linger out between the rebalances.
          clockStep: "100 millis",
          onBatch: (n) => {
            if (n % 40 === 0) {
              log.groups.rebalance("tally-sink")
              generations.push(log.groups.generation("tally-sink"))
            }
          },
        },
      ).pipe(Effect.provide(layer))
      assert.isAbove(generations.length, 2)
      assert.isTrue(everySeriesAtVersion3(yield* readAll(store)))
      assert.isTrue(yield* committedAll(log, "tally-sink", summaryTopics("")))
    }),
  )

  it.effect(
    "a shard that is down: its batches go to RETRY, every other shard has every row, the retrier lands the rest",
    () =>
      Effect.gen(function* () {
        const { log, store, layer } = setup()
        store.setAvailable(1, false)
        // Virtual time moves on, so the quick tries of the down shard's batches play out.
        yield* sink(log, toTheEnd, { clockStep: "100 millis" }).pipe(Effect.provide(layer))
        const retried = ALL.reduce((n, p) => n + log.highWatermark(retryTopic("ROUTER_REQUESTS"), p), 0)
        assert.isAbove(retried, 0, "batches of the down shard went to RETRY")
        // The sink moved on: everything is committed, and every series of the other shards is complete.
        assert.isTrue(yield* committedAll(log, "tally-sink", summaryTopics("")))
        const written = yield* readAll(store, 1)
        const healthy = owners.flatMap((o) => PROCESS_TYPES.filter((pt) => store.shardOf(o, pt) !== 1))
        assert.isAbove(healthy.length, 0)
        assert.strictEqual(
          [...written.values()].filter((r) => r.shard !== 1 && r.version === 3).length,
          healthy.length * rowsPerSeries,
        )
        store.setAvailable(1, true)
        assert.strictEqual([...(yield* readAll(store)).values()].filter((r) => r.shard === 1).length, 0)
        yield* retrier(log, toTheEnd).pipe(Effect.provide(layer))
        assert.isTrue(everySeriesAtVersion3(yield* readAll(store)))
        assert.isTrue(yield* committedAll(log, "tally-retrier", retryTopics("")))
      }),
  )

  it.effect(
    "a row the store refuses goes to the dead letters with the reason; every other row is written",
    () =>
      Effect.gen(function* () {
        const { log, store, layer } = setup()
        const poison = summary(owners[0]!, "web\u0000x", 3, 1)
        log.appendOne(poison.topic, poison.key, poison.value, poison.timestamp)
        yield* sink(log, toTheEnd).pipe(Effect.provide(layer))
        assert.isTrue(everySeriesAtVersion3(yield* readAll(store)))
        assert.isTrue(yield* committedAll(log, "tally-sink", summaryTopics("")))
        const dead = ALL.flatMap((p) => log.readAll(deadTopic("ROUTER_REQUESTS"), p))
        assert.strictEqual(dead.length, 1)
        const letter = Wire.DeadLetter.decode(dead[0]!.value)
        assert.strictEqual(letter.key, poison.key)
        assert.deepStrictEqual([...letter.value], [...poison.value])
        assert.match(letter.reason, /0x00/)
        assert.strictEqual(letter.stage, "sink")
        assert.strictEqual(
          ALL.reduce((n, p) => n + log.highWatermark(retryTopic("ROUTER_REQUESTS"), p), 0),
          0,
        )
      }),
  )

  it.effect(
    "a hung shard holds back only its own rows, for the quick-try window, then they go to RETRY",
    () =>
      Effect.gen(function* () {
        const { log, store, layer } = setup()
        store.setHung(2, true)
        // Virtual time moves on, so the tries' deadlines pass.
        yield* sink(log, toTheEnd, { clockStep: "100 millis" }).pipe(Effect.provide(layer))
        assert.isTrue(yield* committedAll(log, "tally-sink", summaryTopics("")))
        const written = yield* readAll(store, 2)
        const healthy = owners.flatMap((o) => PROCESS_TYPES.filter((pt) => store.shardOf(o, pt) !== 2))
        assert.strictEqual(written.size, healthy.length * rowsPerSeries)
        assert.isAbove(
          ALL.reduce((n, p) => n + log.highWatermark(retryTopic("ROUTER_REQUESTS"), p), 0),
          0,
        )
        store.setHung(2, false)
        yield* retrier(log, toTheEnd).pipe(Effect.provide(layer))
        assert.isTrue(everySeriesAtVersion3(yield* readAll(store)))
      }),
  )
})
