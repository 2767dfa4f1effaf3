/** What only the in-memory log has: outage drills, determinism, compaction on read. */
import { assert, layer } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { Bus } from "../../src/bus/Bus.ts"
import { MemoryLog } from "../../src/bus/memory/MemoryLog.ts"
import { records } from "./Bus.conformance.ts"

const spec = (name: string, compact = false) => ({
  name,
  partitions: 4,
  replicationFactor: 1,
  config: { "cleanup.policy": compact ? "compact" : "delete" },
})

layer(Bus.layerMemory)("in-memory bus", (it) => {
  it.effect("an outage fails produce as Unavailable and appends nothing; readers resume when it ends", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const log = yield* MemoryLog
      yield* bus.ensureTopics([spec("outage")])
      const reader = yield* bus.consume({ group: "g", topics: ["outage"], partitions: [0, 1, 2, 3] }).pipe(
        Stream.flatMap((b) => (b._tag === "Batch" ? Stream.fromIterable(b.records) : Stream.empty)),
        Stream.take(4),
        Stream.runCollect,
        Effect.forkChild,
      )
      log.setAvailable(false)
      const error = yield* Effect.flip(bus.produce(records("outage", 2, 2)))
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(
        [0, 1, 2, 3].reduce((n, p) => n + log.highWatermark("outage", p), 0),
        0,
      )
      log.setAvailable(true)
      yield* bus.produce(records("outage", 2, 2))
      const got = yield* Fiber.join(reader)
      assert.strictEqual(got.length, 4)
    }),
  )

  it.effect("a reader woken by appends leaves no membership wake-up behind (one per wait leaked)", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const log = yield* MemoryLog
      yield* bus.ensureTopics([spec("wakes")])
      const seen: Array<number> = []
      const reader = yield* bus.consume({ group: "w", topics: ["wakes"], partitions: [0, 1, 2, 3] }).pipe(
        Stream.flatMap((b) => (b._tag === "Batch" ? Stream.fromIterable(b.records) : Stream.empty)),
        Stream.runForEach((r) => Effect.sync(() => seen.push(r.offset))),
        Effect.forkChild,
      )
      // One record at a time, each read before the next is produced: every one is a wait woken by an append.
      for (let i = 1; i <= 50; i++) {
        yield* bus.produce(records("wakes", 1, 1))
        while (seen.length < i) yield* Effect.yieldNow
      }
      assert.isAtMost(log.groups.waiting(), 1)
      yield* Fiber.interrupt(reader)
      assert.strictEqual(log.groups.waiting(), 0)
    }),
  )

  it.effect("a busy partition is read in batches as large as a Kafka fetch, not 500 records a round", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      yield* bus.ensureTopics([{ ...spec("busy"), partitions: 1 }])
      yield* bus.produce(records("busy", 1, 3000))
      const first = yield* bus.consume({ group: "b", topics: ["busy"], partitions: [0] }).pipe(
        Stream.filter((b) => b._tag === "Batch"),
        Stream.take(1),
        Stream.runCollect,
      )
      assert.strictEqual(first[0]?._tag === "Batch" ? first[0].records.length : 0, 3000)
    }),
  )

  it.effect("reading a compacted topic skips every superseded record", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const log = yield* MemoryLog
      yield* bus.ensureTopics([spec("compact", true)])
      yield* bus.produce(records("compact", 3, 4))
      const all = [0, 1, 2, 3].flatMap((p) => log.read("compact", p, 0, 1000).records)
      assert.deepStrictEqual(all.map((r) => new TextDecoder().decode(r.value)).sort(), [
        "v3-k0",
        "v3-k1",
        "v3-k2",
      ])
    }),
  )

  it.effect("a produce naming one unknown topic appends nothing at all", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const log = yield* MemoryLog
      yield* bus.ensureTopics([spec("known")])
      const error = yield* Effect.flip(
        bus.produce([
          ...records("known", 2, 2),
          { topic: "unknown", key: "a:web", value: new Uint8Array(), timestamp: 0 },
        ]),
      )
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(
        [0, 1, 2, 3].reduce((n, p) => n + log.highWatermark("known", p), 0),
        0,
      )
    }),
  )
})
