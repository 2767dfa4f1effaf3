/** One conformance suite for the store on every layer: real Postgres shards, PGlite, memory. */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { schemaOf } from "../../src/store/Schema.ts"
import { Shards } from "../../src/store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../../src/store/SummaryStore.ts"
import { pgliteShards, realShards } from "../support/layers.ts"

const OWNER = "0b7a3f2e-1111-4a57-9c1e-2f0d8b4f1a01"
const DAY = 86_400_000
const T = Date.UTC(2026, 10, 28, 23, 59, 0)

const row = (over: Partial<SummaryRow> = {}): SummaryRow => ({
  owner: OWNER,
  processType: "web",
  metric: "router_service_ms",
  label: "",
  startMs: T,
  count: 3,
  sum: 30.5,
  sumsq: 400.25,
  min: 1.5,
  max: 20,
  sketch: new Uint8Array([1, 2, 3, 0, 255]),
  version: 3,
  ...over,
})

const conformance = (name: string, store: Layer.Layer<SummaryStore, unknown>) =>
  layer(store, { excludeTestServices: true })(`SummaryStore: ${name}`, (it) => {
    const read = (owner: string, metric = "router_service_ms", fromMs = T - DAY, toMs = T + 2 * DAY) =>
      Effect.flatMap(Effect.service(SummaryStore), (s) =>
        s.readSummaries(s.shardOf(owner, "web"), {
          type: "ROUTER_REQUESTS",
          period: "1m",
          owner,
          metric,
          fromMs,
          toMs,
        }),
      )

    it.effect("rows read back exactly, sketches and odd characters included", () =>
      Effect.gen(function* () {
        const store = yield* SummaryStore
        const owner = "0b7a3f2e-aaaa-4a57-9c1e-2f0d8b4f1a01"
        const rows = [
          row({ owner }),
          row({
            owner,
            label: "tab\there\\back\nline",
            startMs: T - 60_000,
            version: 1,
            min: -0,
            max: 1e300,
          }),
        ]
        yield* store.writeSummaries(store.shardOf(owner, "web"), "ROUTER_REQUESTS", "1m", rows)
        const got = yield* read(owner)
        assert.deepStrictEqual(
          got.map((r) => ({ ...r, sketch: [...r.sketch] })),
          [...rows].sort((a, b) => a.startMs - b.startMs).map((r) => ({ ...r, sketch: [...r.sketch] })),
        )
      }),
    )

    it.effect(
      "replays and older versions leave the newest rows exactly; inside one batch the highest version wins",
      () =>
        Effect.gen(function* () {
          const store = yield* SummaryStore
          const owner = "0b7a3f2e-bbbb-4a57-9c1e-2f0d8b4f1a01"
          const shard = store.shardOf(owner, "web")
          const v5 = row({ owner, count: 5, version: 5, sum: 50 })
          const v3 = row({ owner, count: 3, version: 3 })
          const v9 = row({ owner, count: 9, version: 9, sum: 90 })
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [v5])
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [v5])
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [v3])
          assert.deepStrictEqual(
            (yield* read(owner)).map((r) => [r.version, r.count, r.sum]),
            [[5, 5, 50]],
          )
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [v3, v9, v5])
          assert.deepStrictEqual(
            (yield* read(owner)).map((r) => [r.version, r.count, r.sum]),
            [[9, 9, 90]],
          )
        }),
    )

    it.effect("rows land in the schema of their UTC day; events are idempotent", () =>
      Effect.gen(function* () {
        const store = yield* SummaryStore
        const owner = "0b7a3f2e-cccc-4a57-9c1e-2f0d8b4f1a01"
        const shard = store.shardOf(owner, "web")
        yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [
          row({ owner }),
          row({ owner, startMs: T + 60_000 }),
        ])
        const days = yield* store.days(shard)
        assert.includeMembers(
          days.map((d) => schemaOf(d)),
          [schemaOf(T), schemaOf(T + 60_000)],
        )
        assert.notStrictEqual(schemaOf(T), schemaOf(T + 60_000))
        const event = {
          owner,
          timeMs: T,
          kind: "deploy",
          process: "api",
          description: "Deploy 1a2b3c4",
          actor: "ada@example.com",
        }
        yield* store.writeEvents(shard, [event, event])
        yield* store.writeEvents(shard, [event])
        assert.deepStrictEqual(yield* store.readEvents(shard, { owner, fromMs: T - DAY, toMs: T + DAY }), [
          event,
        ])
      }),
    )

    it.effect(
      "text a database refuses (a NUL byte) is Rejected every time, nothing of the batch is kept",
      () =>
        Effect.gen(function* () {
          const store = yield* SummaryStore
          const owner = "0b7a3f2e-eeee-4a57-9c1e-2f0d8b4f1a01"
          const shard = store.shardOf(owner, "web")
          const batch = [row({ owner }), row({ owner, label: "nul\u0000here", startMs: T - 60_000 })]
          for (let i = 0; i < 3; i++) {
            const error = yield* Effect.flip(store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", batch))
            assert.strictEqual(error.reason, "Rejected", error.message)
          }
          assert.deepStrictEqual(yield* read(owner), [])
          // The shard goes on: the good row alone is written.
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [batch[0]!])
          assert.strictEqual((yield* read(owner)).length, 1)
          const event = {
            owner,
            timeMs: T,
            kind: "deploy",
            process: "api",
            description: "a\u0000b",
            actor: "x",
          }
          assert.strictEqual((yield* Effect.flip(store.writeEvents(shard, [event]))).reason, "Rejected")
          assert.strictEqual(
            (yield* Effect.flip(store.noteProcessTypes([{ owner, processType: "we\u0000b" }]))).reason,
            "Rejected",
          )
        }),
    )

    it.effect("retention drops exactly the day schemas before the cut", () =>
      Effect.gen(function* () {
        const store = yield* SummaryStore
        const owner = "0b7a3f2e-dddd-4a57-9c1e-2f0d8b4f1a01"
        const shard = store.shardOf(owner, "web")
        const old = T - 10 * DAY
        yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [
          row({ owner, startMs: old }),
          row({ owner, startMs: T }),
        ])
        yield* store.ensureDays(shard, [old + DAY])
        const dropped = yield* store.dropDaysBefore(shard, old + DAY)
        assert.include(dropped, schemaOf(old))
        assert.notInclude(dropped, schemaOf(old + DAY))
        assert.notInclude((yield* store.days(shard)).map(schemaOf), schemaOf(old))
        assert.deepStrictEqual(
          (yield* read(owner, "router_service_ms", old - DAY, T + DAY)).map((r) => r.startMs),
          [T],
        )
        // Writing into a dropped day creates it again.
        yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", [row({ owner, startMs: old })])
        assert.strictEqual((yield* read(owner, "router_service_ms", old - DAY, old + DAY)).length, 1)
      }),
    )
  })

/** What only a typed column can refuse: the memory layer keeps any string. */
const columnTypes = (name: string, store: Layer.Layer<SummaryStore, unknown>) =>
  layer(store, { excludeTestServices: true })(`SummaryStore: ${name}, typed columns`, (it) => {
    it.effect("an owner that is not a UUID is Rejected, through COPY and through INSERT alike", () =>
      Effect.gen(function* () {
        const store = yield* SummaryStore
        const summary = yield* Effect.flip(
          store.writeSummaries(0, "ROUTER_REQUESTS", "1m", [row({ owner: "not-a-uuid" })]),
        )
        assert.strictEqual(summary.reason, "Rejected", summary.message)
        const event = {
          owner: "not-a-uuid",
          timeMs: T,
          kind: "deploy",
          process: "api",
          description: "d",
          actor: "a",
        }
        assert.strictEqual((yield* Effect.flip(store.writeEvents(0, [event]))).reason, "Rejected")
      }),
    )
  })

conformance("memory", SummaryStore.layerMemory(3))
conformance("PGlite", SummaryStore.layer.pipe(Layer.provide(pgliteShards)))
columnTypes("PGlite", SummaryStore.layer.pipe(Layer.provide(Shards.layerPglite(undefined))))
conformance("Postgres", SummaryStore.layer.pipe(Layer.provide(realShards("store", 3))))
columnTypes("Postgres", SummaryStore.layer.pipe(Layer.provide(realShards("storetypes", 1))))
