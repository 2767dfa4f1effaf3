/**
 * The contract of the Bus, run against every layer: the real broker and the in-process logs.
 * Topics are created per run with a unique prefix, so runs never see each other's data.
 */
import { assert, layer } from "@effect/vitest"
import { Effect, type Layer, Stream } from "effect"
import { Bus } from "../../src/bus/Bus.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import type { Assigned, InRecord, OutRecord, Subscription } from "../../src/bus/Records.ts"
import type { TopicSpec } from "../../src/bus/Topics.ts"
import { follow, owned, until } from "./follow.ts"

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
        b._tag === "Batch"
          ? Stream.fromIterable(b.records.map((r): Got => ({ ...r, topic: b.topic, partition: b.partition })))
          : Stream.empty,
      ),
      Stream.take(n),
      Stream.runCollect,
      Effect.timeout("60 seconds"),
    )
  })

/**
 * An hour ago, on the hour: records must carry recent timestamps, or a real broker's time retention
 * (7 days by default, judged by the records' own timestamps) deletes them under the test — a fixed date
 * made the Kafka tests fail once it was a week old.
 */
const RECENT = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000

export const records = (topic: string, keys: number, perKey: number, t0 = RECENT) => {
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
  const members = spec("members")
  const runs = spec("runs")
  const all = [0, 1, 2, 3]

  layer(busLayer, { excludeTestServices: true, timeout: "120 seconds" })(`Bus conformance: ${name}`, (it) => {
    it.effect("ensureTopics creates what is missing and reports settings that differ", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const first = yield* bus.ensureTopics([plain, workers, commits, compacted, members, runs])
        assert.deepStrictEqual(
          [...first.created].sort(),
          [plain, workers, commits, compacted, members, runs].map((s) => s.name).sort(),
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

    it.effect("the end offsets of every partition are the offsets the next records will get", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        // Written by the test above: 10 keys x 20 records on `plain`.
        const sent = records(plain.name, 10, 20)
        const ends = yield* bus.endOffsets([plain.name])
        assert.deepStrictEqual(
          ends,
          all.map((partition) => ({
            topic: plain.name,
            partition,
            offset: sent.filter((r) => partitionFor(r.key, PARTITIONS) === partition).length,
          })),
        )
        assert.strictEqual((yield* Effect.flip(bus.endOffsets([`${run}.missing`]))).reason, "Rejected")
      }),
    )

    it.effect(
      "a consume stream delivers its assignment first, commits through it, and a new consumer resumes there",
      () =>
        Effect.gen(function* () {
          const bus = yield* Bus
          const group = `${run}-commits`
          const sent = records(commits.name, 1, 12)
          const partition = partitionFor(sent[0]!.key, PARTITIONS)
          yield* bus.produce(sent)
          const sub = { group, topics: [commits.name], partitions: [partition] }
          // Commit from inside the stream, while the group is consuming, as the stages do.
          let assigned: Assigned | undefined
          let batchGeneration = -1
          yield* bus.consume(sub).pipe(
            Stream.mapEffect((d) => {
              if (d._tag === "Assigned") {
                assigned = d
                return Effect.void
              }
              batchGeneration = d.generation
              return assigned!.commit([
                { topic: d.topic, partition: d.partition, offset: 5, metadata: "window=12:00 stream=12:05" },
              ])
            }),
            Stream.take(2),
            Stream.runDrain,
            Effect.timeout("60 seconds"),
          )
          assert.deepStrictEqual(owned(assigned), [`${commits.name}/${partition}`])
          assert.strictEqual(assigned!.partitions[0]!.committed, undefined, "no commit yet when it began")
          assert.strictEqual(
            batchGeneration,
            assigned!.generation,
            "batches carry their assignment's generation",
          )
          const committed = yield* bus.committed(group, [commits.name])
          assert.deepStrictEqual(committed, [
            { topic: commits.name, partition, offset: 5, metadata: "window=12:00 stream=12:05" },
          ])
          // The next consumer's assignment carries the commit, read when it began, and fetching resumes there.
          const next = yield* bus
            .consume(sub)
            .pipe(Stream.take(1), Stream.runHead, Effect.timeout("60 seconds"))
          const first = next._tag === "Some" ? next.value : undefined
          assert.strictEqual(first?._tag, "Assigned")
          assert.deepStrictEqual((first as Assigned).partitions, [
            {
              topic: commits.name,
              partition,
              committed: { topic: commits.name, partition, offset: 5, metadata: "window=12:00 stream=12:05" },
            },
          ])
          const resumed = yield* collect(sub, 7)
          assert.deepStrictEqual(
            resumed.map((r) => r.offset),
            [5, 6, 7, 8, 9, 10, 11],
          )
        }),
    )

    it.effect("an assignment refuses invalid offsets and partitions it does not own", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const group = `${run}-refuses`
        const a = yield* follow({ group, topics: [commits.name], partitions: [0] })
        yield* until("the assignment", () => a.latest() !== undefined)
        const assigned = a.latest()!
        const invalid = yield* Effect.flip(
          assigned.commit([{ topic: commits.name, partition: 0, offset: -1, metadata: "" }]),
        )
        assert.strictEqual(invalid.reason, "Rejected")
        const foreign = yield* Effect.flip(
          assigned.commit([{ topic: commits.name, partition: 1, offset: 1, metadata: "" }]),
        )
        assert.strictEqual(foreign.reason, "Rejected")
        yield* a.stop
        assert.deepStrictEqual(yield* bus.committed(group, [commits.name]), [])
      }),
    )

    it.effect(
      "the oldest member owns, a later one stands by, and takes over with the commits read afresh when the owner leaves",
      () =>
        Effect.gen(function* () {
          const bus = yield* Bus
          const group = `${run}-standby`
          const sent = records(members.name, 1, 10)
          const partition = partitionFor(sent[0]!.key, PARTITIONS)
          yield* bus.produce(sent)
          const sub = { group, topics: [members.name], partitions: [partition] }
          const mine = [`${members.name}/${partition}`]
          const a = yield* follow(sub)
          yield* until("the first member owns", () => owned(a.latest()).length > 0)
          const b = yield* follow(sub)
          yield* until("the second member's assignment", () => b.latest() !== undefined)
          yield* until("the owner's assignment after the join", () =>
            a.assignments().some((x) => x.generation >= b.latest()!.generation),
          )
          assert.deepStrictEqual(owned(b.latest()), [], "the later member stands by")
          assert.deepStrictEqual(owned(a.latest()), mine, "the owner keeps its partitions")
          assert.deepStrictEqual(b.batches(), [], "a standby reads nothing")
          const standby = yield* Effect.flip(
            b.latest()!.commit([{ topic: members.name, partition, offset: 1, metadata: "" }]),
          )
          assert.strictEqual(standby.reason, "Rebalanced", "a standby's commit is void")
          yield* a.latest()!.commit([{ topic: members.name, partition, offset: 3, metadata: "owner=a" }])
          yield* a.stop
          yield* until("the standby takes over", () => owned(b.latest()).length > 0)
          const takeover = b.latest()!
          assert.deepStrictEqual(takeover.partitions, [
            {
              topic: members.name,
              partition,
              committed: { topic: members.name, partition, offset: 3, metadata: "owner=a" },
            },
          ])
          yield* until(
            "the new owner reads from the commit on",
            () => b.batches().reduce((n, x) => n + x.records.length, 0) >= 7,
          )
          const read = b.batches().flatMap((x) => x.records.map((r) => r.offset))
          assert.deepStrictEqual(read.slice(0, 7), [3, 4, 5, 6, 7, 8, 9])
          assert.isTrue(b.batches().every((x) => x.generation === takeover.generation))
          yield* takeover.commit([{ topic: members.name, partition, offset: 10, metadata: "owner=b" }])
          yield* b.stop
          assert.deepStrictEqual(yield* bus.committed(group, [members.name]), [
            { topic: members.name, partition, offset: 10, metadata: "owner=b" },
          ])
        }),
    )

    it.effect(
      "a member joining and leaving never moves the partitions off the owner; commits of an ended assignment fail Rebalanced",
      () =>
        Effect.gen(function* () {
          const bus = yield* Bus
          const group = `${run}-rebalance`
          const sub = { group, topics: [members.name], partitions: [1, 2] }
          const mine = [`${members.name}/1`, `${members.name}/2`]
          const a = yield* follow(sub)
          yield* until("the owner's first assignment", () => owned(a.latest()).length > 0)
          const first = a.latest()!
          const c = yield* follow(sub)
          yield* until("the joining member's assignment", () => c.latest() !== undefined)
          yield* until(
            "the owner's assignment after the join",
            () => a.latest()!.generation > first.generation,
          )
          const joined = c.latest()!.generation
          yield* c.stop
          yield* until("the owner's assignment after the leave", () => a.latest()!.generation > joined)
          for (const x of a.assignments())
            assert.deepStrictEqual(owned(x), mine, `generation ${x.generation}`)
          for (const x of c.assignments())
            assert.deepStrictEqual(owned(x), [], `joiner's generation ${x.generation}`)
          const old = yield* Effect.flip(
            first.commit([{ topic: members.name, partition: 1, offset: 1, metadata: "old" }]),
          )
          assert.strictEqual(old.reason, "Rebalanced")
          yield* a.latest()!.commit([{ topic: members.name, partition: 1, offset: 2, metadata: "new" }])
          assert.deepStrictEqual(yield* bus.committed(group, [members.name]), [
            { topic: members.name, partition: 1, offset: 2, metadata: "new" },
          ])
          yield* a.stop
        }),
    )

    // The aggregator tells a retried drain batch from its first delivery by this (Rollup.ts firstDelivery).
    it.effect("the records one produce call gives a key are consecutive among that key's records", () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        // 24 calls at once, their keys' records interleaved within each call; call 0 is larger than a
        // Kafka request's share of a partition (512 KiB), so it is split over requests.
        const pad = "x".repeat(1000)
        const calls = Array.from({ length: 24 }, (_, c) => {
          const out: Array<OutRecord> = []
          for (let i = 0; i < (c === 0 ? 120 : 6); i++)
            for (let k = 0; k < 6; k++)
              out.push({
                topic: runs.name,
                key: `owner-${k}:web`,
                value: encoder.encode(`${c} ${i} ${pad}`),
                timestamp: RECENT + i,
              })
          return out
        })
        yield* Effect.forEach(calls, (call) => bus.produce(call), { concurrency: "unbounded" })
        const total = calls.reduce((n, call) => n + call.length, 0)
        const got = yield* collect({ group: `${run}-runs`, topics: [runs.name], partitions: all }, total)
        assert.strictEqual(got.length, total)
        for (let k = 0; k < 6; k++) {
          const mine = got.filter((r) => r.key === `owner-${k}:web`).sort((a, b) => a.offset - b.offset)
          const order = mine.map((r) => decoder.decode(r.value).split(" ").slice(0, 2).map(Number))
          const callsInOrder = order.map(([c]) => c!).filter((c, i, all) => i === 0 || all[i - 1] !== c)
          assert.strictEqual(new Set(callsInOrder).size, callsInOrder.length, `key ${k}: one run a call`)
          assert.strictEqual(callsInOrder.length, calls.length)
          for (let i = 1; i < order.length; i++)
            if (order[i]![0] === order[i - 1]![0]) assert.strictEqual(order[i]![1], order[i - 1]![1]! + 1)
        }
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
          Stream.flatMap((b) => (b._tag === "Batch" ? Stream.fromIterable(b.records) : Stream.empty)),
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
