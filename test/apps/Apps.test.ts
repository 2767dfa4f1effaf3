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

    it.effect("list, get and nameOf; rotation revokes the earlier credentials; remove forgets the app", () =>
      Effect.gen(function* () {
        const apps = yield* Apps
        const zeta = yield* apps.create("zeta-rotating")
        const alpha = yield* apps.create("alpha-listed")
        const listed = (yield* apps.list).filter(
          (a) => a.name.endsWith("-rotating") || a.name.endsWith("-listed"),
        )
        assert.deepStrictEqual(
          listed.map((a) => [a.name, a.owner]),
          [
            ["alpha-listed", alpha.owner],
            ["zeta-rotating", zeta.owner],
          ],
        )
        for (const a of listed) assert.isFalse(Number.isNaN(Date.parse(a.createdAt)), a.createdAt)
        assert.strictEqual((yield* apps.get(zeta.owner.toUpperCase())).name, "zeta-rotating")
        assert.deepStrictEqual(yield* apps.nameOf(zeta.owner), Option.some("zeta-rotating"))
        const extra = yield* apps.addReadToken(zeta.owner)
        // A new read token: both earlier ones stop working, the new one works.
        const token = yield* apps.rotateReadToken(zeta.owner)
        assert.isTrue(token.startsWith("tly_r_"))
        assert.deepStrictEqual(yield* apps.ownerByReadToken(token), Option.some(zeta.owner))
        assert.isTrue(Option.isNone(yield* apps.ownerByReadToken(zeta.readToken)))
        assert.isTrue(Option.isNone(yield* apps.ownerByReadToken(extra)))
        // A new drain secret: the old one stops working; the other app's are untouched.
        const secret = yield* apps.rotateDrainSecret(zeta.owner)
        assert.deepStrictEqual(yield* apps.ownerByDrainSecret(secret), Option.some(zeta.owner))
        assert.isTrue(Option.isNone(yield* apps.ownerByDrainSecret(zeta.drainSecret)))
        assert.deepStrictEqual(yield* apps.ownerByDrainSecret(alpha.drainSecret), Option.some(alpha.owner))
        assert.deepStrictEqual(yield* apps.ownerByReadToken(alpha.readToken), Option.some(alpha.owner))
        // Removed: no credential of it works, it is not listed, and its name is free again.
        const removed = yield* apps.remove(zeta.owner)
        assert.strictEqual(removed.name, "zeta-rotating")
        assert.isTrue(Option.isNone(yield* apps.ownerByReadToken(token)))
        assert.isTrue(Option.isNone(yield* apps.ownerByDrainSecret(secret)))
        assert.isTrue(Option.isNone(yield* apps.nameOf(zeta.owner)))
        assert.notInclude(
          (yield* apps.list).map((a) => a.owner),
          zeta.owner,
        )
        yield* apps.create("zeta-rotating")
        // Unknown owners, and what cannot be one, are NotFound (never a database error).
        for (const owner of [zeta.owner, "00000000-0000-4000-8000-000000000000", "not-a-uuid", "'; DROP"]) {
          assert.strictEqual((yield* Effect.flip(apps.get(owner))).reason, "NotFound", owner)
          assert.strictEqual((yield* Effect.flip(apps.rotateReadToken(owner))).reason, "NotFound", owner)
          assert.strictEqual((yield* Effect.flip(apps.rotateDrainSecret(owner))).reason, "NotFound", owner)
          assert.strictEqual((yield* Effect.flip(apps.remove(owner))).reason, "NotFound", owner)
        }
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

  it.effect("a rotation or removal made by another process reaches this one's snapshot at its refresh", () =>
    Effect.gen(function* () {
      const catalogue = memoryBackend()
      const other = yield* makeApps(catalogue)
      const here = yield* makeApps(catalogue)
      const app = yield* other.create("revoked-elsewhere")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* here.ownerByReadToken(app.readToken), Option.some(app.owner))
      assert.deepStrictEqual(yield* here.nameOf(app.owner), Option.some("revoked-elsewhere"))
      const token = yield* other.rotateReadToken(app.owner)
      yield* other.remove(app.owner)
      // Known here until this process's snapshot is refreshed (every 30 s), then unknown.
      assert.deepStrictEqual(yield* here.ownerByReadToken(app.readToken), Option.some(app.owner))
      yield* TestClock.adjust("30 seconds")
      assert.isTrue(Option.isNone(yield* here.ownerByReadToken(app.readToken)))
      assert.isTrue(Option.isNone(yield* here.ownerByReadToken(token)))
      assert.isTrue(Option.isNone(yield* here.ownerByDrainSecret(app.drainSecret)))
      assert.isTrue(Option.isNone(yield* here.nameOf(app.owner)))
    }).pipe(Effect.scoped),
  )
})
