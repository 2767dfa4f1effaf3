/**
 * `tally apps create|list|show|rotate|delete`: the app catalogue from the shell. On embedded parts each
 * goes through the API of the server that holds the data dir when one does (DataDir.ts,
 * RunningServer.ts), and opens the dir itself, under its lock, when none does; with TALLY_PG_SHARDS it
 * works on the catalogue shard directly (every tally process sees the change within 30 s, its
 * credential snapshot's refresh). An app is named by its name or its owner (UUID).
 */
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type AppInfo, Apps, AppsError, OWNER } from "../apps/Apps.ts"
import { drainUrl, localDrainWarning, publicBase } from "../apps/http.ts"
import { type Settings, TallyConfig } from "../config/TallyConfig.ts"
import { Shards } from "../store/Shards.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import type { Owner } from "./DataDir.ts"
import { claim } from "./DataDir.ts"
import { type Answer, postToServer } from "./RunningServer.ts"

interface Created {
  readonly owner: string
  readonly name: string
  readonly drainUrl: string
  readonly readToken: string
}

interface Detail extends AppInfo {
  readonly processTypes: ReadonlyArray<string>
}

/** What the app commands do, wherever the catalogue is. */
interface Catalogue {
  readonly create: (name: string) => Effect.Effect<Created, AppsError>
  readonly list: Effect.Effect<ReadonlyArray<AppInfo>, AppsError>
  readonly show: (owner: string) => Effect.Effect<Detail, AppsError>
  readonly rotateReadToken: (owner: string) => Effect.Effect<{ readonly readToken: string }, AppsError>
  readonly rotateDrainSecret: (owner: string) => Effect.Effect<{ readonly drainUrl: string }, AppsError>
  readonly remove: (owner: string) => Effect.Effect<void, AppsError>
}

/** Runs `f` on the catalogue itself: the data dir is this process's (or the shards are Postgres). */
const here = <A>(settings: Settings, f: (c: Catalogue) => Effect.Effect<A, AppsError>) =>
  Effect.gen(function* () {
    const apps = yield* Apps
    const store = yield* SummaryStore
    const base = publicBase(settings, settings.port)
    const catalogue: Catalogue = {
      create: (name) =>
        Effect.map(apps.create(name), (app) => ({
          owner: app.owner,
          name: app.name,
          drainUrl: drainUrl(base, app.drainSecret),
          readToken: app.readToken,
        })),
      list: apps.list,
      show: (owner) =>
        Effect.gen(function* () {
          const app = yield* apps.get(owner)
          const processTypes = yield* store
            .processTypesOf(app.owner)
            .pipe(Effect.mapError((e) => new AppsError({ reason: "Unavailable", message: e.message })))
          return { ...app, processTypes }
        }),
      rotateReadToken: (owner) => Effect.map(apps.rotateReadToken(owner), (readToken) => ({ readToken })),
      rotateDrainSecret: (owner) =>
        Effect.map(apps.rotateDrainSecret(owner), (secret) => ({ drainUrl: drainUrl(base, secret) })),
      remove: (owner) => Effect.asVoid(apps.remove(owner)),
    }
    return yield* f(catalogue)
  }).pipe(Effect.provide(Layer.mergeAll(Apps.layer, SummaryStore.layer).pipe(Layer.provide(Shards.layer))))

/** An answer of the running server that is not the expected status, as the error it stands for. */
const refused = (answer: Answer) =>
  new AppsError({
    reason:
      answer.status === 404
        ? "NotFound"
        : answer.status === 409
          ? "Conflict"
          : answer.status === 400
            ? "Invalid"
            : "Unavailable",
    message: answer.body.message ?? `the running tally answered ${answer.status}`,
  })

/** Through the API of the server that holds the data dir. */
const remote = (settings: Settings, held: Owner | undefined): Catalogue => {
  const call = <A>(
    what: string,
    method: "GET" | "POST" | "DELETE",
    path: string,
    expect: number,
    body?: unknown,
  ): Effect.Effect<A, AppsError> =>
    postToServer(settings, held, what, path, body ?? {}, method).pipe(
      Effect.mapError((e) => new AppsError({ reason: "Unavailable", message: e.message })),
      Effect.flatMap((answer) =>
        answer.status === expect ? Effect.succeed(answer.body as unknown as A) : Effect.fail(refused(answer)),
      ),
    )
  const app = (owner: string) => `/api/v1/apps/${encodeURIComponent(owner)}`
  return {
    create: (name) =>
      postToServer(settings, held, "create an app", "/api/v1/apps", { name }).pipe(
        Effect.mapError((e) => new AppsError({ reason: "Unavailable", message: e.message })),
        Effect.flatMap((answer) =>
          answer.status === 201
            ? Effect.succeed(answer.body as unknown as Created)
            : Effect.fail(refused(answer)),
        ),
      ),
    list: Effect.map(
      call<{ apps: ReadonlyArray<AppInfo> }>("list apps", "GET", "/api/v1/apps", 200),
      (b) => b.apps,
    ),
    show: (owner) => call<Detail>("show an app", "GET", app(owner), 200),
    rotateReadToken: (owner) =>
      call<{ readToken: string }>("rotate a read token", "POST", `${app(owner)}/read-token`, 201),
    rotateDrainSecret: (owner) =>
      call<{ drainUrl: string }>("rotate a drain secret", "POST", `${app(owner)}/drain-secret`, 201),
    remove: (owner) => Effect.asVoid(call("delete an app", "DELETE", app(owner), 204)),
  }
}

/** Runs `f` on the catalogue: the shards', the running server's, or the data dir's under its lock. */
const withCatalogue = <A>(f: (c: Catalogue) => Effect.Effect<A, AppsError>) =>
  Effect.gen(function* () {
    const settings = yield* TallyConfig
    if (Option.isSome(settings.pgShards)) return yield* here(settings, f)
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const claimed = yield* claim(settings.dataDir, "apps")
        return yield* claimed._tag === "Owned" ? here(settings, f) : f(remote(settings, claimed.owner))
      }),
    )
  })

/** The owner of an app given by name or owner. */
const resolve = (c: Catalogue, given: string) =>
  OWNER.test(given)
    ? Effect.succeed(given.toLowerCase())
    : Effect.flatMap(c.list, (apps) => {
        const found = apps.find((a) => a.name === given)
        return found
          ? Effect.succeed(found.owner)
          : Effect.fail(
              new AppsError({
                reason: "NotFound",
                message: `no app named ${given}; tally apps list lists them`,
              }),
            )
      })

const json = Flag.Boolean("json").pipe(
  Flag.withDescription("print the result as JSON"),
  Flag.withDefault(false),
)
const appArgument = Argument.String("app").pipe(Argument.withDescription("the app's name or owner (UUID)"))

/** Says so when a drain URL points at this machine only (Heroku could not reach it). */
const warnLocal = (url: string) =>
  Effect.gen(function* () {
    const warning = localDrainWarning(url)
    if (warning) yield* Console.error(`tally: ${warning}`)
  })

const create = Command.make(
  "create",
  {
    name: Argument.String("name").pipe(
      Argument.withDescription("the app's name: lowercase letters, digits and dashes"),
    ),
    json,
  },
  Effect.fn("apps.create")(function* ({ name, json }) {
    const out = yield* withCatalogue((c) => c.create(name))
    yield* warnLocal(out.drainUrl)
    if (json) return yield* Console.log(JSON.stringify(out, null, 2))
    yield* Console.log(`created app ${out.name} (owner ${out.owner})`)
    yield* Console.log(`drain URL:  ${out.drainUrl}`)
    yield* Console.log(`read token: ${out.readToken}`)
    yield* Console.log(`add the drain: heroku drains:add '${out.drainUrl}' -a ${out.name}`)
  }),
).pipe(
  Command.withDescription("create an app; prints its drain URL (with its secret) and a read token, once"),
)

const list = Command.make(
  "list",
  { json },
  Effect.fn("apps.list")(function* ({ json }) {
    const apps = yield* withCatalogue((c) => c.list)
    if (json) return yield* Console.log(JSON.stringify({ apps }, null, 2))
    if (apps.length === 0) return yield* Console.log("no apps yet: tally apps create NAME creates one")
    const width = Math.max(4, ...apps.map((a) => a.name.length))
    yield* Console.log(`${"NAME".padEnd(width)}  OWNER                                 CREATED`)
    for (const a of apps) yield* Console.log(`${a.name.padEnd(width)}  ${a.owner}  ${a.createdAt}`)
  }),
).pipe(Command.withDescription("list the apps: name, owner (the id the API paths use), creation time"))

const show = Command.make(
  "show",
  { app: appArgument, json },
  Effect.fn("apps.show")(function* ({ app, json }) {
    const detail = yield* withCatalogue((c) => Effect.flatMap(resolve(c, app), c.show))
    if (json) return yield* Console.log(JSON.stringify(detail, null, 2))
    yield* Console.log(`app ${detail.name}`)
    yield* Console.log(`owner:          ${detail.owner}`)
    yield* Console.log(`created:        ${detail.createdAt}`)
    yield* Console.log(
      `process types:  ${detail.processTypes.length === 0 ? "(none yet: no data has arrived)" : detail.processTypes.join(", ")}`,
    )
  }),
).pipe(Command.withDescription("show an app: owner, creation time, process types that sent data"))

const rotate = Command.make(
  "rotate",
  {
    app: appArgument,
    readToken: Flag.Boolean("read-token").pipe(
      Flag.withDescription("issue a new read token; every earlier one is revoked"),
      Flag.withDefault(false),
    ),
    drainSecret: Flag.Boolean("drain-secret").pipe(
      Flag.withDescription("issue a new drain URL (secret); the earlier one is revoked"),
      Flag.withDefault(false),
    ),
    json,
  },
  Effect.fn("apps.rotate")(function* ({ app, readToken, drainSecret, json }) {
    if (readToken === drainSecret)
      return yield* new AppsError({
        reason: "Invalid",
        message: "say what to rotate: tally apps rotate APP --read-token, or --drain-secret",
      })
    const out = yield* withCatalogue((c) =>
      Effect.gen(function* () {
        const owner = yield* resolve(c, app)
        const rotated = readToken ? yield* c.rotateReadToken(owner) : yield* c.rotateDrainSecret(owner)
        return { owner, ...rotated }
      }),
    )
    if ("drainUrl" in out) yield* warnLocal(out.drainUrl)
    if (json) return yield* Console.log(JSON.stringify(out, null, 2))
    const revoked = "revoked at once by the server that made it, and by every other tally process within 30 s"
    if ("readToken" in out) {
      yield* Console.log(`new read token: ${out.readToken}`)
      return yield* Console.log(`every earlier read token of ${app} is ${revoked}`)
    }
    yield* Console.log(`new drain URL: ${out.drainUrl}`)
    yield* Console.log(`the earlier drain URL of ${app} is ${revoked}; drains posting to it get 401`)
    yield* Console.log(
      `replace the drain: heroku drains:add '${out.drainUrl}' -a ${app}, then heroku drains:remove <the old URL> -a ${app}`,
    )
  }),
).pipe(Command.withDescription("issue a new read token or drain URL for an app, revoking the earlier one"))

const remove = Command.make(
  "delete",
  {
    app: appArgument,
    yes: Flag.Boolean("yes").pipe(Flag.withDescription("really delete it"), Flag.withDefault(false)),
  },
  Effect.fn("apps.delete")(function* ({ app, yes }) {
    const owner = yield* withCatalogue((c) =>
      Effect.gen(function* () {
        const owner = yield* resolve(c, app)
        if (!yes)
          return yield* new AppsError({
            reason: "Invalid",
            message: `deleting app ${app} (owner ${owner}) revokes its drain URL and read tokens and removes its alert rules; add --yes to do it`,
          })
        yield* c.remove(owner)
        return owner
      }),
    )
    yield* Console.log(
      `deleted app ${app} (owner ${owner}); its stored rollups are no longer readable and age out with retention (TALLY_RETENTION_DAYS)`,
    )
  }),
).pipe(Command.withDescription("delete an app and its credentials (--yes)"))

export const apps = Command.make("apps").pipe(
  Command.withDescription("manage apps and their credentials"),
  Command.withSubcommands([create, list, show, rotate, remove]),
)
