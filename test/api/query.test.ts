/** Downsampling exactness on every store layer: random 1m rollups, every step, against a direct fold. */
import { DDSketch } from "@datadog/sketches-js"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Steps } from "../../src/api/Metrics.ts"
import { Sketch, Stats, sketchFromBytes } from "../../src/domain/Sketch.ts"
import { type Range, STEP_MS } from "../../src/query/Downsample.ts"
import { Query } from "../../src/query/Query.ts"
import { makeMemoryStore, type SummaryRow, SummaryStore } from "../../src/store/SummaryStore.ts"
import { random } from "../aggregator/scenario.ts"
import { pgliteShards, realShards } from "../support/layers.ts"

const T = Date.UTC(2026, 10, 27, 0, 0, 0)
const MIN = 60_000

/** Two hours of 1m rollups for web and worker (service times, sketched), and the 15m rollups of the same samples. */
const rollups = (owner: string, seed: number) => {
  const rnd = random(seed)
  const oneMinute: Array<SummaryRow> = []
  const quarter = new Map<string, { stats: Stats; sketch: Sketch; startMs: number; pt: string }>()
  for (const pt of ["web", "worker"])
    for (let m = 0; m < 24 * 60 + 120; m++) {
      if (rnd() < 0.1) continue // gaps
      const stats = new Stats()
      const sketch = new Sketch()
      const q = T + Math.floor(m / 15) * 15 * MIN
      const qid = `${pt}|${q}`
      if (!quarter.has(qid)) quarter.set(qid, { stats: new Stats(), sketch: new Sketch(), startMs: q, pt })
      for (let i = 0; i < 1 + Math.floor(rnd() * 20); i++) {
        const v = 1 + rnd() * 900
        stats.add(v)
        sketch.add(v)
        quarter.get(qid)!.stats.add(v)
        quarter.get(qid)!.sketch.add(v)
      }
      oneMinute.push(row(owner, pt, T + m * MIN, stats, sketch))
    }
  const fifteen = [...quarter.values()].map((q) => row(owner, q.pt, q.startMs, q.stats, q.sketch))
  return { oneMinute, fifteen }
}

const row = (owner: string, processType: string, startMs: number, s: Stats, sketch: Sketch): SummaryRow => ({
  owner,
  processType,
  metric: "router_service_ms",
  label: "",
  startMs,
  count: s.count,
  sum: s.sum,
  sumsq: s.sumsq,
  min: s.min,
  max: s.max,
  sketch: sketch.toBytes(),
  version: s.count,
})

/** The direct fold the API must equal: same rows, same order, plain arithmetic. */
const fold = (rows: ReadonlyArray<SummaryRow>, stepMs: number) => {
  const out = new Map<
    number,
    { count: number; sum: number; sumsq: number; min: number; max: number; sketch: DDSketch }
  >()
  for (const r of [...rows].sort((a, b) => a.startMs - b.startMs)) {
    const t = r.startMs - (r.startMs % stepMs)
    let p = out.get(t)
    if (!p)
      out.set(
        t,
        (p = {
          count: 0,
          sum: 0,
          sumsq: 0,
          min: Infinity,
          max: -Infinity,
          sketch: new DDSketch({ relativeAccuracy: 0.01 }),
        }),
      )
    p.count += r.count
    p.sum += r.sum
    p.sumsq += r.sumsq
    p.min = Math.min(p.min, r.min)
    p.max = Math.max(p.max, r.max)
    p.sketch.merge(sketchFromBytes(r.sketch))
  }
  return [...out].map(([t, p]) => ({
    time: new Date(t).toISOString(),
    count: p.count,
    sum: p.sum,
    sumsq: p.sumsq,
    min: p.min,
    max: p.max,
    // A sketch's quantile is a bin's value, which can lie outside what was observed: clamped to [min, max].
    p50: Math.min(p.max, Math.max(p.min, p.sketch.getValueAtQuantile(0.5))),
  }))
}

const conformance = (name: string, store: Layer.Layer<SummaryStore, unknown>) =>
  layer(Query.layer.pipe(Layer.provideMerge(store)), { excludeTestServices: true, timeout: "120 seconds" })(
    `Query: ${name}`,
    (it) => {
      it.effect("every step equals the direct fold of its rollups, to the last bit", () =>
        Effect.gen(function* () {
          const store = yield* SummaryStore
          const query = yield* Query
          const owner = "0b7a3f2e-9999-4a57-9c1e-2f0d8b4f1a01"
          const { oneMinute, fifteen } = rollups(owner, 5)
          for (const pt of ["web", "worker"]) {
            const shard = store.shardOf(owner, pt)
            yield* store.writeSummaries(
              shard,
              "ROUTER_REQUESTS",
              "1m",
              oneMinute.filter((r) => r.processType === pt),
            )
            yield* store.writeSummaries(
              shard,
              "ROUTER_REQUESTS",
              "15m",
              fifteen.filter((r) => r.processType === pt),
            )
          }
          yield* store.noteProcessTypes([
            { owner, processType: "web" },
            { owner, processType: "worker" },
          ])
          for (const step of Steps) {
            const stepMs = STEP_MS[step]
            const range: Range = {
              fromMs: T,
              toMs: T + 2 * 86_400_000 - ((2 * 86_400_000) % stepMs),
              step,
              stepMs,
            }
            const answer = yield* query.series(owner, "router_service_ms", "web", range)
            assert.deepStrictEqual(answer.missing, [])
            const source = (stepMs % (15 * MIN) === 0 ? fifteen : oneMinute).filter(
              (r) => r.processType === "web",
            )
            const want = fold(source, stepMs)
            const got = answer.series[0]!.points.map(({ time, count, sum, sumsq, min, max, p50 }) => ({
              time,
              count,
              sum,
              sumsq,
              min,
              max,
              p50,
            }))
            // Counts, sums, sums of squares, min and max to the last bit; quantiles from the merged sketches.
            assert.deepStrictEqual(
              got.map(({ p50: _, ...exact }) => exact),
              want.map(({ p50: _, ...exact }) => exact),
              `step ${step}`,
            )
            for (const [i, p] of got.entries())
              assert.approximately(
                p.p50!,
                want[i]!.p50,
                want[i]!.p50 * 1e-9,
                `p50 at ${p.time}, step ${step}`,
              )
            // A 15m-based step equals the same step folded from the 1m rollups (counts, min, max exactly; sums to rounding).
            if (stepMs % (15 * MIN) === 0) {
              const fromMinutes = fold(
                oneMinute.filter((r) => r.processType === "web"),
                stepMs,
              )
              assert.deepStrictEqual(
                got.map((p) => [p.count, p.min, p.max]),
                fromMinutes.map((p) => [p.count, p.min, p.max]),
              )
              for (const [i, p] of got.entries())
                assert.approximately(p.p50!, fromMinutes[i]!.p50, fromMinutes[i]!.p50 * 1e-9)
            }
          }
          // Without a process type: one series per process type.
          const all = yield* query.series(owner, "router_service_ms", undefined, {
            fromMs: T,
            toMs: T + 86_400_000,
            step: "1h",
            stepMs: 3_600_000,
          })
          assert.deepStrictEqual(
            all.series.map((s) => s.processType),
            ["web", "worker"],
          )
        }),
      )
    },
  )

conformance("memory", SummaryStore.layerMemory(3))
conformance("PGlite", SummaryStore.layer.pipe(Layer.provide(pgliteShards)))
conformance("Postgres", SummaryStore.layer.pipe(Layer.provide(realShards("query", 3))))

layer(Query.layer.pipe(Layer.provideMerge(Layer.sync(SummaryStore, () => makeMemoryStore(3)))), {
  excludeTestServices: true,
})("Query fan-out", (it) => {
  it.effect("a shard that is down makes the answer partial, naming its process types", () =>
    Effect.gen(function* () {
      const store = (yield* SummaryStore) as ReturnType<typeof makeMemoryStore>
      const query = yield* Query
      const owner = "0b7a3f2e-8888-4a57-9c1e-2f0d8b4f1a01"
      const types = ["web", "worker", "clock", "scheduler", "release", "router"]
      const { oneMinute } = rollups(owner, 9)
      for (const pt of types) {
        const rows = oneMinute.filter((r) => r.processType === "web").map((r) => ({ ...r, processType: pt }))
        yield* store.writeSummaries(store.shardOf(owner, pt), "ROUTER_REQUESTS", "1m", rows)
      }
      yield* store.noteProcessTypes(types.map((processType) => ({ owner, processType })))
      const down = store.shardOf(owner, "worker")
      store.setAvailable(down, false)
      const range = { fromMs: T, toMs: T + 3_600_000, step: "1m" as const, stepMs: MIN }
      const answer = yield* query.series(owner, "router_service_ms", undefined, range)
      store.setAvailable(down, true)
      const onDown = types.filter((t) => store.shardOf(owner, t) === down).sort()
      assert.deepStrictEqual(answer.missing, onDown)
      assert.deepStrictEqual(
        answer.series.map((s) => s.processType).sort(),
        types.filter((t) => !onDown.includes(t)).sort(),
      )
      // Only the shards that can hold the keys are asked: one process type, one shard.
      const single = yield* query.series(owner, "router_service_ms", "web", range)
      assert.strictEqual(single.series.length, 1)
    }),
  )

  it.effect(
    "with the catalogue shard down, every shard is asked and the catalogue's shard is named missing",
    () =>
      Effect.gen(function* () {
        const store = (yield* SummaryStore) as ReturnType<typeof makeMemoryStore>
        const query = yield* Query
        const owner = "0b7a3f2e-9999-4a57-9c1e-2f0d8b4f1a01"
        const types = ["web", "worker", "clock", "scheduler", "release", "router"]
        const { oneMinute } = rollups(owner, 9)
        for (const pt of types) {
          const rows = oneMinute
            .filter((r) => r.processType === "web")
            .map((r) => ({ ...r, processType: pt }))
          yield* store.writeSummaries(store.shardOf(owner, pt), "ROUTER_REQUESTS", "1m", rows)
        }
        yield* store.noteProcessTypes(types.map((processType) => ({ owner, processType })))
        const range = { fromMs: T, toMs: T + 3_600_000, step: "1m" as const, stepMs: MIN }
        store.setAvailable(0, false)
        const answer = yield* query.series(owner, "router_service_ms", undefined, range)
        const events = yield* query.events(owner, T, T + 3_600_000)
        store.setAvailable(0, true)
        const elsewhere = types.filter((t) => store.shardOf(owner, t) !== 0).sort()
        assert.isAbove(elsewhere.length, 0)
        assert.isBelow(elsewhere.length, types.length, "some of the types live on the catalogue's shard")
        assert.deepStrictEqual(answer.missing, ["shard 0"])
        assert.deepStrictEqual(answer.series.map((s) => s.processType).sort(), elsewhere)
        assert.deepStrictEqual(events.missing, ["shard 0"])
      }),
  )
})
