/** The `tally` command: each subcommand composes layers and launches. */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { Apps } from "./apps/Apps.ts"
import { Bus } from "./bus/Bus.ts"
import { apps } from "./cli/apps.ts"
import { topics } from "./cli/topics.ts"
import { TallyConfig } from "./config/TallyConfig.ts"
import { Shards } from "./store/Shards.ts"

const tally = Command.make("tally").pipe(
  Command.withDescription("tally: Logplex drains in, per-minute metrics out"),
  Command.withSubcommands([topics, apps]),
)

const exit = (code: number, message: string) =>
  Console.error(`tally: ${message}`).pipe(Effect.andThen(Effect.sync(() => process.exit(code))))

const services = Layer.mergeAll(
  NodeServices.layer,
  Bus.layer,
  Apps.layer.pipe(Layer.provide(Shards.layer)),
).pipe(Layer.provideMerge(TallyConfig.layer))

tally.pipe(
  Command.run({ version: "0.1.0" }),
  Effect.provide(services),
  // Expected failures are one line, not a stack trace: a bad setting exits 2, others 1.
  Effect.catchTags({
    ConfigInvalid: (e) => exit(2, e.message),
    AppsError: (e) => exit(1, e.message),
    BusError: (e) => exit(1, `Kafka: ${e.message}`),
    StoreError: (e) => exit(1, `Postgres: ${e.message}`),
  }),
  NodeRuntime.runMain,
)
