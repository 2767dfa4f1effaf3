/** Backpressure: drains are refused while the aggregators are further behind than TALLY_MAX_LAG. */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../../src/bus/Bus.ts"
import { MemoryLog } from "../../src/bus/MemoryLog.ts"
import { catalogue, groups, rawTopic } from "../../src/bus/Topics.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { Backpressure, lagOf } from "../../src/ingress/Backpressure.ts"
import { encodeResume } from "../../src/stream/CommitPoint.ts"

const T = Date.UTC(2026, 10, 28, 12)
const topic = rawTopic("ROUTER_REQUESTS")
const resume = (streamTimeMs: number, upto: number) =>
  encodeResume({ streamTimeMs, upto, oldestOpenMs: null })

describe("backpressure", () => {
  it("a partition is behind by now minus its stream time while records past the offset reached wait", () => {
    const ends = [
      { topic, partition: 0, offset: 100 },
      { topic, partition: 1, offset: 50 },
    ]
    const committed = [
      { topic, partition: 0, offset: 10, metadata: resume(T - 90_000, 100) }, // all processed
      { topic, partition: 1, offset: 10, metadata: resume(T - 30_000, 40) }, // 10 waiting
    ]
    assert.strictEqual(lagOf(committed, ends, T), 30_000)
    assert.strictEqual(lagOf(committed.slice(0, 1), ends, T), 0)
    // A commit without resume metadata counts its offset as reached, but has no age to report.
    assert.strictEqual(lagOf([{ topic, partition: 1, offset: 10, metadata: "" }], ends, T), 0)
  })

  it.effect(
    "refuses drains while the workers are further behind than TALLY_MAX_LAG, and takes them again after",
    () =>
      Effect.gen(function* () {
        const log = yield* MemoryLog
        for (const spec of catalogue(1)) log.createTopic(spec)
        for (let i = 0; i < 5; i++)
          log.appendOne(topic, "0b7a3f2e-1111-4a57-9c1e-2f0d8b4f1a01:web", new Uint8Array(), T)
        const partition = [...Array(32).keys()].find((p) => log.highWatermark(topic, p) > 0)!
        const group = groups.aggregator("", 0, 1)
        log.commitOne(group, topic, partition, 0, resume(T - 10_000, 2))
        const backpressure = yield* Backpressure
        yield* TestClock.adjust("2 seconds")
        assert.isUndefined(backpressure.refusal())
        // Stream time stands still while records wait: three minutes later the pipeline is too far behind.
        yield* TestClock.adjust("3 minutes")
        assert.match(backpressure.refusal() ?? "", /behind/)
        // The worker catches up.
        log.commitOne(group, topic, partition, 5, resume(T + 180_000, 5))
        yield* TestClock.adjust("2 seconds")
        assert.isUndefined(backpressure.refusal())
      }).pipe(
        Effect.provide(
          Backpressure.layer.pipe(
            Layer.provideMerge(Bus.layerMemory),
            Layer.provide(
              TallyConfig.layerWith({ maxLag: Duration.minutes(2), workers: 1, topicPrefix: "" }),
            ),
          ),
        ),
        // The clock is set before the layer starts measuring every two seconds.
        (test) => Effect.andThen(TestClock.setTime(T), test),
      ),
  )
})
