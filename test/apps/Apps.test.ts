/** One conformance suite for the app catalogue on every store: memory, real Postgres, PGlite. */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { Apps, type AppsBackend, makeApps, memoryBackend, sha256 } from "../../src/apps/Apps.ts"
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

describe("the credential snapshot, on the Clock", () => {
  const A = "0b7a3f2e-7777-4a57-9c1e-2f0d8b4f1a01"
  const B = "0b7a3f2e-8888-4a57-9c1e-2f0d8b4f1a01"

  it.effect("a miss reloads at most once a second; the snapshot is refreshed every 30 s", () =>
    Effect.gen(function* () {
      // The catalogue another process writes to, and how often this one reads all of it.
      const catalogue = memoryBackend()
      let loads = 0
      const counted: AppsBackend = {
        ...catalogue,
        load: Effect.andThen(
          Effect.sync(() => loads++),
          catalogue.load,
        ),
      }
      const apps = yield* makeApps(counted)
      assert.strictEqual(loads, 1)

      yield* catalogue.insert({
        owner: A,
        name: "elsewhere",
        secret: sha256("secret-a"),
        token: sha256("token-a"),
      })
      // Loaded just now: a miss answers "unknown" without asking the catalogue.
      assert.isTrue(Option.isNone(yield* apps.ownerByDrainSecret("secret-a")))
      assert.strictEqual(loads, 1)
      // A second later, a miss reloads and finds it.
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* apps.ownerByDrainSecret("secret-a"), Option.some(A))
      assert.strictEqual(loads, 2)
      // Unknown credentials cannot hammer the catalogue.
      for (let i = 0; i < 5; i++) assert.isTrue(Option.isNone(yield* apps.ownerByReadToken(`guess-${i}`)))
      assert.strictEqual(loads, 2)

      // The periodic refresh (at 30 s) brings in what was created meanwhile, with no miss needed.
      yield* catalogue.insert({
        owner: B,
        name: "later",
        secret: sha256("secret-b"),
        token: sha256("token-b"),
      })
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual(loads, 3)
      assert.deepStrictEqual(yield* apps.ownerByReadToken("token-b"), Option.some(B))
      assert.strictEqual(loads, 3)
    }).pipe(Effect.scoped),
  )
})
