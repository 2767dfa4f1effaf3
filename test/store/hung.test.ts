/**
 * A hung shard (accepts TCP, never answers), played by a proxy in front of a real shard: every store call
 * fails Unavailable at its deadline, an interrupted call returns at once, and once the shard answers
 * again later calls work on fresh connections (nothing leaked or wedged).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { afterAll, beforeAll, inject } from "vitest"
import { Shards } from "../../src/store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../../src/store/SummaryStore.ts"
import { startProxy, type TcpProxy } from "../../tools/chaos/proxy.ts"
import { createShards, dropShards } from "../support/shards.ts"

const NAME = "hung"
const OWNER = "0b7a3f2e-4444-4a57-9c1e-2f0d8b4f1a01"
const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const DEADLINE_MS = 1000

let proxy: TcpProxy
beforeAll(async () => {
  await createShards(NAME, 1)
  const server = new URL(inject("pgUrl"))
  proxy = await startProxy({ host: server.hostname, port: Number(server.port || 5432) })
})
afterAll(async () => {
  await proxy?.close()
  await dropShards(NAME, 1)
})

const row = (startMs: number, version: number): SummaryRow => ({
  owner: OWNER,
  processType: "web",
  metric: "router_service_ms",
  label: "",
  startMs,
  count: version,
  sum: 1,
  sumsq: 1,
  min: 1,
  max: 1,
  sketch: new Uint8Array([1]),
  version,
})

const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const start = Date.now()
    const result = yield* Effect.result(effect)
    return { result, ms: Date.now() - start }
  })

/** Polls `effect` until it succeeds, at most `ms`; returns how long it took. */
const until = <A, E>(effect: Effect.Effect<A, E>, ms: number) =>
  Effect.gen(function* () {
    const start = Date.now()
    for (;;) {
      const r = yield* Effect.result(effect)
      if (r._tag === "Success") return Date.now() - start
      if (Date.now() - start > ms)
        return yield* Effect.die(new Error(`still failing after ${ms} ms: ${String(r.failure)}`))
      yield* Effect.sleep("100 millis")
    }
  })

describe("a hung shard", () => {
  it.live(
    "calls fail Unavailable at the deadline, interruption is prompt, and calls work again after",
    () =>
      Effect.gen(function* () {
        const store = yield* SummaryStore
        const read = store.readSummaries(0, {
          type: "ROUTER_REQUESTS",
          period: "1m",
          owner: OWNER,
          metric: "router_service_ms",
          fromMs: T - 86_400_000,
          toMs: T + 86_400_000,
        })
        const write = (v: number) => store.writeSummaries(0, "ROUTER_REQUESTS", "1m", [row(T, v)])
        yield* write(1)
        assert.deepStrictEqual(
          (yield* read).map((r) => r.version),
          [1],
        )

        proxy.hang()
        // Reads and DDL (sql-pg), writes (the CopyWriter's pg pool), more at once than either pool holds.
        const calls = [read, read, read, write(2), write(3), store.ensureDays(0, [T + 3 * 86_400_000])]
        const outcomes = yield* Effect.all(calls.map(timed), { concurrency: "unbounded" })
        for (const { result, ms } of outcomes) {
          assert.strictEqual(result._tag, "Failure")
          if (result._tag === "Failure") assert.strictEqual(result.failure.reason, "Unavailable")
          assert.isBelow(ms, DEADLINE_MS + 1500, "failed at the deadline, not after the connection's cleanup")
        }

        // An interrupted call returns at once, whatever its connection is doing.
        const fiber = yield* Effect.forkChild(write(4))
        yield* Effect.sleep("200 millis")
        const interrupted = yield* timed(Fiber.interrupt(fiber))
        assert.isBelow(interrupted.ms, 500)

        proxy.forward()
        const before = proxy.accepted()
        const recovered = yield* until(Effect.andThen(write(5), read), 15_000)
        assert.deepStrictEqual(
          (yield* read).map((r) => r.version),
          [5],
        )
        assert.isAbove(proxy.accepted(), before, "fresh connections replaced the hung ones")
        yield* Effect.log(`a hung shard: calls worked again ${recovered} ms after it answered`)
      }).pipe(
        Effect.provide(
          Layer.unwrap(
            Effect.sync(() =>
              SummaryStore.layer.pipe(
                Layer.provide(
                  Shards.layerPg([`postgres://postgres@127.0.0.1:${proxy.port}/tally_t_${NAME}_0`], {
                    deadline: `${DEADLINE_MS} millis`,
                    connectTimeout: `${DEADLINE_MS} millis`,
                    poolSize: 2,
                    copyPoolSize: 1,
                  }),
                ),
              ),
            ),
          ),
        ),
      ),
    60_000,
  )
})
