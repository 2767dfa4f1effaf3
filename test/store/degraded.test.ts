/**
 * Start degraded: the Shards, SummaryStore and Apps layers build while a shard refuses connections
 * (`ALTER DATABASE … ALLOW_CONNECTIONS false`, as in an outage); calls on it fail Unavailable, the
 * others work, and once it accepts connections it is migrated and the first write works.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { afterAll, beforeAll, inject } from "vitest"
import { Apps } from "../../src/apps/Apps.ts"
import { Shards } from "../../src/store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../../src/store/SummaryStore.ts"
import { createShards, dropShards, withClient } from "../support/shards.ts"

const NAME = "degraded"
const T = Date.UTC(2026, 10, 28, 12, 0, 0)
let urls: Array<string> = []

const allow = (i: number, yes: boolean) =>
  Effect.promise(() =>
    withClient(inject("pgUrl"), (c) =>
      c.query(`ALTER DATABASE tally_t_${NAME}_${i} ALLOW_CONNECTIONS ${yes}`),
    ),
  )

beforeAll(async () => {
  // Fresh and NOT migrated: the store migrates each shard on first contact.
  urls = await createShards(NAME, 2, false)
})
afterAll(async () => {
  for (const i of [0, 1]) await Effect.runPromise(allow(i, true))
  await dropShards(NAME, 2)
})

const row = (owner: string, version: number): SummaryRow => ({
  owner,
  processType: "web",
  metric: "router_service_ms",
  label: "",
  startMs: T,
  count: version,
  sum: 1,
  sumsq: 1,
  min: 1,
  max: 1,
  sketch: new Uint8Array([7]),
  version,
})

/** An owner whose `web` series lives on `shard` of 2. */
const ownerOn = (store: { shardOf: (o: string, p: string) => number }, shard: number) => {
  for (let i = 0; ; i++) {
    const owner = `0b7a3f2e-5555-4a57-9c1e-${String(i).padStart(12, "0")}`
    if (store.shardOf(owner, "web") === shard) return owner
  }
}

/** Polls until `effect` succeeds (at most 20 s). */
const eventually = <A, E>(effect: Effect.Effect<A, E>) =>
  effect.pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 200 }))

const stack = () =>
  Layer.mergeAll(SummaryStore.layer, Apps.layer).pipe(
    Layer.provideMerge(
      Shards.layerPg(urls, { deadline: "2 seconds", reconnect: Schedule.spaced("200 millis") }),
    ),
  )

describe("starting with shards down", () => {
  it.live("a data shard refusing connections at start: the rest works, it joins when it comes back", () =>
    Effect.gen(function* () {
      yield* allow(1, false)
      yield* Effect.gen(function* () {
        const store = yield* SummaryStore
        const shards = yield* Shards
        const up = ownerOn(store, 0)
        const down = ownerOn(store, 1)
        assert.isTrue(shards.isMigrated(0))
        assert.isFalse(shards.isMigrated(1))
        yield* store.writeSummaries(0, "ROUTER_REQUESTS", "1m", [row(up, 1)])
        const error = yield* Effect.flip(store.writeSummaries(1, "ROUTER_REQUESTS", "1m", [row(down, 1)]))
        assert.strictEqual(error.reason, "Unavailable")
        assert.strictEqual((yield* Effect.flip(store.days(1))).reason, "Unavailable")

        // No background retry in this test (hourly): the first write after the shard is back migrates it.
        yield* allow(1, true)
        yield* store.writeSummaries(1, "ROUTER_REQUESTS", "1m", [row(down, 2)])
        assert.isTrue(shards.isMigrated(1))
        const back = yield* store.readSummaries(1, {
          type: "ROUTER_REQUESTS",
          period: "1m",
          owner: down,
          metric: "router_service_ms",
          fromMs: T,
          toMs: T + 60_000,
        })
        assert.deepStrictEqual(
          back.map((r) => r.version),
          [2],
        )
      }).pipe(Effect.provide(stack()))
    }),
  )

  it.live(
    "the catalogue shard refusing connections at start: Apps builds, answers Unavailable, then works",
    () =>
      Effect.gen(function* () {
        yield* allow(0, false)
        yield* Effect.gen(function* () {
          const apps = yield* Apps
          const store = yield* SummaryStore
          assert.strictEqual((yield* Effect.flip(apps.create("shop"))).reason, "Unavailable")
          assert.strictEqual(
            (yield* Effect.flip(apps.ownerByDrainSecret("some-secret"))).reason,
            "Unavailable",
          )
          assert.strictEqual(
            (yield* Effect.flip(store.processTypesOf(ownerOn(store, 0)))).reason,
            "Unavailable",
          )

          yield* allow(0, true)
          const app = yield* eventually(apps.create("shop"))
          assert.strictEqual((yield* apps.ownerByDrainSecret(app.drainSecret))._tag, "Some")
        }).pipe(Effect.provide(stack()))
      }),
  )
})
