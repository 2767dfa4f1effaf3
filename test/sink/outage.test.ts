/**
 * A shard made unavailable while traffic flows (ALLOW_CONNECTIONS false + terminated backends), on the
 * real broker and real Postgres shards: its batches go to the RETRY topic, the other shards never stop,
 * and once it is back the retrier lands every row, exactly.
 */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { afterAll, inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { EnsureTopics } from "../../src/bus/EnsureTopics.ts"
import { catalogue } from "../../src/bus/Topics.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { Retrier, Sink } from "../../src/sink/Sink.ts"
import { Shards } from "../../src/store/Shards.ts"
import { SummaryStore } from "../../src/store/SummaryStore.ts"
import { Stages } from "../../src/stream/Stage.ts"
import { deleteTopics } from "../support/broker.ts"
import { eventually } from "../support/eventually.ts"
import { createShards, dropShards, withClient } from "../support/shards.ts"
import { memoryRound } from "./support.ts"

const brokers = inject("kafkaBrokers")
const prefix = `o${Date.now().toString(36)}.`
const NAME = "sinkoutage"

afterAll(async () => {
  await deleteTopics(brokers, prefix)
  await withClient(inject("pgUrl"), (c) =>
    c.query(`ALTER DATABASE tally_t_${NAME}_1 ALLOW_CONNECTIONS true`),
  ).catch(() => undefined)
  await dropShards(NAME, 3)
})

const shardDatabase = (i: number) => `tally_t_${NAME}_${i}`
const setShard = (i: number, up: boolean) =>
  Effect.promise(() =>
    withClient(inject("pgUrl"), async (c) => {
      await c.query(`ALTER DATABASE ${shardDatabase(i)} ALLOW_CONNECTIONS ${up}`)
      if (!up)
        await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [
          shardDatabase(i),
        ])
    }),
  )

const T = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000
const owners = Array.from(
  { length: 30 },
  (_, i) => `0b7a3f2e-${String(i).padStart(4, "0")}-4a57-9c1e-2f0d8b4f1a01`,
)

/** One round: every owner's web series for minute `m`, at version `v`. */
const round = memoryRound(prefix, owners, T)

const shards = Layer.unwrap(Effect.promise(async () => Shards.layerPg(await createShards(NAME, 3))))
const base = Layer.mergeAll(
  Bus.layerKafka({ brokers, clientId: "tally-test-sink-outage", logLevel: "NOTHING" }),
  SummaryStore.layer.pipe(Layer.provideMerge(shards)),
).pipe(Layer.provideMerge(TallyConfig.layerWith({ topicPrefix: prefix, retentionDays: 30 })))
const stack = Layer.mergeAll(Sink.layer, Retrier.layer).pipe(
  Layer.provide(EnsureTopics),
  Layer.provideMerge(base),
  Layer.provideMerge(Stages.layer),
)

layer(stack, { excludeTestServices: true, timeout: "300 seconds" })("sink while a shard goes away", (it) => {
  it.effect(
    "batches of the down shard go to RETRY, the others keep being written, and the retrier lands every row",
    () =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const store = yield* SummaryStore
        yield* bus.ensureTopics(catalogue(1, 32, prefix))
        const onShard = (s: number) => owners.filter((o) => store.shardOf(o, "web") === s)
        assert.isAbove(onShard(1).length, 0)
        const count = (s: number) =>
          Effect.promise(() =>
            withClient(inject("pgUrl").replace(/\/[^/]*$/, `/${shardDatabase(s)}`), async (c) => {
              const schemas = await c.query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tally\\_2%'",
              )
              let n = 0
              for (const { nspname } of schemas.rows)
                n += Number((await c.query(`SELECT count(*) FROM ${nspname}.dyno_memory_1m`)).rows[0].count)
              return n
            }),
          )
        const counts = Effect.all([count(0), count(1), count(2)])
        // Traffic: 40 rounds, each minute written at version 1 then 2; the shard goes down in the middle.
        let minute = 0
        const send = (rounds: number) =>
          Effect.gen(function* () {
            for (let i = 0; i < rounds; i++, minute++) {
              yield* bus.produce([...round(minute, 1), ...round(minute, 2)]).pipe(
                Effect.retry({
                  while: (e) => e.reason === "Unavailable",
                  schedule: Schedule.spaced("200 millis"),
                  times: 25,
                }),
              )
            }
          })
        yield* send(10)
        yield* eventually(counts, ([a, b, c]) => a + b + c === owners.length * 10, {
          withinMs: 60_000,
          what: "the first ten rounds on every shard",
        })
        yield* setShard(1, false)
        yield* send(20)
        // While shard 1 is down, the other shards get every row of the twenty rounds sent meanwhile.
        yield* eventually(
          Effect.all([count(0), count(2)]),
          ([a, b]) => a === onShard(0).length * 30 && b === onShard(2).length * 30,
          { withinMs: 60_000, what: "the other shards kept being written while shard 1 was down" },
        )
        const metrics = yield* eventually(
          PrometheusMetrics.format(),
          (text) => /tally_sink_retried_batches_total\{shard="1"\} [1-9]/.test(text),
          { withinMs: 30_000, what: "the down shard's batches went to RETRY" },
        )
        assert.notMatch(metrics, /tally_sink_retried_batches_total\{shard="[02]"\}/)
        yield* setShard(1, true)
        yield* send(10)
        // The retrier lands everything; every row at its newest version on its shard.
        const want = [0, 1, 2].map((s) => onShard(s).length * 40)
        yield* eventually(counts, (got) => got.every((n, s) => n === want[s]), {
          withinMs: 120_000,
          what: "every row on its shard after the outage",
        })
        for (const owner of onShard(1)) {
          const rows = yield* store.readSummaries(1, {
            type: "DYNO_MEMORY",
            period: "1m",
            owner,
            metric: "memory_rss",
            fromMs: T,
            toMs: T + 41 * 60_000,
          })
          assert.strictEqual(rows.length, 40)
          assert.isTrue(rows.every((r) => r.version === 2 && r.count === 2 && r.sum === 200))
        }
      }),
    280_000,
  )
})
