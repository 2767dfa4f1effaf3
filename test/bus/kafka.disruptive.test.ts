/** The Kafka layer across broker restarts: what was acknowledged or committed stays; outages are typed. */
import { assert, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import type { Assigned } from "../../src/bus/Records.ts"
import { broker } from "../support/broker.ts"
import { collect, records } from "./Bus.conformance.ts"

const run = `restart-${Date.now().toString(36)}`
const topic = (name: string) => ({
  name: `${run}.${name}`,
  partitions: 4,
  replicationFactor: 1,
  config: { "cleanup.policy": "delete" },
})
const decoder = new TextDecoder()
const kafka = Bus.layerKafka({
  brokers: inject("kafkaBrokers"),
  clientId: "tally-test-restart",
  logLevel: "NOTHING",
  produceTimeoutMs: 5000,
})

layer(kafka, { excludeTestServices: true, timeout: "300 seconds" })("Kafka across broker restarts", (it) => {
  it.effect(
    "a batch acknowledged by produce is still there after the broker is stopped and started again",
    () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const durable = topic("durable")
        yield* bus.ensureTopics([durable])
        const sent = records(durable.name, 8, 50)
        yield* bus.produce(sent)
        yield* broker("stop")
        yield* broker("start")
        const got = yield* collect(
          { group: `${run}-durable`, topics: [durable.name], partitions: [0, 1, 2, 3] },
          sent.length,
        )
        assert.deepStrictEqual(
          got.map((r) => `${r.key}=${decoder.decode(r.value)}`).sort(),
          sent.map((r) => `${r.key}=${decoder.decode(r.value)}`).sort(),
        )
      }),
    240_000,
  )

  it.effect(
    "committed offsets and metadata survive a consumer restart and a broker restart",
    () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const commits = topic("commits")
        yield* bus.ensureTopics([commits])
        const sent = records(commits.name, 1, 10)
        const partition = partitionFor(sent[0]!.key, 4)
        yield* bus.produce(sent)
        const group = `${run}-commits`
        // The first consumer commits the position after 4 records, then goes away.
        let assigned: Assigned | undefined
        yield* bus.consume({ group, topics: [commits.name], partitions: [partition] }).pipe(
          Stream.mapEffect((d) => {
            if (d._tag === "Assigned") {
              assigned = d
              return Effect.void
            }
            return assigned!.commit([
              { topic: d.topic, partition: d.partition, offset: 4, metadata: "oldest=12:00 stream=12:04" },
            ])
          }),
          Stream.take(2),
          Stream.runDrain,
        )
        yield* broker("stop")
        yield* broker("start")
        const committed = yield* bus.committed(group, [commits.name])
        assert.deepStrictEqual(committed, [
          { topic: commits.name, partition, offset: 4, metadata: "oldest=12:00 stream=12:04" },
        ])
        const resumed = yield* collect({ group, topics: [commits.name], partitions: [partition] }, 6)
        assert.deepStrictEqual(
          resumed.map((r) => r.offset),
          [4, 5, 6, 7, 8, 9],
        )
      }),
    240_000,
  )

  it.effect(
    "while the broker is down produce fails as Unavailable within its timeout, and works again after",
    () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const outage = topic("outage")
        yield* bus.ensureTopics([outage])
        yield* broker("stop")
        const started = Date.now()
        const error = yield* Effect.flip(bus.produce(records(outage.name, 2, 2)))
        const took = Date.now() - started
        yield* broker("start")
        assert.strictEqual(error.reason, "Unavailable")
        assert.isBelow(took, 20_000, `produce gave up after ${took} ms`)
        yield* bus.produce(records(outage.name, 2, 2))
        const got = yield* collect(
          { group: `${run}-outage`, topics: [outage.name], partitions: [0, 1, 2, 3] },
          4,
        )
        assert.strictEqual(got.length, 4)
      }),
    240_000,
  )
})
