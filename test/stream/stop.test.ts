/**
 * A bounded stop (issue 22, finding 9), under TestClock: whatever hangs — a write that never returns,
 * a commit to a broker that never answers, a consumer whose close never returns — a stage's stop ends
 * STOP_BUDGET_MS after it began (plus INTERRUPT_WAIT_MS when its own finalizers hang). Work still in
 * flight at ABANDON_MS before the end is dropped unacknowledged: the final commit covers what was done,
 * and not the records of the abandoned work. Stages of one stop group stop together, not one after the
 * other. (test/sink/stop.test.ts: `tally sink` itself against a hung shard.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Layer, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../../src/bus/Bus.ts"
import type { Batch, BusError, Committed, Delivery } from "../../src/bus/Records.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { controlled, untilStopped } from "../../src/stream/Flow.ts"
import { inLanes } from "../../src/stream/Lanes.ts"
import { tracking } from "../../src/stream/OffsetCommitter.ts"
import {
  ABANDON_MS,
  INTERRUPT_WAIT_MS,
  runStage,
  STOP_BUDGET_MS,
  Stages,
  stopGroup,
} from "../../src/stream/Stage.ts"

const TOPIC = "stop.test"
const env = Layer.mergeAll(Bus.layerMemory, Stages.layer).pipe(Layer.provideMerge(TallyConfig.layerWith({})))

const batch = (partition: number): Batch => ({
  _tag: "Batch",
  topic: TOPIC,
  partition,
  records: [0, 1, 2].map((offset) => ({ key: "k", value: new Uint8Array([offset]), timestamp: 0, offset })),
  highWatermark: 3,
  generation: 1,
})

/**
 * A consumer owning partitions 0 and 1, three records read from each; its commits go to `commit`, and
 * its close (when the stream ends) is `close`.
 */
const consumer = (
  commit: (offsets: ReadonlyArray<Committed>) => Effect.Effect<void, BusError>,
  close: Effect.Effect<void> = Effect.void,
): Stream.Stream<Delivery> =>
  Stream.concat(
    Stream.fromIterable<Delivery>([
      {
        _tag: "Assigned",
        generation: 1,
        partitions: [0, 1].map((partition) => ({ topic: TOPIC, partition, committed: undefined })),
        commit,
      },
      batch(0),
      batch(1),
    ]),
    Stream.never,
  ).pipe(Stream.ensuring(close))

/**
 * The sink's shape: batches in lanes by partition, commits of what they acknowledged; `hung`'s write
 * never returns, the others complete `written`.
 */
const lanes =
  (hung: number | undefined, written: Deferred.Deferred<void>) =>
  (source: Stream.Stream<Delivery>, stop: Effect.Effect<void>) => {
    const offsets = tracking(100)
    return controlled(source, { tickEvery: "100 millis", stop }).pipe(
      offsets.track,
      inLanes({
        laneOf: (b: Batch) => b.partition,
        capacity: 4,
        run: (b: Batch) =>
          b.partition === hung
            ? Effect.never
            : Effect.as(
                Deferred.succeed(written, undefined),
                b.records.map((r) => ({ topic: b.topic, partition: b.partition, offset: r.offset })),
              ),
      }),
      offsets.acknowledged,
      untilStopped,
    )
  }

/** Closes `scope` on a fiber of its own and lets the test clock run `ms`; when the close ended (ms), or undefined. */
const closeWithin = (scope: Scope.Closeable, ms: number) =>
  Effect.gen(function* () {
    const closing = yield* Effect.forkChild(
      Effect.andThen(Scope.close(scope, Exit.void), Clock.currentTimeMillis),
    )
    yield* TestClock.adjust(ms)
    const exit = closing.pollUnsafe()
    return exit !== undefined && Exit.isSuccess(exit) ? exit.value : undefined
  })

const last = (commits: ReadonlyArray<Committed>, partition: number) =>
  commits.filter((c) => c.partition === partition).at(-1)?.offset

describe("a stage's stop is bounded", () => {
  it.effect("a write that never returns is abandoned: what was done is committed, its records are not", () =>
    Effect.gen(function* () {
      const commits: Array<Committed> = []
      const scope = yield* Scope.make()
      const written = yield* Deferred.make<void>()
      yield* runStage(
        "hung-write",
        consumer((offsets) => Effect.sync(() => void commits.push(...offsets))),
        lanes(1, written),
        { quietMs: 500, maxQuietMs: 5000 },
      ).pipe(Scope.provide(scope))
      yield* Deferred.await(written)
      for (let i = 0; i < 20 && last(commits, 0) !== 3; i++) yield* TestClock.adjust("100 millis")
      assert.strictEqual(last(commits, 0), 3, "partition 0 written and committed while running")

      const began = yield* Clock.currentTimeMillis
      const ended = yield* closeWithin(scope, STOP_BUDGET_MS + 5000)
      assert.isDefined(ended, "the stop ended")
      // It waited for the write until the abandon, then committed and ended: before the budget's end.
      assert.isAtLeast(ended! - began, STOP_BUDGET_MS - ABANDON_MS)
      assert.isBelow(ended! - began, STOP_BUDGET_MS)
      assert.strictEqual(last(commits, 0), 3)
      // Nothing of partition 1 was done: its commit point stays at its first record (read again next time).
      assert.strictEqual(last(commits, 1) ?? 0, 0)
      assert.strictEqual((yield* Stages).status().get("hung-write")?.state, "stopped")
    }).pipe(Effect.provide(env)),
  )

  it.effect(
    "a commit that never returns and a consumer close that never returns: interrupted at the end, both stages of a group together",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const group = yield* stopGroup
        const written = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
        for (const [i, name] of ["first", "second"].entries())
          yield* runStage(
            name,
            // The broker does not answer: no commit ever returns, nor does leaving the group.
            consumer(() => Effect.never, Effect.never),
            lanes(undefined, written[i]!),
            { quietMs: 500, maxQuietMs: 8000, stopsWith: group },
          ).pipe(Scope.provide(scope))
        yield* Deferred.await(written[0]!)
        yield* Deferred.await(written[1]!)

        const began = yield* Clock.currentTimeMillis
        const ended = yield* closeWithin(scope, 2 * STOP_BUDGET_MS)
        assert.isDefined(ended, "the stop ended")
        // Stopped together: one budget (and one wait for the interrupted stages), not two.
        assert.isAtLeast(ended! - began, STOP_BUDGET_MS)
        assert.isAtMost(ended! - began, STOP_BUDGET_MS + INTERRUPT_WAIT_MS)
      }).pipe(Effect.provide(env)),
  )
})
