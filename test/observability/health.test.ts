/**
 * Health that says ok only when it is (issue 25): /livez is the process's stages running and nothing
 * else, so a shard or the bus being down never makes a liveness probe restart the process; /readyz (and
 * /healthz, kept) is 503 — with `error: "not_ready"` and the first check that is down — when the bus
 * does not answer or a stage is failing its writes; a shard that is down is reported and the process is
 * `degraded` but ready.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Data, Duration, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { BusError } from "../../src/bus/Records.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { liveness, readiness, report } from "../../src/observability/Health.ts"
import { healthOf } from "../../src/observability/SystemServer.ts"
import { Shards } from "../../src/store/Shards.ts"
import { Stages, tracked } from "../../src/stream/Stage.ts"
import { baseUrl } from "../support/http.ts"
import { createShards, dropShards, withClient } from "../support/shards.ts"
import { ingressStack } from "../support/stack.ts"

class WriteError extends Data.TaggedError("WriteError")<{ message: string }> {}

describe("liveness and readiness", () => {
  const env = Layer.mergeAll(Bus.layerMemory, Stages.layer).pipe(
    Layer.provideMerge(TallyConfig.layerWith({ stallTimeout: Duration.minutes(10) })),
  )

  it.effect("appends failing for 30 s: not ready, naming the stage and why; still live", () =>
    Effect.gen(function* () {
      const append = (ok: boolean) =>
        tracked(
          "ingress",
          ok ? Effect.void : Effect.fail(new WriteError({ message: "log unavailable" })),
        ).pipe(Effect.ignore)
      yield* append(true)
      assert.strictEqual((yield* readiness(healthOf.kafka)).status, "ok")
      for (let i = 0; i < 7; i++) {
        yield* append(false)
        yield* TestClock.adjust("5 seconds")
      }
      yield* append(false)
      const ready = yield* readiness(healthOf.kafka)
      assert.strictEqual(ready.status, "down")
      assert.strictEqual(ready.error, "not_ready")
      assert.match(
        ready.message!,
        /^not ready: stage ingress: failing for \d+ s \(\d+ failures, no success\): log unavailable$/,
      )
      const live = yield* liveness
      assert.strictEqual(live.status, "ok")
      assert.isUndefined(live.error)
    }).pipe(Effect.scoped, Effect.provide(env)),
  )

  it.effect("a shard that does not answer: degraded but ready; the bus or a stage down: not ready", () =>
    Effect.sync(() => {
      const shardDown = report({ log: "ok", "shard 1 (b)": "down: timeout", "stage sink": "ok" }, {}, "ready")
      assert.deepStrictEqual(shardDown.status, "degraded")
      assert.isUndefined(shardDown.error)
      const busDown = report(
        { kafka: "down: no broker", "shard 0 (a)": "down: x", "stage sink": "ok" },
        {},
        "ready",
      )
      assert.strictEqual(busDown.status, "down")
      assert.strictEqual(busDown.message, "not ready: kafka: no broker")
      const two = report({ kafka: "down: no broker", "stage sink": "down: failed: boom" }, {}, "ready")
      assert.strictEqual(two.message, "not ready: kafka: no broker (and 1 more; see checks)")
    }),
  )
})

// Over HTTP, on real shards: shard 1 taken down, then the bus.
const NAME = "health"
const shard1 = `tally_t_${NAME}_1`
const setShard = (up: boolean) =>
  Effect.promise(() =>
    withClient(inject("pgUrl"), async (c) => {
      await c.query(`ALTER DATABASE ${shard1} ALLOW_CONNECTIONS ${up}`)
      if (!up)
        await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [shard1])
    }),
  )

afterAll(async () => {
  await Effect.runPromise(setShard(true))
  await dropShards(NAME, 2)
})

let busDown = false
const FlakyBus = Layer.effect(
  Bus,
  Effect.map(Effect.service(Bus), (bus) =>
    Bus.of({
      ...bus,
      health: Effect.suspend(() =>
        busDown
          ? Effect.fail(new BusError({ reason: "Unavailable", message: "no broker (test)" }))
          : bus.health,
      ),
    }),
  ),
).pipe(Layer.provideMerge(Bus.layerMemory))

const shards = Layer.unwrap(Effect.promise(async () => Shards.layerPg(await createShards(NAME, 2))))

const get = (url: string) =>
  Effect.promise(async () => {
    const r = await fetch(url)
    return { status: r.status, body: (await r.json()) as Record<string, unknown> }
  })

layer(ingressStack(FlakyBus, {}, shards), { excludeTestServices: true, timeout: "120 seconds" })(
  "health over HTTP",
  (it) => {
    it.effect(
      "/livez stays 200 through a shard and a bus outage; /readyz and /healthz say what is down",
      () =>
        Effect.gen(function* () {
          const base = yield* baseUrl
          for (const path of ["/livez", "/readyz", "/healthz"]) {
            const ok = yield* get(`${base}${path}`)
            assert.strictEqual(ok.status, 200, path)
            assert.strictEqual(ok.body.status, "ok", path)
          }
          yield* setShard(false)
          const degraded = yield* get(`${base}/readyz`)
          assert.strictEqual(degraded.status, 200)
          assert.strictEqual(degraded.body.status, "degraded")
          assert.match(
            String((degraded.body.checks as Record<string, string>)[`shard 1 (${shard1})`]),
            /^down: /,
          )
          assert.strictEqual((yield* get(`${base}/livez`)).status, 200)
          busDown = true
          for (const path of ["/readyz", "/healthz"]) {
            const down = yield* get(`${base}${path}`)
            assert.strictEqual(down.status, 503, path)
            assert.strictEqual(down.body.status, "down", path)
            assert.strictEqual(down.body.error, "not_ready", path)
            assert.strictEqual(down.body.message, "not ready: log: no broker (test)", path)
          }
          const live = yield* get(`${base}/livez`)
          assert.strictEqual(live.status, 200)
          assert.strictEqual(live.body.status, "ok")
          busDown = false
          yield* setShard(true)
        }),
    )
  },
)
