/** The `tally` command: each subcommand composes layers and launches. */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { Bus } from "./bus/Bus.ts"
import { topics } from "./cli/topics.ts"
import { TallyConfig } from "./config/TallyConfig.ts"

const tally = Command.make("tally").pipe(
  Command.withDescription("tally: Logplex drains in, per-minute metrics out"),
  Command.withSubcommands([topics]),
)

const services = Layer.mergeAll(NodeServices.layer, Bus.layer.pipe(Layer.provideMerge(TallyConfig.layer)))

tally.pipe(
  Command.run({ version: "0.1.0" }),
  Effect.provide(services),
  // A bad setting is one line naming the variable, not a stack trace.
  Effect.catchTag("ConfigInvalid", (e) =>
    Console.error(`tally: ${e.message}`).pipe(Effect.andThen(Effect.sync(() => process.exit(2)))),
  ),
  NodeRuntime.runMain,
)
