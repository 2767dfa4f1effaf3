/**
 * The stage watchdog (issue 10), on the in-memory bus under TestClock: a stage with records waiting and
 * no progress is reported (status, gauge, /healthz checks) and fails "Stalled" at TALLY_STALL_TIMEOUT;
 * a stage that progresses, however slowly, or idles with nothing to read, is not.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Data, Deferred, Duration, Effect, Layer, Metric, Option, Stream } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"
import { Bus } from "../../src/bus/Bus.ts"
import { MemoryLog } from "../../src/bus/memory/MemoryLog.ts"
import type { Assigned, Batch, Delivery } from "../../src/bus/Records.ts"
import { loadSettings, TallyConfig } from "../../src/config/TallyConfig.ts"
import { healthOf } from "../../src/observability/SystemServer.ts"
import { controlled, type Flow, untilStopped } from "../../src/stream/Flow.ts"
import { patientWriter } from "../../src/stream/RetryFallback.ts"
import { runStage, StageFailed, Stages, stalledSeconds } from "../../src/stream/Stage.ts"

const TOPIC = "stall.test"
const GROUP = "stall-test"

const env = Layer.mergeAll(Bus.layerMemory, Stages.layer).pipe(
  Layer.provideMerge(TallyConfig.layerWith({ stallTimeout: Duration.minutes(2) })),
)

const setup = (records: number) =>
  Effect.gen(function* () {
    const log = yield* MemoryLog
    log.createTopic({ name: TOPIC, partitions: 1, replicationFactor: 1, config: {} })
    for (let i = 0; i < records; i++) log.appendOne(TOPIC, `k${i}`, new Uint8Array([i]), 0)
    return log
  })

/** A consumer stuck after its assignment (the broker restarted; it never fetches again). */
const stuckConsumer: Stream.Stream<Delivery> = Stream.concat(
  Stream.succeed<Delivery>({
    _tag: "Assigned",
    generation: 1,
    partitions: [
      { topic: TOPIC, partition: 0, committed: { topic: TOPIC, partition: 0, offset: 0, metadata: "" } },
    ],
    commit: () => Effect.void,
  } satisfies Assigned),
  Stream.never,
)

const consumer = (maxRecords?: number) =>
  Effect.map(Effect.service(Bus), (bus) =>
    bus.consume({ group: GROUP, topics: [TOPIC], partitions: [0], ...(maxRecords ? { maxRecords } : {}) }),
  )

/** A stage that passes everything on (Ticks every second), spending `perBatch` on each batch. */
const passing =
  (perBatch: Duration.Input = 0) =>
  <E>(source: Stream.Stream<Delivery, E>, stop: Effect.Effect<void>) =>
    controlled(source, { tickEvery: "1 second", stop }).pipe(
      Stream.mapEffect(
        (f): Effect.Effect<Flow<Batch>> =>
          f._tag === "Item" ? Effect.as(Effect.sleep(perBatch), f) : Effect.succeed(f),
      ),
      untilStopped,
    )

/** A stage whose write hangs on the first batch (Ticks queue up behind it). */
const hanging = <E>(source: Stream.Stream<Delivery, E>, stop: Effect.Effect<void>) =>
  controlled(source, { tickEvery: "1 second", stop }).pipe(
    Stream.mapEffect(
      (f): Effect.Effect<Flow<Batch>> => (f._tag === "Item" ? Effect.never : Effect.succeed(f)),
    ),
    untilStopped,
  )

/** A stage whose write goes through the retrier's patient writer to a shard that is down until `up`. */
const waitingOnShard =
  (up: { value: boolean }, written: Array<number>) =>
  <E>(source: Stream.Stream<Delivery, E>, stop: Effect.Effect<void>) => {
    const write = patientWriter<number, WriteError, never, never>({
      write: (rows) =>
        Effect.suspend(() =>
          up.value
            ? Effect.sync(() => void written.push(...rows))
            : Effect.fail(new WriteError({ reason: "Unavailable", message: "shard 1 refuses connections" })),
        ),
      deadLetter: () => Effect.void,
      tryTimeout: "5 seconds",
    })
    return controlled(source, { tickEvery: "1 second", stop }).pipe(
      Stream.mapEffect(
        (f): Effect.Effect<Flow<Batch>> =>
          f._tag === "Item"
            ? Effect.as(
                Effect.orDie(
                  write(
                    1,
                    f.value.records.map((r) => r.value[0]!),
                  ),
                ),
                f,
              )
            : Effect.succeed(f),
      ),
      untilStopped,
    )
  }

class WriteError extends Data.TaggedError("WriteError")<{
  reason: "Unavailable" | "Rejected"
  message: string
}> {}

const status = (name: string) => Effect.map(Effect.service(Stages), (s) => s.status().get(name)!)
const gauge = (name: string) =>
  Effect.map(Metric.value(Metric.withAttributes(stalledSeconds, { stage: name })), (s) => s.value)
const failure = Effect.flatMap(Effect.service(Stages), (s) => Deferred.poll(s.failure))

const options = { quietMs: 100, maxQuietMs: 1000 }

describe("stage watchdog", () => {
  it.effect("a consumer stuck with records waiting is reported, then fails Stalled at the bound", () =>
    Effect.gen(function* () {
      yield* setup(5)
      yield* runStage("stuck-reader", stuckConsumer, passing(), options)

      yield* TestClock.adjust("1 minute")
      const early = yield* status("stuck-reader")
      assert.strictEqual(early.state, "running")
      assert.strictEqual(early.lag, 5)
      assert.isAtLeast(early.stalledMs ?? 0, 55_000)
      assert.isAtLeast(yield* gauge("stuck-reader"), 55)
      assert.strictEqual((yield* healthOf.kafka)["stage stuck-reader"], "ok")
      assert.isTrue(Option.isNone(yield* failure))

      yield* TestClock.adjust("65 seconds")
      const late = yield* status("stuck-reader")
      assert.strictEqual(late.state, "failed")
      assert.match(late.reason!, /^Stalled: no records read for 12\d s while 5 wait/)
      assert.isAtLeast(yield* gauge("stuck-reader"), 120)
      assert.match(
        yield* PrometheusMetrics.format(),
        /^tally_stage_stalled_seconds\{stage="stuck-reader"\} 12\d$/m,
      )
      const health = yield* healthOf.kafka
      assert.match(health["stage stuck-reader"]!, /^down: failed: Stalled: no records read for 12\d s/)
      const failed = yield* failure
      assert.isTrue(Option.isSome(failed))
      const error = yield* Effect.flip(Option.getOrThrow(failed))
      assert.instanceOf(error, StageFailed)
      assert.strictEqual(error.stage, "stuck-reader")
      assert.match(error.message, /^stage stuck-reader failed: Stalled/)
    }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect("a write that hangs holds the records it read: Stalled at the bound", () =>
    Effect.gen(function* () {
      yield* setup(3)
      yield* runStage("hung-write", yield* consumer(), hanging, options)

      // The consumer joins and reads the batch within seconds; the write of it never returns.
      yield* TestClock.adjust("15 seconds")
      const read = yield* status("hung-write")
      assert.isDefined(read.lastBatchAt)
      yield* TestClock.adjust("100 seconds")
      assert.strictEqual((yield* status("hung-write")).state, "running")
      assert.isAtLeast(yield* gauge("hung-write"), 95)
      yield* TestClock.adjust("30 seconds")
      const s = yield* status("hung-write")
      assert.strictEqual(s.state, "failed")
      assert.match(s.reason!, /^Stalled: nothing out of its last step for 12\d s, holding records it read/)
      assert.isTrue(Option.isSome(yield* failure))
    }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect("a slow stage that keeps making progress through a backlog is not stalled", () =>
    Effect.gen(function* () {
      yield* setup(20)
      // One record a batch, 30 s each: records wait for 10 minutes, but the stage moves every 30 s.
      yield* runStage("slow", yield* consumer(1), passing("30 seconds"), options)
      let waited = 0
      for (let i = 0; i < 20; i++) {
        yield* TestClock.adjust("30 seconds")
        const s = yield* status("slow")
        assert.strictEqual(s.state, "running")
        assert.isBelow(s.stalledMs ?? 0, 40_000)
        waited = Math.max(waited, s.lag)
      }
      assert.isAtLeast(waited, 10)
      yield* TestClock.adjust("5 minutes")
      const s = yield* status("slow")
      assert.deepStrictEqual([s.state, s.lag, s.stalledMs], ["running", 0, 0])
      assert.strictEqual(yield* gauge("slow"), 0)
      assert.isTrue(Option.isNone(yield* failure))
    }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect("a stage idle with nothing to read is never stalled; new records it reads are progress", () =>
    Effect.gen(function* () {
      const log = yield* setup(0)
      yield* runStage("idle", yield* consumer(), passing(), options)
      yield* TestClock.adjust("10 minutes")
      let s = yield* status("idle")
      assert.deepStrictEqual([s.state, s.lag, s.stalledMs], ["running", 0, 0])
      assert.strictEqual(yield* gauge("idle"), 0)
      // Records after a long idle are read at once: the old idle time does not count against them.
      log.appendOne(TOPIC, "k", new Uint8Array([1]), 0)
      log.notify()
      yield* TestClock.adjust("10 minutes")
      s = yield* status("idle")
      assert.deepStrictEqual([s.state, s.lag, s.stalledMs], ["running", 0, 0])
      assert.isTrue(Option.isNone(yield* failure))
    }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect(
    "a writer retrying a shard that stays down is waiting, not stalled; it writes once the shard is back",
    () =>
      Effect.gen(function* () {
        yield* setup(3)
        const up = { value: false }
        const written: Array<number> = []
        yield* runStage("retrier", yield* consumer(), waitingOnShard(up, written), options)
        for (let i = 0; i < 20; i++) {
          yield* TestClock.adjust("30 seconds")
          const s = yield* status("retrier")
          assert.strictEqual(s.state, "running")
          assert.isBelow(s.stalledMs ?? 0, 40_000)
        }
        assert.deepStrictEqual(written, [])
        up.value = true
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual(written, [0, 1, 2])
        assert.strictEqual((yield* status("retrier")).state, "running")
        assert.isTrue(Option.isNone(yield* failure))
      }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect("while the end offsets cannot be read (broker down), a stuck stage is not judged", () =>
    Effect.gen(function* () {
      const log = yield* setup(5)
      log.setAvailable(false)
      yield* runStage("broker-down", stuckConsumer, passing(), options)
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual((yield* status("broker-down")).state, "running")
      assert.isTrue(Option.isNone(yield* failure))
      // The broker is back and the consumer still reads nothing: the bound counts from then.
      log.setAvailable(true)
      yield* TestClock.adjust("115 seconds")
      assert.strictEqual((yield* status("broker-down")).state, "running")
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* status("broker-down")).state, "failed")
    }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect("TALLY_STALL_TIMEOUT: 2 minutes by default, a duration of at least 1 s", () =>
    Effect.gen(function* () {
      const load = (env: Record<string, string>) =>
        loadSettings.pipe(
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })),
        )
      assert.strictEqual(Duration.toMillis((yield* load({})).stallTimeout), 120_000)
      assert.strictEqual(
        Duration.toMillis((yield* load({ TALLY_STALL_TIMEOUT: "45s" })).stallTimeout),
        45_000,
      )
      const error = yield* Effect.flip(load({ TALLY_STALL_TIMEOUT: "500ms" }))
      assert.strictEqual(
        error.message,
        'TALLY_STALL_TIMEOUT expects a duration of at least 1s, such as 30s or 2m; got "500ms"',
      )
    }),
  )
})
