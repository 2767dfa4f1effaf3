/**
 * Group membership on the real broker (not disruptive: the broker keeps running): heartbeats that a
 * slow downstream cannot starve, a member the coordinator dropped, a topic deleted under a consumer,
 * an owner frozen past its session, and a SIGKILLed owner.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Admin } from "@platformatic/kafka"
import { Cause, Effect, Layer } from "effect"
import { afterAll, inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { makeKafkaBus } from "../../src/bus/kafka/kafka.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import { BusError } from "../../src/bus/Records.ts"
import { records } from "./Bus.conformance.ts"
import { follow, owned, until } from "./follow.ts"

const SESSION_MS = 6000
const brokers = inject("kafkaBrokers")
const run = `group-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
const topic = {
  name: `${run}.input`,
  partitions: 4,
  replicationFactor: 1,
  config: { "cleanup.policy": "delete" },
}
const sent = records(topic.name, 1, 10)
const partition = partitionFor(sent[0]!.key, 4)
const mine = [`${topic.name}/${partition}`]
const kafka = Layer.effect(
  Bus,
  makeKafkaBus({
    brokers,
    clientId: "tally-test-group",
    sessionTimeoutMs: SESSION_MS,
    heartbeatIntervalMs: 500,
  }).pipe(Effect.map(Bus.of)),
)
const admin = new Admin({ clientId: "tally-test-group-admin", bootstrapBrokers: brokers })
afterAll(async () => {
  for (const name of [topic.name, `${run}.doomed`])
    await admin.deleteTopics({ topics: [name] }).catch(() => undefined)
  await admin.close()
})

layer(kafka, { excludeTestServices: true, timeout: "120 seconds" })("Kafka group membership", (it) => {
  it.effect("setup: the input topic", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      yield* bus.ensureTopics([topic])
      yield* bus.produce(sent)
    }),
  )

  it.effect(
    "a consumer whose downstream blocks for 3x the session timeout keeps its membership, and its next commits work",
    () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const group = `${run}-slow`
        let blocked = false
        let resumed = false
        const a = yield* follow({ group, topics: [topic.name], partitions: [partition] }, (d) =>
          d._tag === "Batch" && !blocked
            ? Effect.sync(() => {
                blocked = true
              }).pipe(
                // The downstream does not pull for 3 session timeouts (a sink waiting on a dead shard).
                Effect.andThen(Effect.sleep(`${3 * SESSION_MS} millis`)),
                Effect.andThen(
                  Effect.sync(() => {
                    resumed = true
                  }),
                ),
              )
            : Effect.void,
        )
        yield* until("the downstream blocks", () => blocked)
        yield* until("the downstream resumes", () => resumed, 60)
        assert.strictEqual(a.assignments().length, 1, "no new assignment: the membership held")
        yield* a.latest()!.commit([{ topic: topic.name, partition, offset: 10, metadata: "after the block" }])
        assert.deepStrictEqual(yield* bus.committed(group, [topic.name]), [
          { topic: topic.name, partition, offset: 10, metadata: "after the block" },
        ])
        yield* a.stop
      }),
    90_000,
  )

  it.effect(
    "a member the coordinator dropped rejoins under a new member id with a new Assigned; the old assignment's commits fail Rebalanced at once",
    () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const group = `${run}-dropped`
        const a = yield* follow({ group, topics: [topic.name], partitions: [partition] })
        yield* until("the assignment", () => owned(a.latest()).length > 0)
        const first = a.latest()!
        yield* first.commit([{ topic: topic.name, partition, offset: 4, metadata: "before" }])
        const described = yield* Effect.promise(() => admin.describeGroups({ groups: [group] }))
        const [memberId] = [...(described.get(group)?.members.keys() ?? [])]
        yield* Effect.promise(() =>
          admin.removeMembersFromConsumerGroup({ groupId: group, members: [{ memberId: memberId! }] }),
        )
        yield* until("a new assignment after the rejoin", () => a.latest()!.generation > first.generation, 30)
        const started = Date.now()
        const old = yield* Effect.flip(
          first.commit([{ topic: topic.name, partition, offset: 5, metadata: "stale" }]),
        )
        assert.strictEqual(old.reason, "Rebalanced")
        assert.isBelow(Date.now() - started, 2000, "a stale commit fails at once, without retries")
        const next = a.latest()!
        assert.deepStrictEqual(owned(next), mine)
        assert.deepStrictEqual(next.partitions[0]!.committed, {
          topic: topic.name,
          partition,
          offset: 4,
          metadata: "before",
        })
        yield* next.commit([{ topic: topic.name, partition, offset: 6, metadata: "after" }])
        const members = (yield* Effect.promise(() => admin.describeGroups({ groups: [group] }))).get(
          group,
        )?.members
        assert.deepStrictEqual(
          [...(members?.keys() ?? [])].length,
          1,
          "one member: no stale member left behind",
        )
        assert.notInclude([...(members?.keys() ?? [])], memberId)
        yield* a.stop
        assert.deepStrictEqual(yield* bus.committed(group, [topic.name]), [
          { topic: topic.name, partition, offset: 6, metadata: "after" },
        ])
      }),
    90_000,
  )

  it.effect("a consumer whose topic is deleted under it fails its stream with a BusError", () =>
    Effect.gen(function* () {
      const bus = yield* Bus
      const doomed = { ...topic, name: `${run}.doomed` }
      yield* bus.ensureTopics([doomed])
      yield* bus.produce(records(doomed.name, 1, 3))
      const a = yield* follow({ group: `${run}-doomed`, topics: [doomed.name], partitions: [0, 1, 2, 3] })
      yield* until("it reads", () => a.batches().length > 0)
      yield* Effect.promise(() => admin.deleteTopics({ topics: [doomed.name] }))
      yield* until("the stream fails", () => a.failure() !== undefined, 60)
      const error = Cause.squash(a.failure() as Cause.Cause<unknown>)
      assert.instanceOf(error, BusError)
      assert.strictEqual((error as BusError).reason, "Rejected")
    }),
  )

  it.effect(
    "an owner frozen past its session is replaced by its standby, and once it wakes it rejoins as the standby",
    () =>
      Effect.gen(function* () {
        const group = `${run}-frozen`
        const child = spawn(
          process.execPath,
          [
            join(import.meta.dirname, "fixtures/owner.ts"),
            brokers.join(","),
            group,
            topic.name,
            String(partition),
            String(SESSION_MS),
          ],
          { stdio: ["ignore", "pipe", "inherit"] },
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
        const lines: Array<string> = []
        child.stdout.on("data", (d) => lines.push(...String(d).trim().split("\n")))
        yield* until("the child owns the partition", () => lines.some((l) => l.endsWith(" 1")), 60)
        const b = yield* follow({ group, topics: [topic.name], partitions: [partition] })
        yield* until("the standby's assignment", () => b.latest() !== undefined, 30)
        assert.deepStrictEqual(owned(b.latest()), [])
        // The child has said it keeps the partition in the standby's generation before it is frozen,
        // so every line it prints after waking is about a later generation.
        const joined = b.latest()!.generation
        yield* until(
          "the child keeps it in the standby's generation",
          () => lines.includes(`assigned ${joined} 1`),
          30,
        )
        // A process that stops answering (a long GC pause, a frozen VM) while its socket stays open.
        child.kill("SIGSTOP")
        yield* until("the standby takes over", () => owned(b.latest()).length > 0, 40)
        const takeover = b.latest()!.generation
        child.kill("SIGCONT")
        const generation = (line: string) => Number(line.split(" ")[1])
        yield* until("the woken member rejoins", () => lines.some((l) => generation(l) > takeover), 40)
        yield* until("the owner sees the rejoin", () => b.latest()!.generation > takeover, 40)
        const after = lines.filter((l) => generation(l) > takeover)
        assert.isNotEmpty(after)
        for (const line of after) assert.match(line, / 0$/, "the woken member stands by")
        assert.deepStrictEqual(owned(b.latest()), mine, "the new owner keeps the partitions")
        yield* b.latest()!.commit([{ topic: topic.name, partition, offset: 3, metadata: "owner=b" }])
        yield* b.stop
      }),
    120_000,
  )

  it.effect(
    "a hot standby takes over a SIGKILLed owner after the session timeout, with the owner's commit",
    () =>
      Effect.gen(function* () {
        const group = `${run}-killed`
        const child = spawn(
          process.execPath,
          [
            join(import.meta.dirname, "fixtures/owner.ts"),
            brokers.join(","),
            group,
            topic.name,
            String(partition),
            String(SESSION_MS),
          ],
          { stdio: ["ignore", "pipe", "inherit"] },
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
        let out = ""
        child.stdout.on("data", (d) => {
          out += d
        })
        yield* until("the child owns the partition", () => / 1\n/.test(out), 60)
        const b = yield* follow({ group, topics: [topic.name], partitions: [partition] })
        yield* until("the standby's assignment", () => b.latest() !== undefined, 30)
        assert.deepStrictEqual(owned(b.latest()), [])
        child.kill("SIGKILL")
        const killed = Date.now()
        yield* until("the standby takes over", () => owned(b.latest()).length > 0, 40)
        const took = Date.now() - killed
        assert.isAtMost(took, 3 * SESSION_MS + 5000, `took over after ${took} ms`)
        assert.deepStrictEqual(b.latest()!.partitions[0]!.committed, {
          topic: topic.name,
          partition,
          offset: 2,
          metadata: "owner=child",
        })
        yield* until("it reads from the owner's commit on", () => b.batches().length > 0, 30)
        assert.strictEqual(b.batches()[0]!.records[0]!.offset, 2)
        yield* b.stop
      }),
  )
})
