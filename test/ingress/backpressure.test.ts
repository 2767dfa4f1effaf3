/**
 * Backpressure: while the aggregators are further behind than TALLY_MAX_LAG, drains of the apps at or above the
 * mean share are refused; past twice that, every drain is.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { encodeResume } from "../../src/aggregator/CommitPoint.ts"
import { Bus } from "../../src/bus/Bus.ts"
import { EnsureTopics } from "../../src/bus/EnsureTopics.ts"
import { MemoryLog } from "../../src/bus/memory/MemoryLog.ts"
import { catalogue, groups, rawTopic } from "../../src/bus/Topics.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { AppBudgets } from "../../src/ingress/AppBudgets.ts"
import { Backpressure, LagTracker, type Level } from "../../src/ingress/Backpressure.ts"
import { Cardinality } from "../../src/ingress/Cardinality.ts"
import { Ingress } from "../../src/ingress/Ingress.ts"
import { eventually } from "../support/eventually.ts"
import { baseUrl, createApp, postDrain } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`

const T = Date.UTC(2026, 10, 28, 12)
const topic = rawTopic("ROUTER_REQUESTS")
const resume = (streamTimeMs: number, upto: number) =>
  encodeResume({ streamTimeMs, upto, oldestOpenMs: null })

describe("backpressure", () => {
  it("a partition is behind by the age of its oldest record not yet processed, whatever the event times", () => {
    const tracker = new LagTracker(300_000)
    const ends = (p0: number, p1: number) => [
      { topic, partition: 0, offset: p0 },
      { topic, partition: 1, offset: p1 },
    ]
    tracker.observe(ends(100, 40), T)
    tracker.observe(ends(100, 50), T + 10_000)
    tracker.observe(ends(120, 50), T + 20_000)
    const committed = (upto0: number, upto1: number) => [
      // Stream times far in the past (a backfill) do not count: only when records arrived does.
      { topic, partition: 0, offset: 10, metadata: resume(T - 3_600_000, upto0) },
      { topic, partition: 1, offset: 10, metadata: resume(T - 3_600_000, upto1) },
    ]
    assert.strictEqual(tracker.lag(committed(120, 50), T + 30_000), 0)
    // Partition 1 reached 45: its records from 45 on were there at T + 10 s.
    assert.strictEqual(tracker.lag(committed(120, 45), T + 30_000), 20_000)
    // Partition 0 reached 90: waiting since the first sample (T).
    assert.strictEqual(tracker.lag(committed(90, 50), T + 30_000), 30_000)
    // A commit without resume metadata counts its offset as reached.
    assert.strictEqual(tracker.lag([{ topic, partition: 1, offset: 50, metadata: "" }], T + 30_000), 0)
  })

  it.effect(
    "behind past TALLY_MAX_LAG, far behind past twice it, keeping up again once the workers catch up",
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
        assert.strictEqual(backpressure.level(), "ok")
        // The worker stays at offset 2 while records wait: three minutes later the pipeline is too far behind.
        yield* TestClock.adjust("3 minutes")
        assert.strictEqual(backpressure.level(), "behind")
        assert.match(backpressure.message(), /behind/)
        // Past twice TALLY_MAX_LAG (4 minutes) every drain is refused.
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(backpressure.level(), "far")
        // The worker catches up.
        log.commitOne(group, topic, partition, 5, resume(T + 240_000, 5))
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(backpressure.level(), "ok")
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

layer(ingressStack(undefined, { maxLag: Duration.seconds(2) }), {
  excludeTestServices: true,
  timeout: "60 seconds",
})("backpressure over HTTP", (it) => {
  it.effect(
    "POST /logs answers 503 with Retry-After while the aggregators are behind, 204 again when they catch up",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const log = yield* MemoryLog
        const drain = yield* Effect.promise(() => createApp(base, "lagging"))
        const now = Date.now()
        const body = (i: number) =>
          frame(
            `<158>1 ${new Date(now - 5_000).toISOString()} host heroku router - at=info method=GET path="/${i}" host=a.herokuapp.com request_id=r fwd="1.2.3.4" dyno=web.1 connect=1ms service=5ms status=200 bytes=10 protocol=https`,
          )
        assert.strictEqual((yield* Effect.promise(() => postDrain(drain, body(1)))).status, 204)
        // Worker 0 of 1 reached offset 0 with a stream time two minutes old, and a record waits.
        const partition = [...Array(32).keys()].find((p) => log.highWatermark(topic, p) > 0)!
        log.commitOne(groups.aggregator("", 0, 1), topic, partition, 0, resume(now, 0))
        const refused = yield* eventually(
          Effect.promise(() => postDrain(drain, body(2))),
          (r) => r.status === 503,
          { withinMs: 15_000, what: "a 503 once a record waited longer than TALLY_MAX_LAG (2 s here)" },
        )
        assert.isAbove(Number(refused.headers.get("retry-after")), 0)
        assert.match(yield* Effect.promise(() => refused.text()), /behind/)
        log.commitOne(
          groups.aggregator("", 0, 1),
          topic,
          partition,
          1,
          resume(now, log.highWatermark(topic, partition)),
        )
        yield* eventually(
          Effect.promise(() => postDrain(drain, body(3))),
          (r) => r.status === 204,
          { withinMs: 10_000, what: "a 204 once the workers caught up" },
        )
      }),
  )
})

describe("the share rule under backpressure (AppBudgets)", () => {
  it("an app is over its share when its bytes of the last 10-20 s are at or above the mean of the apps with any", () => {
    const budgets = new AppBudgets(1024)
    const [heavy, light, idle] = [budgets.of("heavy"), budgets.of("light"), budgets.of("idle")]
    // With nothing accepted lately, nobody is under the mean: refused, as before per-app shares.
    assert.isTrue(budgets.overShare(idle, T))
    // An app alone is at the mean: refused (DESIGN.md semantics 12: past TALLY_MAX_LAG, 503).
    budgets.accepted(heavy, 9_000, T)
    assert.isTrue(budgets.overShare(heavy, T))
    budgets.accepted(light, 1_000, T + 1_000)
    // Mean of the two: 5,000.
    assert.deepStrictEqual(budgets.recent(heavy, T + 1_000), { bytes: 9_000, mean: 5_000 })
    assert.isTrue(budgets.overShare(heavy, T + 1_000))
    assert.isFalse(budgets.overShare(light, T + 1_000))
    // An app that sent nothing lately is not counted in the mean, and is never over it.
    assert.isFalse(budgets.overShare(idle, T + 1_000))
    // The next bucket still holds the last one's bytes; the one after forgets them.
    assert.isTrue(budgets.overShare(heavy, T + 10_000))
    budgets.accepted(light, 3_000, T + 12_000)
    assert.deepStrictEqual(budgets.recent(light, T + 12_000), { bytes: 4_000, mean: 6_500 })
    assert.deepStrictEqual(budgets.recent(heavy, T + 20_000), { bytes: 0, mean: 3_000 })
    assert.isFalse(budgets.overShare(heavy, T + 20_000))
    // Entries with nothing recent and no body open are dropped at a bucket's turn.
    budgets.recent(light, T + 40_000)
    assert.strictEqual(budgets.size, 0)
  })
})

/** The level the ingress sees, set by the test. */
let level: Level = "ok"
const ingressAlone = Ingress.layer.pipe(
  Layer.provide(Backpressure.layerFixed(() => level)),
  Layer.provide(Cardinality.layerMemory),
  Layer.provideMerge(EnsureTopics),
  Layer.provideMerge(Bus.layerMemory),
  Layer.provideMerge(TallyConfig.layerWith({})),
)

layer(ingressAlone)("the ingress under backpressure, per app", (it) => {
  it.effect(
    "behind: apps at or above the mean share get Unavailable, the others are taken; far behind: every app is refused",
    () =>
      Effect.gen(function* () {
        const ingress = yield* Ingress
        // The TestClock starts at 0 (setting it far ahead would run every sweep of the ingress up to there).
        const t = new Date(0).toISOString()
        const body = (n: number) =>
          Stream.make(
            Buffer.from(
              Array.from({ length: n }, (_, i) =>
                frame(`<158>1 ${t} host heroku web.${i + 1} - Error R14 (Memory quota exceeded)\n`),
              ).join(""),
            ),
          )
        const post = (owner: string, n: number) => Effect.result(ingress.ingest({ owner, body: body(n) }))
        // Keeping up: the flood and the victim are both taken.
        for (let i = 0; i < 20; i++) assert.strictEqual((yield* post("flood", 100))._tag, "Success")
        assert.strictEqual((yield* post("victim", 5))._tag, "Success")
        level = "behind"
        for (let i = 0; i < 5; i++) {
          const refused = yield* post("flood", 100)
          assert.strictEqual(refused._tag, "Failure")
          if (refused._tag === "Failure") {
            assert.strictEqual(refused.failure.reason, "Unavailable")
            assert.match(refused.failure.message, /share/)
          }
          assert.strictEqual((yield* post("victim", 5))._tag, "Success")
          assert.strictEqual((yield* post(`newcomer-${i}`, 5))._tag, "Success")
        }
        // 20 s later nothing was taken lately: nobody is under the mean, so every app is refused, as an
        // app alone is (semantics 12: past TALLY_MAX_LAG, 503).
        yield* TestClock.adjust("20 seconds")
        assert.strictEqual((yield* post("victim", 5))._tag, "Failure")
        level = "ok"
        assert.strictEqual((yield* post("victim", 5))._tag, "Success")
        level = "behind"
        // The flood had nothing taken for 20 s: under the mean now, so it is taken.
        assert.strictEqual((yield* post("flood", 5))._tag, "Success")
        level = "far"
        for (const owner of ["flood", "victim", "someone"]) {
          const refused = yield* post(owner, 5)
          assert.strictEqual(refused._tag === "Failure" && refused.failure.reason, "Unavailable")
        }
        level = "ok"
        assert.strictEqual((yield* post("flood", 100))._tag, "Success")
      }),
  )
})
