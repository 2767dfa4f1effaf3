/**
 * Reads without needless round trips (issue 12): a store with a cold cache (a standalone API process)
 * asks pg_namespace once for the days it has not seen, then reads them all in ONE statement; warm, a
 * read is one statement. Days found missing are believed missing for 30 s, then looked up again (today's
 * and tomorrow's schemas appear at any time). Statements are counted from their spans (one per statement).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Tracer } from "effect"
import { TestClock } from "effect/testing"
import { CopyWriter } from "../../src/store/CopyWriter.ts"
import { Shards } from "../../src/store/Shards.ts"
import { makeSqlStore } from "../../src/store/SqlStore.ts"
import { type StoreApi, type SummaryRow, SummaryStore } from "../../src/store/SummaryStore.ts"
import { realShards } from "../support/layers.ts"

const OWNER = "0b7a3f2e-6666-4a57-9c1e-2f0d8b4f1a01"
const DAY = 86_400_000
const D = Date.UTC(2026, 10, 20)

const row = (startMs: number): SummaryRow => ({
  owner: OWNER,
  processType: "web",
  metric: "router_service_ms",
  label: "",
  startMs,
  count: 1,
  sum: 1,
  sumsq: 1,
  min: 1,
  max: 1,
  sketch: new Uint8Array([9]),
  version: 1,
})

/** The SQL text of every statement run while `effect` runs. */
const statementsOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const spans: Array<Tracer.NativeSpan> = []
    const tracer = Tracer.make({
      span(options) {
        const span = new Tracer.NativeSpan(options)
        spans.push(span)
        return span
      },
    })
    const value = yield* Effect.withTracer(effect, tracer)
    const sql = spans.flatMap((s) => {
      const text = s.attributes.get("db.query.text")
      return typeof text === "string" ? [text] : []
    })
    return { value, sql }
  })

const shards = realShards("reads", 1)

describe("reads on a cold and a warm cache", () => {
  it.effect(
    "one lookup for unseen days, then one statement a read; missing days looked up again after 30 s",
    () =>
      Effect.gen(function* () {
        const writer = yield* SummaryStore
        // Days D-6 .. D hold data except D-3; D+1 does not exist yet.
        for (let d = -6; d <= 0; d++)
          if (d !== -3) yield* writer.writeSummaries(0, "ROUTER_REQUESTS", "1m", [row(D + d * DAY)])

        // Another process (the API) with its own, cold store on the same shards.
        const reader = makeSqlStore(yield* Shards, yield* CopyWriter)
        const week = (r: StoreApi) =>
          r.readSummaries(0, {
            type: "ROUTER_REQUESTS",
            period: "1m",
            owner: OWNER,
            metric: "router_service_ms",
            fromMs: D - 6 * DAY,
            toMs: D + 2 * DAY,
          })

        const cold = yield* statementsOf(week(reader))
        assert.strictEqual(cold.value.length, 6)
        assert.strictEqual(cold.sql.length, 2, cold.sql.join("\n---\n"))
        assert.match(cold.sql[0]!, /pg_namespace/)
        assert.strictEqual(cold.sql[1]!.match(/UNION ALL/g)?.length, 5)

        const warm = yield* statementsOf(week(reader))
        assert.strictEqual(warm.value.length, 6)
        assert.strictEqual(warm.sql.length, 1)

        // Tomorrow's schema appears (written by the sink); within 30 s the reader still believes it missing…
        yield* writer.writeSummaries(0, "ROUTER_REQUESTS", "1m", [row(D + DAY)])
        yield* TestClock.adjust("29 seconds")
        assert.strictEqual((yield* statementsOf(week(reader))).value.length, 6)
        // …then looks the missing days up again, once.
        yield* TestClock.adjust("2 seconds")
        const later = yield* statementsOf(week(reader))
        assert.strictEqual(later.value.length, 7)
        assert.strictEqual(later.sql.length, 2)
        assert.strictEqual((yield* statementsOf(week(reader))).sql.length, 1)
      }).pipe(Effect.provide(SummaryStore.layer.pipe(Layer.provideMerge(shards)))),
  )
})
