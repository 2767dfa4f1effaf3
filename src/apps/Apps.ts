/**
 * Apps and their credentials. An app has an owner UUID, a name, one drain secret and read tokens; only
 * SHA-256 digests of secrets and tokens are stored. Lookups by credential are served from an in-memory
 * snapshot (never a database round trip per request): loaded at start, refreshed every 30 s, and on a
 * miss at most once a second, so a just-created app is recognised at once and unknown secrets cannot
 * hammer the catalogue shard.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto"
import { Clock, Context, Effect, Layer, Option, Schema, Semaphore } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import type * as Statement from "effect/sql/Statement"
import { Shards, type ShardsApi } from "../store/Shards.ts"
import { type StoreError, sqlStateOf } from "../store/StoreError.ts"

export class AppsError extends Schema.TaggedError<AppsError>()("AppsError", {
  reason: Schema.Literals(["Conflict", "Invalid", "Unavailable"]),
  message: Schema.String,
}) {}

export interface NewApp {
  readonly owner: string
  readonly name: string
  /** Shown once; only its digest is kept. */
  readonly drainSecret: string
  /** Shown once; only its digest is kept. */
  readonly readToken: string
}

export interface AppsApi {
  readonly create: (name: string) => Effect.Effect<NewApp, AppsError>
  readonly ownerByDrainSecret: (secret: string) => Effect.Effect<Option.Option<string>, AppsError>
  readonly ownerByReadToken: (token: string) => Effect.Effect<Option.Option<string>, AppsError>
  /** Issues another read token for an existing app. */
  readonly addReadToken: (owner: string) => Effect.Effect<string, AppsError>
}

/** Where apps are kept: the catalogue shard, or memory. */
export interface AppsBackend {
  readonly insert: (app: {
    owner: string
    name: string
    secret: Buffer
    token: Buffer
  }) => Effect.Effect<"ok" | "conflict", AppsError>
  readonly insertToken: (owner: string, token: Buffer) => Effect.Effect<"ok" | "unknown", AppsError>
  readonly load: Effect.Effect<
    { secrets: Array<[string, string]>; tokens: Array<[string, string]> },
    AppsError
  >
}

export const NAME = /^[a-z][a-z0-9-]{0,62}$/

export const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()
const secret = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`

const unavailable = (e: { readonly message: string }) =>
  new AppsError({ reason: "Unavailable", message: `the app catalogue cannot be read: ${e.message}` })

/** A miss reloads the snapshot at most this often. */
const MISS_RELOAD_MS = 1000

export const makeApps = Effect.fnUntraced(function* (backend: AppsBackend) {
  let secrets = new Map<string, string>()
  let tokens = new Map<string, string>()
  let refreshedAt = Number.NEGATIVE_INFINITY
  const lock = yield* Semaphore.make(1)

  const load = Effect.gen(function* () {
    const snapshot = yield* backend.load
    secrets = new Map(snapshot.secrets)
    tokens = new Map(snapshot.tokens)
    refreshedAt = yield* Clock.currentTimeMillis
  })
  const reload = lock.withPermit(load)
  /** Concurrent misses queue on the lock and find the snapshot fresh. */
  const reloadIfStale = lock.withPermit(
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      now - refreshedAt < MISS_RELOAD_MS ? Effect.void : load,
    ),
  )

  // With the catalogue shard down the service starts empty; every miss then tries again.
  yield* reload.pipe(Effect.catch((e) => Effect.logWarning(`${e.message}; starting with no apps known`)))
  yield* Effect.forkScoped(
    reload.pipe(
      Effect.catch((e) => Effect.logWarning(e.message)),
      Effect.delay("30 seconds"),
      Effect.forever,
    ),
  )

  const lookup = (map: () => Map<string, string>) => (credential: string) =>
    Effect.gen(function* () {
      const key = sha256(credential).toString("hex")
      const hit = map().get(key)
      if (hit !== undefined) return Option.some(hit)
      if ((yield* Clock.currentTimeMillis) - refreshedAt < MISS_RELOAD_MS) return Option.none()
      yield* reloadIfStale
      return Option.fromNullishOr(map().get(key))
    })

  const create = Effect.fnUntraced(function* (name: string) {
    if (!NAME.test(name))
      return yield* new AppsError({
        reason: "Invalid",
        message: `an app name is 1-63 lowercase letters, digits and dashes, starting with a letter; got ${JSON.stringify(name)}`,
      })
    const app = { owner: randomUUID(), name, drainSecret: secret(""), readToken: secret("tly_r_") }
    const digestS = sha256(app.drainSecret)
    const digestT = sha256(app.readToken)
    const result = yield* backend.insert({ owner: app.owner, name, secret: digestS, token: digestT })
    if (result === "conflict")
      return yield* new AppsError({ reason: "Conflict", message: `an app named ${name} exists` })
    secrets.set(digestS.toString("hex"), app.owner)
    tokens.set(digestT.toString("hex"), app.owner)
    return app satisfies NewApp
  })

  const addReadToken = Effect.fnUntraced(function* (owner: string) {
    const token = secret("tly_r_")
    const digest = sha256(token)
    const result = yield* backend.insertToken(owner, digest)
    if (result === "unknown") return yield* new AppsError({ reason: "Invalid", message: `no app ${owner}` })
    tokens.set(digest.toString("hex"), owner)
    return token
  })

  return {
    create,
    addReadToken,
    ownerByDrainSecret: lookup(() => secrets),
    ownerByReadToken: lookup(() => tokens),
  } satisfies AppsApi
})

export const memoryBackend = (): AppsBackend => {
  const apps = new Map<string, { name: string; secret: string; tokens: Array<string> }>()
  return {
    insert: ({ owner, name, secret, token }) =>
      Effect.sync(() => {
        for (const a of apps.values()) if (a.name === name) return "conflict" as const
        apps.set(owner, { name, secret: secret.toString("hex"), tokens: [token.toString("hex")] })
        return "ok" as const
      }),
    insertToken: (owner, token) =>
      Effect.sync(() => {
        const app = apps.get(owner)
        if (!app) return "unknown" as const
        app.tokens.push(token.toString("hex"))
        return "ok" as const
      }),
    load: Effect.sync(() => ({
      secrets: [...apps].map(([owner, a]): [string, string] => [a.secret, owner]),
      tokens: [...apps].flatMap(([owner, a]) => a.tokens.map((t): [string, string] => [t, owner])),
    })),
  }
}

const Digest = Schema.Struct({ h: Schema.String, owner: Schema.String })
const UNIQUE_VIOLATION = "23505"
/** No such owner: a foreign key violation, or not a UUID at all. */
const NO_SUCH_OWNER = new Set(["23503", "22P02"])
const codeOf = (e: SqlError | StoreError) => (e._tag === "SqlError" ? sqlStateOf(e) : undefined)

/** The catalogue on shard 0: every statement through its SqlClient, under the Shards deadline. */
export const sqlBackend = (shards: ShardsApi): AppsBackend => {
  const digests = (query: Statement.Statement<object>) =>
    SqlSchema.findAll({ Request: Schema.Void, Result: Digest, execute: () => query })(undefined).pipe(
      Effect.orDie,
      Effect.map((rows) => rows.map((r): [string, string] => [r.h, r.owner])),
    )
  return {
    insert: ({ owner, name, secret, token }) =>
      shards
        .use(0, "create app", (sql) =>
          sql
            .withTransaction(
              Effect.andThen(
                sql`INSERT INTO apps ${sql.insert({ owner, name, drain_secret_sha256: secret })}`,
                sql`INSERT INTO app_read_tokens ${sql.insert({ token_sha256: token, owner })}`,
              ),
            )
            .pipe(
              Effect.as("ok" as const),
              Effect.catchIf(
                (e) => codeOf(e) === UNIQUE_VIOLATION,
                () => Effect.succeed("conflict" as const),
              ),
            ),
        )
        .pipe(Effect.mapError(unavailable)),
    insertToken: (owner, token) =>
      shards
        .use(0, "add read token", (sql) =>
          sql`INSERT INTO app_read_tokens ${sql.insert({ token_sha256: token, owner })}`.pipe(
            Effect.as("ok" as const),
            Effect.catchIf(
              (e) => NO_SUCH_OWNER.has(codeOf(e) ?? ""),
              () => Effect.succeed("unknown" as const),
            ),
          ),
        )
        .pipe(Effect.mapError(unavailable)),
    load: shards
      .use(0, "load credentials", (sql) =>
        Effect.all({
          secrets: digests(
            sql`SELECT encode(drain_secret_sha256, 'hex') AS h, owner::text AS owner FROM apps`,
          ),
          tokens: digests(
            sql`SELECT encode(token_sha256, 'hex') AS h, owner::text AS owner FROM app_read_tokens`,
          ),
        }),
      )
      .pipe(Effect.mapError(unavailable)),
  }
}

export class Apps extends Context.Service<Apps, AppsApi>()("tally/apps/Apps") {
  /** Apps on the catalogue shard (shard 0) of the Shards layer: real Postgres or PGlite. */
  static readonly layer = Layer.effect(
    Apps,
    Effect.flatMap(Effect.service(Shards), (shards) => makeApps(sqlBackend(shards))).pipe(
      Effect.map(Apps.of),
    ),
  )

  static readonly layerMemory = Layer.effect(
    Apps,
    Effect.suspend(() => makeApps(memoryBackend())).pipe(Effect.map(Apps.of)),
  )
}
