/**
 * `tally apps create NAME [--json]`: creates an app in the catalogue and prints its drain URL and read
 * token. On embedded parts it goes through the API of the server that holds the data dir when one does
 * (DataDir.ts, RunningServer.ts), and opens the dir itself, under its lock, when none does; with
 * TALLY_PG_SHARDS it writes to the catalogue shard directly.
 */
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Apps, AppsError } from "../apps/Apps.ts"
import { drainUrl, localDrainWarning, publicBase } from "../apps/http.ts"
import { type Settings, TallyConfig } from "../config/TallyConfig.ts"
import { Shards } from "../store/Shards.ts"
import { claim } from "./DataDir.ts"
import { postToServer } from "./RunningServer.ts"

interface Created {
  readonly owner: string
  readonly name: string
  readonly drainUrl: string
  readonly readToken: string
}

/** In the catalogue itself: the data dir is this process's (or the shards are Postgres). */
const createHere = (settings: Settings, name: string) =>
  Effect.gen(function* () {
    const app = yield* (yield* Apps).create(name)
    return {
      owner: app.owner,
      name: app.name,
      drainUrl: drainUrl(publicBase(settings, settings.port), app.drainSecret),
      readToken: app.readToken,
    } satisfies Created
  }).pipe(Effect.provide(Apps.layer.pipe(Layer.provide(Shards.layer))))

const create = Command.make(
  "create",
  {
    name: Argument.String("name").pipe(
      Argument.withDescription("the app's name: lowercase letters, digits and dashes"),
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("print the result as JSON"),
      Flag.withDefault(false),
    ),
  },
  Effect.fn("apps.create")(function* ({ name, json }) {
    const settings = yield* TallyConfig
    const out: Created = Option.isSome(settings.pgShards)
      ? yield* createHere(settings, name)
      : yield* Effect.scoped(
          Effect.gen(function* () {
            const claimed = yield* claim(settings.dataDir, "apps create")
            if (claimed._tag === "Owned") return yield* createHere(settings, name)
            const answer = yield* postToServer(settings, claimed.owner, "create an app", "/api/v1/apps", {
              name,
            })
            if (answer.status === 201) return answer.body as unknown as Created
            const message = answer.body.message ?? `the running tally answered ${answer.status}`
            return yield* new AppsError({
              reason: answer.status === 409 ? "Conflict" : answer.status === 400 ? "Invalid" : "Unavailable",
              message,
            })
          }),
        )
    const warning = localDrainWarning(out.drainUrl)
    if (warning) yield* Console.error(`tally: ${warning}`)
    if (json) return yield* Console.log(JSON.stringify(out, null, 2))
    yield* Console.log(`created app ${out.name} (owner ${out.owner})`)
    yield* Console.log(`drain URL:  ${out.drainUrl}`)
    yield* Console.log(`read token: ${out.readToken}`)
    yield* Console.log(`add the drain: heroku drains:add '${out.drainUrl}' -a ${out.name}`)
  }),
).pipe(
  Command.withDescription("create an app; prints its drain URL (with its secret) and a read token, once"),
)

export const apps = Command.make("apps").pipe(
  Command.withDescription("manage apps and their credentials"),
  Command.withSubcommands([create]),
)
