/**
 * The aggregator as a real process on the real broker, killed with SIGKILL at random points and
 * restarted: the summaries it ends with equal the oracle's, and a SIGTERM then stops it cleanly.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { PartitionedLog } from "../../src/bus/memory/MemoryLog.ts"
import { catalogue, rawTopic, summaryTopic } from "../../src/bus/Topics.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { RolledUpTypes } from "../../src/domain/MeasurementType.ts"
import { deleteTopics } from "../support/broker.ts"
import { oracle, stored } from "./oracle.ts"
import { batches, random, sendScenario } from "./scenario.ts"

const brokers = inject("kafkaBrokers")
const prefix = `t${Date.now().toString(36)}.`
const ALL = Array.from({ length: 32 }, (_, p) => p)
const METRICS_PORT = 20_000 + (process.pid % 10_000)
const root = join(import.meta.dirname, "../..")

afterAll(async () => {
  await deleteTopics(brokers, prefix)
})

const kafka = Bus.layerKafka({ brokers, clientId: "tally-test-sigkill", logLevel: "NOTHING" })
const settings = TallyConfig.layerWith({ topicPrefix: prefix, retentionDays: 3650 })

const aggregator = (): ChildProcess =>
  spawn(process.execPath, [join(root, "src/main.ts"), "aggregator"], {
    env: {
      ...process.env,
      TALLY_KAFKA_BROKERS: brokers.join(","),
      TALLY_TOPIC_PREFIX: prefix,
      TALLY_FLUSH_AFTER: "500ms",
      // Not the aggregator's default metrics port (8090), which another test's aggregator may hold.
      TALLY_METRICS_PORT: String(METRICS_PORT),
    },
    stdio: ["ignore", "ignore", "pipe"],
  })

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once("exit", (code) => resolve(code))
  })

/** Reads every record of `topics` into an in-memory log under their unprefixed names (offset order kept). */
const mirror = (group: string, topics: ReadonlyArray<string>, into: PartitionedLog) =>
  Effect.gen(function* () {
    const bus = yield* Bus
    return yield* bus.consume({ group, topics, partitions: ALL }).pipe(
      Stream.runForEach((b) =>
        Effect.sync(() => {
          if (b._tag === "Batch")
            for (const r of b.records)
              into.appendOne(b.topic.slice(prefix.length), r.key, r.value, r.timestamp)
        }),
      ),
      Effect.forkChild,
    )
  })

layer(Layer.mergeAll(kafka, settings), { excludeTestServices: true, timeout: "300 seconds" })(
  "aggregator SIGKILLed on the real broker",
  (it) => {
    it.effect(
      "killed at random points and restarted, it stores exactly the oracle's summaries; SIGTERM exits 0",
      () =>
        Effect.gen(function* () {
          const bus = yield* Bus
          yield* bus.ensureTopics(catalogue(1, 32, prefix))
          // The scenario goes through the ingress, whose clock alone is a TestClock (the bus runs on real time).
          const t0 = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000
          const statuses = yield* sendScenario(batches(240, 11, t0)).pipe(Effect.provide(TestClock.layer()))
          assert.isTrue(statuses.every((s) => s === "Success"))

          const raw = new PartitionedLog()
          for (const spec of catalogue(1)) raw.createTopic(spec)
          const rawFiber = yield* mirror(
            `${prefix}oracle`,
            RolledUpTypes.map((t) => rawTopic(t, prefix)),
            raw,
          )
          const summaries = new PartitionedLog()
          for (const spec of catalogue(1)) summaries.createTopic(spec)
          const summaryFiber = yield* mirror(
            `${prefix}summaries`,
            RolledUpTypes.map((t) => summaryTopic(t, prefix)),
            summaries,
          )

          // Each run is killed at a random moment after it has produced something, i.e. mid-work.
          const summaryCount = () =>
            RolledUpTypes.reduce(
              (n, t) => n + ALL.reduce((m, p) => m + summaries.readAll(`${t}_SUMMARY.1`, p).length, 0),
              0,
            )
          const rnd = random(Date.now() % 100_000)
          const kills: Array<string> = []
          for (let i = 0; i < 4; i++) {
            const before = summaryCount()
            const child = aggregator()
            const started = Date.now()
            while (summaryCount() === before && Date.now() - started < 30_000)
              yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
            const extra = Math.floor(rnd() * 400)
            yield* Effect.promise(() => new Promise((r) => setTimeout(r, extra)))
            child.kill("SIGKILL")
            yield* Effect.promise(() => exited(child))
            kills.push(`${Date.now() - started} ms (${summaryCount() - before} snapshots)`)
          }
          const last = aggregator()
          let want = oracle(raw, RolledUpTypes)
          const deadline = Date.now() + 120_000
          let differences = -1
          while (Date.now() < deadline) {
            yield* Effect.promise(() => new Promise((r) => setTimeout(r, 500)))
            want = oracle(raw, RolledUpTypes)
            const got = stored(summaries, RolledUpTypes)
            differences = [...want].filter(([k, v]) => {
              const g = got.get(k)
              return (
                !g ||
                JSON.stringify({ ...g, version: undefined }) !== JSON.stringify({ ...v, version: undefined })
              )
            }).length
            if (want.size > 100 && differences === 0 && got.size === want.size) break
          }
          last.kill("SIGTERM")
          const code = yield* Effect.promise(() => exited(last))
          yield* Fiber.interrupt(rawFiber)
          yield* Fiber.interrupt(summaryFiber)
          assert.isAbove(want.size, 100)
          assert.strictEqual(
            differences,
            0,
            `summaries differ from the oracle after kills at ${kills.join(", ")} ms`,
          )
          assert.strictEqual(stored(summaries, RolledUpTypes).size, want.size)
          assert.strictEqual(code, 0, "SIGTERM stops the aggregator cleanly")
        }),
      280_000,
    )
  },
)
