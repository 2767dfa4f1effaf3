/**
 * The process-type catalogue's part of the store (issue 24), one suite on every layer: registering an
 * app's process types answers how many it has, last_seen only moves forward, retention removes the ones
 * unseen since a cut (and the sink notes them again if they come back); capped reads stop in series
 * order (whole series but the last) and capped event reads keep the earliest.
 */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type SummaryRow, SummaryStore } from "../../src/store/SummaryStore.ts"
import { pgliteShards, realShards } from "../support/layers.ts"

const DAY = 86_400_000
/** Today 12:00 UTC: last_seen of what the sink notes is the store's own clock, today. */
const T = Math.floor(Date.now() / DAY) * DAY + DAY / 2

const row = (owner: string, processType: string, label: string, startMs: number): SummaryRow => ({
  owner,
  processType,
  metric: "router_status",
  label,
  startMs,
  count: 1,
  sum: 1,
  sumsq: 1,
  min: 1,
  max: 1,
  sketch: new Uint8Array(0),
  version: 1,
})

const conformance = (name: string, store: Layer.Layer<SummaryStore, unknown>) =>
  layer(store, { excludeTestServices: true, timeout: "60 seconds" })(
    `SummaryStore process types and capped reads: ${name}`,
    (it) => {
      it.effect("registering answers how many process types the app has, in one call", () =>
        Effect.gen(function* () {
          const store = yield* SummaryStore
          const owner = "0b7a3f2e-c001-4a57-9c1e-2f0d8b4f1a01"
          const other = "0b7a3f2e-c002-4a57-9c1e-2f0d8b4f1a01"
          assert.strictEqual(yield* store.registerProcessTypes(owner, ["web", "worker"], T), 2)
          assert.strictEqual(yield* store.registerProcessTypes(owner, ["worker", "clock"], T), 3)
          assert.strictEqual(yield* store.registerProcessTypes(other, ["web"], T), 1)
          // Noted by the sink counts the same; nothing new answers the count as it is.
          yield* store.noteProcessTypes([{ owner, processType: "release" }])
          assert.strictEqual(yield* store.registerProcessTypes(owner, [], T), 4)
          assert.strictEqual(yield* store.registerProcessTypes(owner, ["web"], T + DAY), 4)
          assert.deepStrictEqual(yield* store.processTypesOf(owner), ["clock", "release", "web", "worker"])
          assert.deepStrictEqual(yield* store.processTypesOf(other), ["web"])
        }),
      )

      it.effect("retention removes the process types unseen since the cut; last_seen never moves back", () =>
        Effect.gen(function* () {
          const store = yield* SummaryStore
          const owner = "0b7a3f2e-c003-4a57-9c1e-2f0d8b4f1a01"
          yield* store.registerProcessTypes(owner, ["old", "back"], T - 20 * DAY)
          yield* store.registerProcessTypes(owner, ["fresh"], T)
          // Seen again 2 days ago, then a late note of 30 days ago: last_seen stays 2 days ago.
          yield* store.registerProcessTypes(owner, ["back"], T - 2 * DAY)
          yield* store.registerProcessTypes(owner, ["back"], T - 30 * DAY)
          // The sink noted "old" before it went stale: after retention it notes it again when it comes back.
          yield* store.noteProcessTypes([{ owner, processType: "old" }])
          const dropped = yield* store.dropProcessTypesUnseenSince(T - 5 * DAY)
          assert.isAtLeast(dropped, 1)
          assert.deepStrictEqual(yield* store.processTypesOf(owner), ["back", "fresh"])
          yield* store.noteProcessTypes([{ owner, processType: "old" }])
          assert.deepStrictEqual(yield* store.processTypesOf(owner), ["back", "fresh", "old"])
          assert.strictEqual(yield* store.dropProcessTypesUnseenSince(T - 5 * DAY), 0)
        }),
      )

      it.effect(
        "a read with a limit is in series order and stops at the limit; events keep the earliest",
        () =>
          Effect.gen(function* () {
            const store = yield* SummaryStore
            const owner = "0b7a3f2e-c004-4a57-9c1e-2f0d8b4f1a01"
            const shard = store.shardOf(owner, "web")
            const rows: Array<SummaryRow> = []
            for (const label of ["200", "404", "500"])
              for (let m = 0; m < 3; m++) rows.push(row(owner, "web", label, T + m * 60_000))
            // The same minutes on the day before: the read spans two day schemas.
            for (let m = 0; m < 2; m++) rows.push(row(owner, "web", "200", T - DAY + m * 60_000))
            yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", rows)
            const query = {
              type: "ROUTER_REQUESTS" as const,
              period: "1m" as const,
              owner,
              metric: "router_status",
              fromMs: T - DAY,
              toMs: T + DAY,
            }
            const key = (r: SummaryRow) => `${r.label}@${(r.startMs - T) / 60_000}`
            assert.deepStrictEqual((yield* store.readSummaries(shard, { ...query, limit: 7 })).map(key), [
              "200@-1440",
              "200@-1439",
              "200@0",
              "200@1",
              "200@2",
              "404@0",
              "404@1",
            ])
            assert.strictEqual((yield* store.readSummaries(shard, { ...query, limit: 100 })).length, 11)
            // Without a limit: every row, in time order (as before).
            const all = yield* store.readSummaries(shard, query)
            assert.deepStrictEqual(
              all.map((r) => r.startMs),
              [...all.map((r) => r.startMs)].sort((a, b) => a - b),
            )

            const events = Array.from({ length: 5 }, (_, i) => ({
              owner,
              timeMs: T + (4 - i) * 1000,
              kind: "deploy",
              process: "api",
              description: `v${i}`,
              actor: "a",
            }))
            yield* store.writeEvents(shard, events)
            const first = yield* store.readEvents(shard, { owner, fromMs: T - DAY, toMs: T + DAY, limit: 3 })
            assert.deepStrictEqual(
              first.map((e) => e.description),
              ["v4", "v3", "v2"],
            )
          }),
      )

      it.effect("a long capped read (several pages) is the same as one sorted read cut at the limit", () =>
        Effect.gen(function* () {
          const store = yield* SummaryStore
          const owner = "0b7a3f2e-c005-4a57-9c1e-2f0d8b4f1a01"
          const shard = store.shardOf(owner, "web")
          // 3 labels x 1,500 minutes (two days): 4,500 rows; ties across days on (label, minute of day).
          const rows: Array<SummaryRow> = []
          for (const label of ["500", "200", "404"])
            for (let m = 0; m < 1_500; m++) rows.push(row(owner, "web", label, T - DAY / 2 + m * 60_000))
          yield* store.writeSummaries(shard, "ROUTER_REQUESTS", "1m", rows)
          const query = {
            type: "ROUTER_REQUESTS" as const,
            period: "1m" as const,
            owner,
            metric: "router_status",
            fromMs: T - DAY,
            toMs: T + DAY,
          }
          const key = (r: SummaryRow) => `${r.label}@${r.startMs}`
          const want = [...rows]
            .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.startMs - b.startMs))
            .map(key)
          assert.deepStrictEqual(
            (yield* store.readSummaries(shard, { ...query, limit: 4_001 })).map(key),
            want.slice(0, 4_001),
          )
          assert.deepStrictEqual(
            (yield* store.readSummaries(shard, { ...query, limit: 10_000 })).map(key),
            want,
          )

          const events = Array.from({ length: 4_500 }, (_, i) => ({
            owner,
            timeMs: T - DAY / 2 + Math.floor(i / 3) * 1000,
            kind: "restart",
            process: `web.${i % 3}`,
            description: "Restarting",
            actor: "",
          }))
          yield* store.writeEvents(shard, events)
          const got = yield* store.readEvents(shard, { owner, fromMs: T - DAY, toMs: T + DAY, limit: 4_100 })
          assert.deepStrictEqual(
            got.map((e) => `${e.timeMs}/${e.process}`),
            events.slice(0, 4_100).map((e) => `${e.timeMs}/${e.process}`),
          )
        }),
      )
    },
  )

conformance("memory", SummaryStore.layerMemory(3))
conformance("PGlite", SummaryStore.layer.pipe(Layer.provide(pgliteShards)))
conformance("Postgres", SummaryStore.layer.pipe(Layer.provide(realShards("ptypes", 3))))
