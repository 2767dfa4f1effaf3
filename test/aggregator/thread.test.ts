/**
 * `tally all`'s aggregator thread (AggregatorThread.ts): the Aggregator in a worker thread on this
 * thread's Bus. Its rollups equal the oracle's, its commits reach this thread's bus, its stage is
 * mirrored into this thread's Stages, its metrics are on this process's /metrics, and a failure in the
 * thread fails this process's stages.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import { runAggregatorThread } from "../../src/aggregator/AggregatorThread.ts"
import { Bus } from "../../src/bus/Bus.ts"
import { makeLocalBus } from "../../src/bus/local.ts"
import { PartitionedLog } from "../../src/bus/MemoryLog.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { RolledUpTypes } from "../../src/domain/MeasurementType.ts"
import { mergePrometheus, metricsText } from "../../src/observability/ProcessMetrics.ts"
import { Stages } from "../../src/stream/Stage.ts"
import { compare, makeLog } from "../../src/testing/Harness.ts"
import { oracle, stored } from "./oracle.ts"
import { batches, sendScenario } from "./scenario.ts"

/** The scenario's raw topics (through the ingress, under a TestClock of its own). */
const buildInput = Effect.gen(function* () {
  const log = makeLog()
  yield* sendScenario(batches(60)).pipe(
    Effect.provide(
      Layer.mergeAll(
        Layer.succeed(Bus, makeLocalBus(log)),
        TallyConfig.layerWith({ retentionDays: 3650 }),
        TestClock.layer(),
      ),
    ),
  )
  return log
})

/** Polls `check` every 50 ms until it holds, failing after `within`. */
const waitFor = (what: string, check: () => boolean, within = Duration.seconds(60)) =>
  Effect.gen(function* () {
    while (!check()) yield* Effect.sleep("50 millis")
  }).pipe(
    Effect.timeoutOrElse({
      duration: within,
      orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)),
    }),
  )

/** The differences between the oracle's rollups and the newest snapshot of each in the summary topics. */
const differences = (log: PartitionedLog, want: ReturnType<typeof oracle>) => {
  const got = stored(log, RolledUpTypes)
  return compare(want, new Map([...got].map(([k, { version: _, ...v }]) => [k, v])))
}
const none = { missing: [], extra: [], different: [] }

const services = (log: PartitionedLog) =>
  Layer.mergeAll(
    Layer.succeed(Bus, makeLocalBus(log)),
    Stages.layer,
    TallyConfig.layerWith({ flushAfter: Duration.millis(200) }),
  )

describe("the aggregator thread of tally all", () => {
  it.live(
    "rolls up what the oracle does, through this thread's bus; stage and metrics seen here; a stop flushes and commits",
    () =>
      Effect.gen(function* () {
        const log = yield* buildInput
        const want = oracle(log, RolledUpTypes)
        assert.isAbove(want.size, 100)
        yield* checkThread(log, want)
      }),
    120_000,
  )

  it("/metrics merges the threads' texts: a family two threads have appears once, with both threads' samples", () => {
    const main = [
      "# HELP tally_stage_stalled_seconds stalled",
      "# TYPE tally_stage_stalled_seconds gauge",
      'tally_stage_stalled_seconds{stage="sink"} 0',
      "# HELP tally_process_resident_bytes resident",
      "# TYPE tally_process_resident_bytes gauge",
      "tally_process_resident_bytes 100",
      "",
    ].join("\n")
    const thread = [
      "# HELP tally_aggregator_records_total records",
      "# TYPE tally_aggregator_records_total counter",
      "tally_aggregator_records_total 7",
      "# HELP tally_stage_stalled_seconds stalled",
      "# TYPE tally_stage_stalled_seconds gauge",
      'tally_stage_stalled_seconds{stage="aggregator"} 2',
      "",
    ].join("\n")
    assert.strictEqual(
      mergePrometheus([main, thread]),
      [
        "# HELP tally_stage_stalled_seconds stalled",
        "# TYPE tally_stage_stalled_seconds gauge",
        'tally_stage_stalled_seconds{stage="sink"} 0',
        'tally_stage_stalled_seconds{stage="aggregator"} 2',
        "# HELP tally_process_resident_bytes resident",
        "# TYPE tally_process_resident_bytes gauge",
        "tally_process_resident_bytes 100",
        "# HELP tally_aggregator_records_total records",
        "# TYPE tally_aggregator_records_total counter",
        "tally_aggregator_records_total 7",
        "",
      ].join("\n"),
    )
  })

  it.live("a failure in the thread fails this process's stages, naming the stage and why", () =>
    Effect.gen(function* () {
      const stages = yield* Stages
      const scope = yield* Scope.make()
      // No topics at all: the thread's consumer fails at once.
      yield* runAggregatorThread().pipe(Scope.provide(scope), Effect.exit)
      const failure = yield* Deferred.await(stages.failure).pipe(Effect.flip, Effect.timeout("60 seconds"))
      assert.strictEqual(failure.stage, "aggregator")
      assert.include(failure.reason, "does not exist")
      assert.strictEqual(stages.status().get("aggregator")?.state, "failed")
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.provide(services(new PartitionedLog()))),
  )
})

const checkThread = (log: PartitionedLog, want: ReturnType<typeof oracle>) =>
  Effect.gen(function* () {
    const stages = yield* Stages
    const scope = yield* Scope.make()
    yield* runAggregatorThread().pipe(Scope.provide(scope))
    assert.strictEqual(stages.status().get("aggregator")?.state, "running")
    yield* waitFor(
      "the thread's rollups to equal the oracle's",
      () => JSON.stringify(differences(log, want)) === JSON.stringify(none),
    )
    const metrics = yield* metricsText
    assert.match(metrics, /^tally_aggregator_records_total(\{[^}]*\})? \d+/m)
    assert.match(metrics, /^tally_process_resident_bytes \d+/m)
    yield* Scope.close(scope, Exit.void)
    const got = stored(log, RolledUpTypes)
    const strip = new Map([...got].map(([k, { version: _, ...v }]) => [k, v]))
    assert.deepStrictEqual(compare(want, strip), { missing: [], extra: [], different: [] })
    assert.isFalse(Deferred.isDoneUnsafe(stages.failure), "no stage failed")
  }).pipe(Effect.provide(services(log)))
