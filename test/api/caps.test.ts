/**
 * Capped answers (issue 24) on every store layer: at most `series` series and `points` stored points per
 * metrics answer and `events` events per events answer (small caps here; the defaults are 500, 200,000
 * and 10,000), whole series only, and `truncated` saying which cap was reached; then that an unfiltered
 * read asks each shard once, with no list of process types, however many the app has.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { MAX_EVENTS, MAX_POINTS, MAX_SERIES, Query, QueryCaps } from "../../src/query/Query.ts"
import {
  type EventRow,
  makeMemoryStore,
  type StoreApi,
  type SummaryQuery,
  type SummaryRow,
  SummaryStore,
} from "../../src/store/SummaryStore.ts"
import { pgliteShards, realShards } from "../support/layers.ts"

const T = Date.UTC(2026, 10, 27, 0, 0, 0)
const MIN = 60_000
const HOUR = { fromMs: T, toMs: T + 60 * MIN, step: "1m" as const, stepMs: MIN }
const CAPS = { series: 5, points: 100, events: 10 }

const row = (owner: string, processType: string, label: string, minute: number): SummaryRow => ({
  owner,
  processType,
  metric: "router_status",
  label,
  startMs: T + minute * MIN,
  count: 1,
  sum: minute,
  sumsq: minute * minute,
  min: minute,
  max: minute,
  sketch: new Uint8Array(0),
  version: 1,
})

/** Writes `minutes` rows of each (process type, label) on its shard and notes the process types. */
const seed = (owner: string, types: ReadonlyArray<string>, labels: ReadonlyArray<string>, minutes: number) =>
  Effect.gen(function* () {
    const store = yield* SummaryStore
    for (const pt of types) {
      const rows = labels.flatMap((l) => Array.from({ length: minutes }, (_, m) => row(owner, pt, l, m)))
      yield* store.writeSummaries(store.shardOf(owner, pt), "ROUTER_REQUESTS", "1m", rows)
    }
    yield* store.noteProcessTypes(types.map((processType) => ({ owner, processType })))
  })

const conformance = (name: string, store: Layer.Layer<SummaryStore, unknown>) =>
  layer(Query.layer.pipe(Layer.provide(Layer.succeed(QueryCaps, CAPS)), Layer.provideMerge(store)), {
    excludeTestServices: true,
    timeout: "120 seconds",
  })(`Query caps: ${name}`, (it) => {
    it.effect(
      "more series than the cap: the first ones by process type then label, and `truncated` says so",
      () =>
        Effect.gen(function* () {
          const query = yield* Query
          const owner = "0b7a3f2e-ca01-4a57-9c1e-2f0d8b4f1a01"
          const types = ["h", "b", "g", "a", "f", "c", "e", "d"]
          yield* seed(owner, types, ["200"], 3)
          const all = yield* query.series(owner, "router_status", undefined, HOUR)
          assert.deepStrictEqual(
            all.series.map((s) => s.processType),
            ["a", "b", "c", "d", "e"],
          )
          assert.isTrue(all.series.every((s) => s.points.length === 3))
          assert.strictEqual(all.truncated?.reason, "series")
          assert.strictEqual(all.truncated?.limit, 5)
          assert.match(all.truncated!.message, /process_type=/)
          // Labels of one process type: numeric order (404 before 1000), the cap the same.
          const other = "0b7a3f2e-ca02-4a57-9c1e-2f0d8b4f1a01"
          yield* seed(other, ["web"], ["500", "1000", "200", "404", "302", "301"], 2)
          const labels = yield* query.series(other, "router_status", "web", HOUR)
          assert.deepStrictEqual(
            labels.series.map((s) => s.label),
            ["200", "301", "302", "404", "500"],
          )
          assert.strictEqual(labels.truncated?.reason, "series")
          // Within the caps: no `truncated` at all.
          const small = yield* query.series(other, "router_status", "web", { ...HOUR, toMs: T + MIN })
          assert.strictEqual(small.series.length, 5)
          const few = yield* query.series(owner, "router_status", "a", HOUR)
          assert.isFalse("truncated" in few)
        }),
    )

    it.effect(
      "more stored points than the cap: whole series only, the one the cut went through left out",
      () =>
        Effect.gen(function* () {
          const query = yield* Query
          const owner = "0b7a3f2e-ca03-4a57-9c1e-2f0d8b4f1a01"
          // 3 labels x 40 minutes = 120 rows on one shard, cap 100: two whole series, the third left out.
          yield* seed(owner, ["web"], ["200", "404", "500"], 40)
          const got = yield* query.series(owner, "router_status", "web", HOUR)
          assert.deepStrictEqual(
            got.series.map((s) => [s.label, s.points.length]),
            [
              ["200", 40],
              ["404", 40],
            ],
          )
          assert.deepStrictEqual(
            got.series[1]!.points.map((p) => p.sum),
            Array.from({ length: 40 }, (_, m) => m),
          )
          assert.strictEqual(got.truncated?.reason, "points")
          assert.strictEqual(got.truncated?.limit, 100)
          // A coarser step reads the same rollups: the cap is on what is read, so the same answer in 5m points.
          const coarse = yield* query.series(owner, "router_status", "web", {
            ...HOUR,
            step: "5m",
            stepMs: 5 * MIN,
          })
          assert.deepStrictEqual(
            coarse.series.map((s) => [s.label, s.points.length]),
            [
              ["200", 8],
              ["404", 8],
            ],
          )
          // A shorter range fits.
          const short = yield* query.series(owner, "router_status", "web", { ...HOUR, toMs: T + 30 * MIN })
          assert.strictEqual(short.series.length, 3)
          assert.isUndefined(short.truncated)
        }),
    )

    it.effect("more events than the cap: the earliest, on every shard alike, and `truncated` says so", () =>
      Effect.gen(function* () {
        const store = yield* SummaryStore
        const query = yield* Query
        const owner = "0b7a3f2e-ca04-4a57-9c1e-2f0d8b4f1a01"
        const processes = ["web.1", "worker.1", "clock.1", "release.1", "api"]
        const events: Array<EventRow> = Array.from({ length: 25 }, (_, i) => ({
          owner,
          timeMs: T + ((i * 7) % 25) * 10_000,
          kind: "restart",
          process: processes[i % processes.length]!,
          description: `e${(i * 7) % 25}`,
          actor: "",
        }))
        for (const e of events) yield* store.writeEvents(store.shardOf(owner, e.process.split(".")[0]!), [e])
        const got = yield* query.events(owner, T, T + 60 * MIN)
        assert.deepStrictEqual(
          got.events.map((e) => e.description),
          Array.from({ length: 10 }, (_, i) => `e${i}`),
        )
        assert.strictEqual(got.truncated?.reason, "events")
        assert.strictEqual(got.truncated?.limit, 10)
        const few = yield* query.events(owner, T, T + MIN)
        assert.isUndefined(few.truncated)
      }),
    )
  })

conformance("memory", SummaryStore.layerMemory(3))
conformance("PGlite", SummaryStore.layer.pipe(Layer.provide(pgliteShards)))
conformance("Postgres", SummaryStore.layer.pipe(Layer.provide(realShards("caps", 3))))

describe("Query reads", () => {
  it.effect("an unfiltered read asks each shard of the app once, with no list of process types", () =>
    Effect.gen(function* () {
      const memory = makeMemoryStore(3)
      const reads: Array<{ shard: number; query: SummaryQuery }> = []
      const store: StoreApi = {
        ...memory,
        readSummaries: (shard, query) =>
          Effect.suspend(() => {
            reads.push({ shard, query })
            return memory.readSummaries(shard, query)
          }),
      }
      const owner = "0b7a3f2e-ca05-4a57-9c1e-2f0d8b4f1a01"
      const types = Array.from({ length: 1000 }, (_, i) => `p${String(i).padStart(4, "0")}`)
      yield* seed(owner, types, [""], 1).pipe(Effect.provideService(SummaryStore, store))
      const answer = yield* Effect.gen(function* () {
        const query = yield* Query
        return yield* query.series(owner, "router_status", undefined, HOUR)
      }).pipe(Effect.provide(Query.layer), Effect.provideService(SummaryStore, store))
      assert.deepStrictEqual(reads.map((r) => r.shard).sort(), [0, 1, 2])
      assert.isTrue(reads.every((r) => r.query.processTypes === undefined))
      // The default caps: 500 series of the 1000, each read whole.
      assert.strictEqual(answer.series.length, MAX_SERIES)
      assert.strictEqual(answer.series[0]!.processType, "p0000")
      assert.strictEqual(answer.truncated?.reason, "series")
      assert.isTrue(reads.every((r) => r.query.limit === Math.floor(MAX_POINTS / 3) + 1))
      assert.strictEqual(MAX_EVENTS, 10_000)
    }),
  )
})
