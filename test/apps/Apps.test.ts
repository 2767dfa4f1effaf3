/** One conformance suite for the app catalogue on every store: memory, real Postgres, PGlite. */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Apps } from "../../src/apps/Apps.ts"
import { Shards } from "../../src/store/Shards.ts"
import { pgliteShards, realShards } from "../support/layers.ts"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const conformance = (name: string, apps: Layer.Layer<Apps, unknown>) =>
  layer(apps, { excludeTestServices: true })(`Apps: ${name}`, (it) => {
    it.effect("create returns an owner and credentials that map back to it", () =>
      Effect.gen(function* () {
        const apps = yield* Apps
        const app = yield* apps.create("shop")
        assert.match(app.owner, UUID)
        assert.isAtLeast(app.drainSecret.length, 32)
        assert.isTrue(app.readToken.startsWith("tly_r_"))
        assert.deepStrictEqual(yield* apps.ownerByDrainSecret(app.drainSecret), Option.some(app.owner))
        assert.deepStrictEqual(yield* apps.ownerByReadToken(app.readToken), Option.some(app.owner))
        // A drain secret is not a read token and the other way round.
        assert.isTrue(Option.isNone(yield* apps.ownerByReadToken(app.drainSecret)))
        assert.isTrue(Option.isNone(yield* apps.ownerByDrainSecret(app.readToken)))
        assert.isTrue(Option.isNone(yield* apps.ownerByDrainSecret("nope")))
      }),
    )

    it.effect("names are unique and well-formed", () =>
      Effect.gen(function* () {
        const apps = yield* Apps
        yield* apps.create("billing")
        assert.strictEqual((yield* Effect.flip(apps.create("billing"))).reason, "Conflict")
        for (const bad of ["", "Shop", "1app", "a b", "x".repeat(64)])
          assert.strictEqual((yield* Effect.flip(apps.create(bad))).reason, "Invalid")
      }),
    )

    it.effect("more read tokens for an app; none for an unknown owner", () =>
      Effect.gen(function* () {
        const apps = yield* Apps
        const app = yield* apps.create("reports")
        const token = yield* apps.addReadToken(app.owner)
        assert.deepStrictEqual(yield* apps.ownerByReadToken(token), Option.some(app.owner))
        const error = yield* Effect.flip(apps.addReadToken("00000000-0000-4000-8000-000000000000"))
        assert.strictEqual(error.reason, "Invalid")
      }),
    )
  })

conformance("memory", Apps.layerMemory)
conformance("PGlite", Apps.layer.pipe(Layer.provide(pgliteShards)))

const real = realShards("apps", 2)
conformance("Postgres", Apps.layer.pipe(Layer.provide(real)))

layer(real, { excludeTestServices: true })("Apps on Postgres", (it) => {
  it.effect("another process sees a new app on its first miss, and only digests are stored", () =>
    Effect.gen(function* () {
      const shards = yield* Shards
      const app = yield* Effect.gen(function* () {
        const apps = yield* Apps
        return yield* apps.create("elsewhere")
      }).pipe(Effect.provide(Apps.layer))
      const seen = yield* Effect.gen(function* () {
        const apps = yield* Apps
        return yield* apps.ownerByDrainSecret(app.drainSecret)
      }).pipe(Effect.provide(Apps.layer))
      assert.deepStrictEqual(seen, Option.some(app.owner))
      const sql = shards.client(0)
      const rows = yield* sql<{
        readonly drain_secret_sha256: Uint8Array
      }>`SELECT * FROM apps WHERE name = 'elsewhere'`
      assert.notInclude(JSON.stringify(rows), app.drainSecret)
      assert.strictEqual(rows[0]!.drain_secret_sha256.length, 32)
    }),
  )
})
