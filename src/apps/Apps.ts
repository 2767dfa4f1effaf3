/**
 * Apps and their credentials. An app has an owner UUID, a name, one drain secret and read tokens; only
 * SHA-256 digests of secrets and tokens are stored. Lookups by credential are served from an in-memory
 * snapshot (never a database round trip per request): loaded at start, refreshed every 30 s, and on a
 * miss at most once a second, so a just-created app is recognised at once and unknown secrets cannot
 * hammer the catalogue shard.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { Shards } from "../store/Shards.ts"

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
  }) => Promise<"ok" | "conflict">
  readonly insertToken: (owner: string, token: Buffer) => Promise<"ok" | "unknown">
  readonly load: () => Promise<{ secrets: Array<[string, string]>; tokens: Array<[string, string]> }>
}

export const NAME = /^[a-z][a-z0-9-]{0,62}$/

export const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()
const secret = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`

const unavailable = (e: unknown) =>
  new AppsError({
    reason: "Unavailable",
    message: `the app catalogue cannot be read: ${(e as Error)?.message ?? e}`,
  })

export const makeApps = Effect.fnUntraced(function* (backend: AppsBackend) {
  let secrets = new Map<string, string>()
  let tokens = new Map<string, string>()
  let refreshedAt = 0
  let inFlight: Promise<void> | undefined

  const reload = () =>
    (inFlight ??= backend
      .load()
      .then((snapshot) => {
        secrets = new Map(snapshot.secrets)
        tokens = new Map(snapshot.tokens)
        refreshedAt = Date.now()
      })
      .finally(() => {
        inFlight = undefined
      }))

  yield* Effect.tryPromise({ try: reload, catch: unavailable })
  yield* Effect.forkScoped(
    Effect.tryPromise({ try: reload, catch: unavailable }).pipe(
      Effect.catch((e) => Effect.logWarning(e.message)),
      Effect.delay("30 seconds"),
      Effect.forever,
    ),
  )

  const lookup = (map: () => Map<string, string>) => (credential: string) => {
    const key = sha256(credential).toString("hex")
    const hit = map().get(key)
    if (hit !== undefined) return Effect.succeed(Option.some(hit))
    if (Date.now() - refreshedAt < 1000) return Effect.succeed(Option.none())
    return Effect.tryPromise({ try: reload, catch: unavailable }).pipe(
      Effect.map(() => Option.fromNullishOr(map().get(key))),
    )
  }

  const create = Effect.fnUntraced(function* (name: string) {
    if (!NAME.test(name))
      return yield* new AppsError({
        reason: "Invalid",
        message: `an app name is 1-63 lowercase letters, digits and dashes, starting with a letter; got ${JSON.stringify(name)}`,
      })
    const app = { owner: randomUUID(), name, drainSecret: secret(""), readToken: secret("tly_r_") }
    const digestS = sha256(app.drainSecret)
    const digestT = sha256(app.readToken)
    const result = yield* Effect.tryPromise({
      try: () => backend.insert({ owner: app.owner, name, secret: digestS, token: digestT }),
      catch: unavailable,
    })
    if (result === "conflict")
      return yield* new AppsError({ reason: "Conflict", message: `an app named ${name} exists` })
    secrets.set(digestS.toString("hex"), app.owner)
    tokens.set(digestT.toString("hex"), app.owner)
    return app satisfies NewApp
  })

  const addReadToken = Effect.fnUntraced(function* (owner: string) {
    const token = secret("tly_r_")
    const digest = sha256(token)
    const result = yield* Effect.tryPromise({
      try: () => backend.insertToken(owner, digest),
      catch: unavailable,
    })
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
    insert: async ({ owner, name, secret, token }) => {
      for (const a of apps.values()) if (a.name === name) return "conflict"
      apps.set(owner, { name, secret: secret.toString("hex"), tokens: [token.toString("hex")] })
      return "ok"
    },
    insertToken: async (owner, token) => {
      const app = apps.get(owner)
      if (!app) return "unknown"
      app.tokens.push(token.toString("hex"))
      return "ok"
    },
    load: async () => ({
      secrets: [...apps].map(([owner, a]) => [a.secret, owner]),
      tokens: [...apps].flatMap(([owner, a]) => a.tokens.map((t): [string, string] => [t, owner])),
    }),
  }
}

const UNIQUE_VIOLATION = "23505"
const FOREIGN_KEY_VIOLATION = "23503"

export class Apps extends Context.Service<Apps, AppsApi>()("tally/apps/Apps") {
  /** Apps on the catalogue shard (shard 0) of the Shards layer: real Postgres or PGlite. */
  static readonly layer = Layer.effect(
    Apps,
    Effect.gen(function* () {
      const shards = yield* Shards
      const db = shards.dbs[0]!
      const backend: AppsBackend = {
        insert: ({ owner, name, secret, token }) =>
          db
            .transaction(async (tx) => {
              await tx.query("INSERT INTO apps (owner, name, drain_secret_sha256) VALUES ($1, $2, $3)", [
                owner,
                name,
                secret,
              ])
              await tx.query("INSERT INTO app_read_tokens (token_sha256, owner) VALUES ($1, $2)", [
                token,
                owner,
              ])
              return "ok" as const
            })
            .catch((e: { code?: string }) => {
              if (e?.code === UNIQUE_VIOLATION) return "conflict" as const
              throw e
            }),
        insertToken: (owner, token) =>
          db
            .query("INSERT INTO app_read_tokens (token_sha256, owner) VALUES ($1, $2)", [token, owner])
            .then(() => "ok" as const)
            .catch((e: { code?: string }) => {
              if (e?.code === FOREIGN_KEY_VIOLATION || e?.code === "22P02") return "unknown" as const
              throw e
            }),
        load: async () => {
          const s = await db.query<{ h: string; owner: string }>(
            "SELECT encode(drain_secret_sha256, 'hex') AS h, owner::text AS owner FROM apps",
          )
          const t = await db.query<{ h: string; owner: string }>(
            "SELECT encode(token_sha256, 'hex') AS h, owner::text AS owner FROM app_read_tokens",
          )
          return { secrets: s.map((r) => [r.h, r.owner]), tokens: t.map((r) => [r.h, r.owner]) }
        },
      }
      return Apps.of(yield* makeApps(backend))
    }),
  )

  static readonly layerMemory = Layer.effect(
    Apps,
    Effect.suspend(() => makeApps(memoryBackend())).pipe(Effect.map(Apps.of)),
  )
}
