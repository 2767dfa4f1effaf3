/**
 * Failing writes (issue 24, src/stream/Stage.ts): a stage whose writes or appends have failed for 30 s
 * or more with no success is reported down by /healthz (the API server's and the system server's checks),
 * naming the stage and the reason; a success clears it; shorter runs of failures do not count. Under
 * TestClock, on the in-memory bus.
 */
import { assert, describe, it } from "@effect/vitest"
import { Data, Duration, Effect, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../../src/bus/Bus.ts"
import { MemoryLog } from "../../src/bus/memory/MemoryLog.ts"
import type { Batch, Delivery } from "../../src/bus/Records.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { healthOf } from "../../src/observability/SystemServer.ts"
import { controlled, type Flow, untilStopped } from "../../src/stream/Flow.ts"
import { patientWriter } from "../../src/stream/RetryFallback.ts"
import { runStage, Stages, tracked, trackWrite } from "../../src/stream/Stage.ts"

const TOPIC = "failing.test"
const GROUP = "failing-test"

const env = Layer.mergeAll(Bus.layerMemory, Stages.layer).pipe(
  Layer.provideMerge(TallyConfig.layerWith({ stallTimeout: Duration.minutes(10) })),
)

class WriteError extends Data.TaggedError("WriteError")<{
  reason: "Unavailable" | "Rejected"
  message: string
}> {}

/** A stage writing each batch to "shard 1" through the patient writer; the shard fails while `broken`. */
const writingTo =
  (broken: { value: boolean }, written: Array<number>) =>
  <E>(source: Stream.Stream<Delivery, E>, stop: Effect.Effect<void>) => {
    const write = patientWriter<number, WriteError, never, never>({
      write: (rows) =>
        trackWrite(
          Effect.suspend(() =>
            broken.value
              ? Effect.fail(
                  new WriteError({ reason: "Unavailable", message: "could not extend file: disk full" }),
                )
              : Effect.sync(() => void written.push(...rows)),
          ),
          "shard 1",
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

const options = { quietMs: 100, maxQuietMs: 1000 }

describe("failing writes", () => {
  it.effect(
    "a stage whose writes fail for 30 s is down on /healthz, naming it and why; a success clears it",
    () =>
      Effect.gen(function* () {
        const log = yield* MemoryLog
        log.createTopic({ name: TOPIC, partitions: 1, replicationFactor: 1, config: {} })
        for (let i = 0; i < 3; i++) log.appendOne(TOPIC, `k${i}`, new Uint8Array([i]), 0)
        const bus = yield* Bus
        const broken = { value: true }
        const written: Array<number> = []
        yield* runStage(
          "writer",
          bus.consume({ group: GROUP, topics: [TOPIC], partitions: [0] }),
          writingTo(broken, written),
          options,
        )
        // Failing, but for less than 30 s: not yet reported.
        yield* TestClock.adjust("20 seconds")
        let health = yield* healthOf.kafka
        assert.strictEqual(health["stage writer"], "ok")
        assert.strictEqual(health["stage writer shard 1"], "ok")
        // 30 s and more of failures with no success: down, with the last reason.
        yield* TestClock.adjust("45 seconds")
        health = yield* healthOf.kafka
        assert.strictEqual(health["stage writer"], "ok")
        assert.match(
          health["stage writer shard 1"]!,
          /^down: failing for \d+ s \(\d+ failures, no success\): could not extend file: disk full$/,
        )
        const seconds = Number(/failing for (\d+) s/.exec(health["stage writer shard 1"]!)![1])
        assert.isAtLeast(seconds, 30)
        assert.deepStrictEqual(written, [])
        // The first success clears it.
        broken.value = false
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual(written, [0, 1, 2])
        health = yield* healthOf.kafka
        assert.strictEqual(health["stage writer shard 1"], "ok")
        assert.isTrue(Object.values(health).every((c) => c === "ok"))
      }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect(
    "appends tracked outside a stage (the ingress): failures spread over 30 s are down, one is not",
    () =>
      Effect.gen(function* () {
        const stages = yield* Stages
        // As the ingress tracks its appends (one produce a drain body).
        const append = (ok: boolean) =>
          tracked(
            "ingress",
            ok
              ? Effect.void
              : Effect.fail(new WriteError({ reason: "Unavailable", message: "log unavailable" })),
          ).pipe(Effect.ignore)
        // Not listed before its first append; ok after a success.
        assert.isUndefined((yield* healthOf.kafka)["stage ingress"])
        yield* append(true)
        assert.strictEqual((yield* healthOf.kafka)["stage ingress"], "ok")
        // One failure, then nothing for a minute: a single failure is not a failing stage, and the next
        // failure, more than 60 s later, starts a run of its own.
        yield* append(false)
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* healthOf.kafka)["stage ingress"], "ok")
        // Failures every 5 s: ok for 25 s, down at 30 s.
        for (let i = 0; i < 6; i++) {
          yield* TestClock.adjust("5 seconds")
          yield* append(false)
        }
        assert.strictEqual((yield* healthOf.kafka)["stage ingress"], "ok")
        yield* TestClock.adjust("5 seconds")
        yield* append(false)
        assert.strictEqual(
          (yield* healthOf.kafka)["stage ingress"],
          "down: failing for 30 s (7 failures, no success): log unavailable",
        )
        yield* append(true)
        assert.strictEqual((yield* healthOf.kafka)["stage ingress"], "ok")
        // A write interrupted by its deadline is a failure too.
        yield* stages
          .track("ingress", Effect.never)
          .pipe(Effect.timeout("1 second"), Effect.ignore, Effect.forkChild)
        yield* TestClock.adjust("1 second")
        const streak = stages.streaks().get("ingress")
        assert.strictEqual(streak?.reason, "no answer (interrupted by its deadline)")
      }).pipe(Effect.scoped, Effect.provide(env)),
  )
})
