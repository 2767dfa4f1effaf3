/**
 * The contract of the Bus, run against every layer: the real broker and the in-memory log.
 * Topics are created per run with a unique prefix, so runs never see each other's data.
 */
import { assert, layer } from "@effect/vitest"
import { Effect, type Layer, Stream } from "effect"
import { Bus } from "../../src/bus/Bus.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import type { InRecord, OutRecord, Subscription } from "../../src/bus/Records.ts"
import type { TopicSpec } from "../../src/bus/Topics.ts"

const PARTITIONS = 4
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface Got extends InRecord {
  readonly topic: string
  readonly partition: number
}

/** Reads until `n` records have arrived (or fails after 60 s). */
export const collect = (sub: Subscription, n: number) =>
  Effect.gen(function* () {
    const bus = yield* Bus
    return yield* bus.consume(sub).pipe(
      Stream.flatMap((b) =>
        Stream.fromIterable(b.records.map((r): Got => ({ ...r, topic: b.topic, partition: b.partition }))),
      ),
      Stream.take(n),
      Stream.runCollect,
      Effect.timeout("60 seconds"),
    )
  })

export const records = (topic: string, keys: number, perKey: number, t0 = Date.UTC(2026, 10, 28, 12)) => {
  const out: Array<OutRecord> = []
  for (let i = 0; i < perKey; i++)
    for (let k = 0; k < keys; k++)
      out.push({
        topic,
        key: `owner-${k}:web`,
        value: encoder.encode(`v${i}-k${k}`),
        timestamp: t0 + i * 1000 + k,
      })
  return out
}

export const busConformance = (name: string, busLayer: Layer.Layer<Bus, unknown>) => {
  const run = `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  const spec = (
    topic: string,
    config: Record<string, string> = { "cleanup.policy": "delete" },
  ): TopicSpec => ({
    name: `${run}.${topic}`,
    partitions: PARTITIONS,
    replicationFactor: 1,
    config,
  })
  const plain = spec("plain")
  const workers = spec("workers")
  const commits = spec("commits")
  const compacted = spec("compacted", { "cleanup.policy": "compact" })
  const all = [0, 1, 2, 3]

  layer(busLayer, { excludeTestServices: true, timeout: "120 seconds" })(`Bus conformance: ${name}`, (it) => {
    it.effect("ensureTopics creates what is missing and reports settings that differ", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const first = yield* bus.ensureTopics([plain, workers, commits, compacted])
        assert.deepStrictEqual(
          [...first.created].sort(),
          [plain, workers, commits, compacted].map((s) => s.name).sort(),
        )
        const again = yield* bus.ensureTopics([plain, compacted])
        assert.deepStrictEqual(again.created, [])
        assert.deepStrictEqual(again.existing, [plain.name, compacted.name])
        assert.deepStrictEqual(again.mismatched, [])
        const differing = yield* bus.ensureTopics([
          { ...plain, partitions: 8, config: { "cleanup.policy": "compact" } },
        ])
        assert.deepStrictEqual(differing.mismatched, [
          { topic: plain.name, setting: "partitions", expected: "8", actual: "4" },
          { topic: plain.name, setting: "cleanup.policy", expected: "compact", actual: "delete" },
        ])
      }),
    )

    it.effect("every record lands on its key's partition, in order, with key, value and timestamp", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const sent = records(plain.name, 10, 20)
        yield* bus.produce(sent)
        const got = yield* collect(
          { group: `${run}-read`, topics: [plain.name], partitions: all },
          sent.length,
        )
        assert.strictEqual(got.length, sent.length)
        for (const p of all) {
          const mine = got.filter((r) => r.partition === p)
          assert.deepStrictEqual(
            mine.map((r) => r.offset),
            mine.map((_, i) => i),
            `offsets of partition ${p} run from 0 without gaps`,
          )
          const expected = sent.filter((r) => partitionFor(r.key, PARTITIONS) === p)
          // Every record of the partition, each key's records in the order they were produced.
          const byKey = (rs: ReadonlyArray<{ key: string; value: Uint8Array; timestamp: number }>) =>
            [...new Set(rs.map((r) => r.key))]
              .sort()
              .map((k) => rs.filter((r) => r.key === k).map((r) => [k, decoder.decode(r.value), r.timestamp]))
          assert.deepStrictEqual(byKey(mine), byKey(expected))
        }
      }),
    )

    it.effect("worker i of N reads only the partitions p with p mod N == i", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const sent = records(workers.name, 16, 5)
        yield* bus.produce(sent)
        const owned = [1, 3]
        const expected = sent.filter((r) => owned.includes(partitionFor(r.key, PARTITIONS)))
        assert.isAbove(expected.length, 0)
        const got = yield* collect(
          { group: `${run}-w1of2`, topics: [workers.name], partitions: owned },
          expected.length,
        )
        assert.deepStrictEqual([...new Set(got.map((r) => r.partition))].sort(), owned)
        assert.deepStrictEqual(
          got.map((r) => decoder.decode(r.value)).sort(),
          expected.map((r) => decoder.decode(r.value)).sort(),
        )
      }),
    )

    it.effect(
      "committed offsets and metadata are read back, and a new consumer of the group resumes there",
      () =>
        Effect.gen(function* () {
          const bus = yield* Bus
          const group = `${run}-commits`
          const sent = records(commits.name, 1, 12)
          const partition = partitionFor(sent[0]!.key, PARTITIONS)
          yield* bus.produce(sent)
          // Commit from inside the stream, while the group is consuming, as the stages do.
          yield* bus.consume({ group, topics: [commits.name], partitions: [partition] }).pipe(
            Stream.mapEffect((b) =>
              bus.commit(group, [
                { topic: b.topic, partition: b.partition, offset: 5, metadata: "window=12:00 stream=12:05" },
              ]),
            ),
            Stream.take(1),
            Stream.runDrain,
            Effect.timeout("60 seconds"),
          )
          const committed = yield* bus.committed(group, [commits.name])
          assert.deepStrictEqual(committed, [
            { topic: commits.name, partition, offset: 5, metadata: "window=12:00 stream=12:05" },
          ])
          const resumed = yield* collect({ group, topics: [commits.name], partitions: [partition] }, 7)
          assert.deepStrictEqual(
            resumed.map((r) => r.offset),
            [5, 6, 7, 8, 9, 10, 11],
          )
        }),
    )

    it.effect("a group without a running consumer cannot commit", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const error = yield* Effect.flip(
          bus.commit(`${run}-nobody`, [{ topic: plain.name, partition: 0, offset: 1, metadata: "" }]),
        )
        assert.strictEqual(error.reason, "NotConsuming")
        assert.deepStrictEqual(yield* bus.committed(`${run}-nobody`, [plain.name]), [])
      }),
    )

    it.effect("a compacted topic yields the latest value of every key", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const sent = records(compacted.name, 3, 4)
        yield* bus.produce(sent)
        const sub = { group: `${run}-compacted`, topics: [compacted.name], partitions: all }
        // Compaction may or may not have run; either way the last value seen per key is the newest.
        const latest = new Map<string, string>()
        const want = new Map(sent.map((r) => [r.key, decoder.decode(r.value)]))
        yield* bus.consume(sub).pipe(
          Stream.flatMap((b) => Stream.fromIterable(b.records)),
          Stream.takeUntil((r) => {
            latest.set(r.key, decoder.decode(r.value))
            return [...want].every(([k, v]) => latest.get(k) === v)
          }),
          Stream.runDrain,
          Effect.timeout("60 seconds"),
        )
        assert.deepStrictEqual(latest, want)
      }),
    )

    it.effect("unknown topics are rejected, for produce and consume alike", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const missing = `${run}.missing`
        const produced = yield* Effect.flip(
          bus.produce([{ topic: missing, key: "a:web", value: new Uint8Array([1]), timestamp: 0 }]),
        )
        assert.strictEqual(produced.reason, "Rejected")
        const consumed = yield* Effect.flip(
          bus.consume({ group: `${run}-missing`, topics: [missing], partitions: [0] }).pipe(Stream.runDrain),
        )
        assert.strictEqual(consumed.reason, "Rejected")
      }),
    )
  })
}
