/** `tally apps create NAME [--json]`: creates an app in the catalogue and prints its drain URL and read token. */
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Apps } from "../apps/Apps.ts"
import { drainUrl } from "../apps/http.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { Shards } from "../store/Shards.ts"

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
  Effect.fn("apps.create")(
    function* ({ name, json }) {
      const apps = yield* Apps
      const settings = yield* TallyConfig
      const app = yield* apps.create(name)
      const base = Option.getOrElse(settings.publicUrl, () => `http://localhost:${settings.port}`)
      const out = {
        owner: app.owner,
        name: app.name,
        drainUrl: drainUrl(base, app.drainSecret),
        readToken: app.readToken,
      }
      if (json) return yield* Console.log(JSON.stringify(out, null, 2))
      yield* Console.log(`created app ${out.name} (owner ${out.owner})`)
      yield* Console.log(`drain URL:  ${out.drainUrl}`)
      yield* Console.log(`read token: ${out.readToken}`)
      yield* Console.log(`add the drain: heroku drains:add '${out.drainUrl}' -a ${out.name}`)
    },
    Effect.provide(Apps.layer.pipe(Layer.provide(Shards.layer))),
  ),
).pipe(
  Command.withDescription("create an app; prints its drain URL (with its secret) and a read token, once"),
)

export const apps = Command.make("apps").pipe(
  Command.withDescription("manage apps and their credentials"),
  Command.withSubcommands([create]),
)
