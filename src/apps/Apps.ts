/**
 * Apps and their credentials. An app has an owner UUID, a name, one drain secret and read tokens; only
 * SHA-256 digests of secrets and tokens are stored. Lookups by credential (and an app's name) are served
 * from an in-memory snapshot (never a database round trip per request): loaded at start, refreshed every
 * 30 s, and on a miss at most once a second, so a just-created app is recognised at once and unknown
 * secrets cannot hammer the catalogue shard.
 *
 * Rotation and deletion take effect at once in the process that makes them, and in every other process
 * at its next refresh (within 30 s): a revoked credential is then unknown (401).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto"
import { Clock, Context, Effect, Layer, Option, Schema, Semaphore } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import type * as Statement from "effect/sql/Statement"
import { Shards, type ShardsApi } from "../store/Shards.ts"
import { type StoreError, sqlStateOf } from "../store/StoreError.ts"

export class AppsError extends Schema.TaggedError<AppsError>()("AppsError", {
  /** NotFound: no app has that owner (or it is not a UUID at all). */
  reason: Schema.Literals(["Conflict", "Invalid", "NotFound", "Unavailable"]),
  message: Schema.String,
}) {}

/** An app as listed (no credentials: only their digests are kept). */
export interface AppInfo {
  readonly owner: string
  readonly name: string
  /** When it was created (ISO 8601). */
  readonly createdAt: string
}

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
  /** Every app, by name, read from the catalogue now. */
  readonly list: Effect.Effect<ReadonlyArray<AppInfo>, AppsError>
  /** One app, read from the catalogue now; fails NotFound. */
  readonly get: (owner: string) => Effect.Effect<AppInfo, AppsError>
  /** The name of an app, from the snapshot (reloaded on a miss, as credentials are). */
  readonly nameOf: (owner: string) => Effect.Effect<Option.Option<string>, AppsError>
  /** A new read token for the app; every earlier one is revoked. Fails NotFound. */
  readonly rotateReadToken: (owner: string) => Effect.Effect<string, AppsError>
  /** A new drain secret for the app; the earlier one is revoked. Fails NotFound. */
  readonly rotateDrainSecret: (owner: string) => Effect.Effect<string, AppsError>
  /** Removes the app, its credentials and its process types (its rollups age out with retention). Fails NotFound. */
  readonly remove: (owner: string) => Effect.Effect<AppInfo, AppsError>
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
  /** Replaces every read token of the app by `token`. */
  readonly replaceTokens: (owner: string, token: Buffer) => Effect.Effect<"ok" | "unknown", AppsError>
  readonly replaceSecret: (owner: string, secret: Buffer) => Effect.Effect<"ok" | "unknown", AppsError>
  /** Deletes the app (its tokens and process types with it) and says what it was. */
  readonly delete: (owner: string) => Effect.Effect<AppInfo | "unknown", AppsError>
  readonly list: Effect.Effect<Array<AppInfo>, AppsError>
  readonly load: Effect.Effect<
    {
      secrets: Array<[string, string]>
      tokens: Array<[string, string]>
      /** [owner, name] of every app. */
      names: Array<[string, string]>
    },
    AppsError
  >
}

export const NAME = /^[a-z][a-z0-9-]{0,62}$/
/** An owner: a UUID, any case (stored and answered lowercase). */
export const OWNER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()
const secret = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`

const unavailable = (e: { readonly message: string }) =>
  new AppsError({ reason: "Unavailable", message: `the app catalogue cannot be read: ${e.message}` })

/** A miss reloads the snapshot at most this often. */
const MISS_RELOAD_MS = 1000

const noSuchApp = (owner: string) => new AppsError({ reason: "NotFound", message: `no app ${owner}` })

/** Drops every entry of `map` that maps to `owner` (a revoked credential of it). */
const forget = (map: Map<string, string>, owner: string) => {
  for (const [key, value] of map) if (value === owner) map.delete(key)
}

export const makeApps = Effect.fnUntraced(function* (backend: AppsBackend) {
  let secrets = new Map<string, string>()
  let tokens = new Map<string, string>()
  let names = new Map<string, string>()
  let refreshedAt = Number.NEGATIVE_INFINITY
  const lock = yield* Semaphore.make(1)

  const load = Effect.gen(function* () {
    const snapshot = yield* backend.load
    secrets = new Map(snapshot.secrets)
    tokens = new Map(snapshot.tokens)
    names = new Map(snapshot.names)
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

  const byKey = (map: () => Map<string, string>, key: string) =>
    Effect.gen(function* () {
      const hit = map().get(key)
      if (hit !== undefined) return Option.some(hit)
      if ((yield* Clock.currentTimeMillis) - refreshedAt < MISS_RELOAD_MS) return Option.none()
      yield* reloadIfStale
      return Option.fromNullishOr(map().get(key))
    })
  const lookup = (map: () => Map<string, string>) => (credential: string) =>
    byKey(map, sha256(credential).toString("hex"))

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
    names.set(app.owner, name)
    return app satisfies NewApp
  })

  /** The owner as stored (lowercase), or NotFound for what cannot be one. */
  const ownerOf = (owner: string) =>
    OWNER.test(owner) ? Effect.succeed(owner.toLowerCase()) : Effect.fail(noSuchApp(owner))

  const rotateReadToken = Effect.fnUntraced(function* (given: string) {
    const owner = yield* ownerOf(given)
    const token = secret("tly_r_")
    const digest = sha256(token)
    if ((yield* backend.replaceTokens(owner, digest)) === "unknown") return yield* noSuchApp(given)
    forget(tokens, owner)
    tokens.set(digest.toString("hex"), owner)
    return token
  })

  const rotateDrainSecret = Effect.fnUntraced(function* (given: string) {
    const owner = yield* ownerOf(given)
    const drainSecret = secret("")
    const digest = sha256(drainSecret)
    if ((yield* backend.replaceSecret(owner, digest)) === "unknown") return yield* noSuchApp(given)
    forget(secrets, owner)
    secrets.set(digest.toString("hex"), owner)
    return drainSecret
  })

  const remove = Effect.fnUntraced(function* (given: string) {
    const owner = yield* ownerOf(given)
    const removed = yield* backend.delete(owner)
    if (removed === "unknown") return yield* noSuchApp(given)
    forget(secrets, owner)
    forget(tokens, owner)
    names.delete(owner)
    return removed
  })

  const list = Effect.map(backend.list, (apps) => apps.sort((a, b) => (a.name < b.name ? -1 : 1)))

  const get = Effect.fnUntraced(function* (given: string) {
    const owner = yield* ownerOf(given)
    const found = (yield* backend.list).find((a) => a.owner === owner)
    return found ?? (yield* noSuchApp(given))
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
    nameOf: (owner) => byKey(() => names, owner.toLowerCase()),
    list,
    get,
    rotateReadToken,
    rotateDrainSecret,
    remove,
  } satisfies AppsApi
})

export const memoryBackend = (): AppsBackend => {
  const apps = new Map<string, { name: string; secret: string; tokens: Array<string>; createdAt: string }>()
  const info = (owner: string) => {
    const a = apps.get(owner)!
    return { owner, name: a.name, createdAt: a.createdAt }
  }
  return {
    insert: ({ owner, name, secret, token }) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        for (const a of apps.values()) if (a.name === name) return "conflict" as const
        apps.set(owner, {
          name,
          secret: secret.toString("hex"),
          tokens: [token.toString("hex")],
          createdAt: new Date(now).toISOString(),
        })
        return "ok" as const
      }),
    replaceTokens: (owner, token) =>
      Effect.sync(() => {
        const app = apps.get(owner)
        if (!app) return "unknown" as const
        app.tokens = [token.toString("hex")]
        return "ok" as const
      }),
    replaceSecret: (owner, secret) =>
      Effect.sync(() => {
        const app = apps.get(owner)
        if (!app) return "unknown" as const
        app.secret = secret.toString("hex")
        return "ok" as const
      }),
    delete: (owner) =>
      Effect.sync(() => {
        if (!apps.has(owner)) return "unknown" as const
        const removed = info(owner)
        apps.delete(owner)
        return removed
      }),
    list: Effect.sync(() => [...apps.keys()].map(info)),
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
      names: [...apps].map(([owner, a]): [string, string] => [owner, a.name]),
    })),
  }
}

const Digest = Schema.Struct({ h: Schema.String, owner: Schema.String })
const AppRow = Schema.Struct({ owner: Schema.String, name: Schema.String, created_at: Schema.String })
const toInfo = (r: typeof AppRow.Type): AppInfo => ({
  owner: r.owner,
  name: r.name,
  createdAt: new Date(r.created_at).toISOString(),
})
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
    replaceTokens: (owner, token) =>
      shards
        .use(0, "rotate read token", (sql) =>
          sql.withTransaction(
            Effect.gen(function* () {
              const found = yield* sql`SELECT 1 FROM apps WHERE owner = ${owner} FOR UPDATE`
              if (found.length === 0) return "unknown" as const
              yield* sql`DELETE FROM app_read_tokens WHERE owner = ${owner}`
              yield* sql`INSERT INTO app_read_tokens ${sql.insert({ token_sha256: token, owner })}`
              return "ok" as const
            }),
          ),
        )
        .pipe(Effect.mapError(unavailable)),
    replaceSecret: (owner, secret) =>
      shards
        .use(0, "rotate drain secret", (sql) =>
          Effect.map(
            sql`UPDATE apps SET drain_secret_sha256 = ${secret} WHERE owner = ${owner} RETURNING owner`,
            (rows) => (rows.length === 0 ? ("unknown" as const) : ("ok" as const)),
          ),
        )
        .pipe(Effect.mapError(unavailable)),
    delete: (owner) =>
      shards
        .use(0, "delete app", (sql) =>
          sql.withTransaction(
            Effect.gen(function* () {
              const rows = yield* SqlSchema.findAll({
                Request: Schema.Void,
                Result: AppRow,
                execute: () =>
                  sql`DELETE FROM apps WHERE owner = ${owner} RETURNING owner::text AS owner, name, created_at::text AS created_at`,
              })(undefined).pipe(Effect.orDie)
              if (rows.length === 0) return "unknown" as const
              yield* sql`DELETE FROM app_process_types WHERE owner = ${owner}`
              return toInfo(rows[0]!)
            }),
          ),
        )
        .pipe(Effect.mapError(unavailable)),
    list: shards
      .use(0, "list apps", (sql) =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: AppRow,
          execute: () =>
            sql`SELECT owner::text AS owner, name, created_at::text AS created_at FROM apps ORDER BY name`,
        })(undefined).pipe(Effect.orDie),
      )
      .pipe(
        Effect.map((rows) => rows.map(toInfo)),
        Effect.mapError(unavailable),
      ),
    load: shards
      .use(0, "load credentials", (sql) =>
        Effect.all({
          secrets: digests(
            sql`SELECT encode(drain_secret_sha256, 'hex') AS h, owner::text AS owner FROM apps`,
          ),
          tokens: digests(
            sql`SELECT encode(token_sha256, 'hex') AS h, owner::text AS owner FROM app_read_tokens`,
          ),
          names: digests(sql`SELECT name AS h, owner::text AS owner FROM apps`).pipe(
            Effect.map((rows) => rows.map(([name, owner]): [string, string] => [owner, name])),
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
