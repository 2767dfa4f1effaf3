/**
 * With the catalogue shard down, credentials that are not cached cannot be checked: readers and drains
 * get 503 with Retry-After (try again), never a 500 — and a cached read token keeps working.
 */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { afterAll, inject } from "vitest"
import { Shards } from "../../src/store/Shards.ts"
import { eventually } from "../support/eventually.ts"
import { baseUrl, createApp, postDrain } from "../support/http.ts"
import { createShards, dropShards, withClient } from "../support/shards.ts"
import { ingressStack } from "../support/stack.ts"

const NAME = "catalogue"
const database = `tally_t_${NAME}_0`
const setCatalogue = (up: boolean) =>
  Effect.promise(() =>
    withClient(inject("pgUrl"), async (c) => {
      await c.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS ${up}`)
      if (!up)
        await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [database])
    }),
  )

afterAll(async () => {
  await Effect.runPromise(setCatalogue(true))
  await dropShards(NAME, 2)
})

const shards = Layer.unwrap(Effect.promise(async () => Shards.layerPg(await createShards(NAME, 2))))

layer(ingressStack(undefined, {}, shards), { excludeTestServices: true, timeout: "120 seconds" })(
  "credentials while the catalogue shard is down",
  (it) => {
    it.effect(
      "an unknown read token or drain secret gets 503 with Retry-After; a cached token still reads",
      () =>
        Effect.gen(function* () {
          const base = yield* baseUrl
          const drain = yield* Effect.promise(() => createApp(base, "cat-app"))
          const me = (token: string) =>
            Effect.promise(() =>
              fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }),
            )
          assert.strictEqual((yield* me(drain.readToken)).status, 200)
          yield* setCatalogue(false)
          // A miss asks the catalogue again once the snapshot is over a second old: then the answer is 503.
          const asked = { withinMs: 10_000, what: "a miss that asks the catalogue" }
          const unknown = yield* eventually(
            me("tly_r_not-a-token-of-any-app-at-all"),
            (r) => r.status !== 401,
            asked,
          )
          assert.strictEqual(unknown.status, 503)
          assert.isAbove(Number(unknown.headers.get("retry-after")), 0)
          const basic = `Basic ${Buffer.from("tally:nope").toString("base64")}`
          const stranger = yield* eventually(
            Effect.promise(() => postDrain({ ...drain, authorization: basic }, "")),
            (r) => r.status !== 401,
            asked,
          )
          assert.strictEqual(stranger.status, 503)
          // The app's own token was cached when it was created: it still authenticates.
          assert.notStrictEqual((yield* me(drain.readToken)).status, 503)
          yield* setCatalogue(true)
        }),
    )
  },
)
