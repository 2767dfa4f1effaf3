/**
 * Runs a service's layers until SIGTERM/SIGINT (the scope closes: every stage stops gracefully) or until
 * one of its stages fails: then the others stop gracefully too and the command fails with StageFailed,
 * which main.ts turns into one log line and exit code 1, so a supervisor restarts the process.
 *
 * Before anything else is built the command takes its data dir's lock when it opens embedded parts in
 * it (src/cli/DataDir.ts: a second owner exits 2 at once), then the Bus (which opens the embedded log).
 */
import { Deferred, Effect, Layer } from "effect"
import { Bus } from "../bus/Bus.ts"
import { Stages } from "../stream/Stage.ts"
import { DataDir, type Parts } from "./DataDir.ts"

export const launch = <A, E, R>(command: string, parts: Parts, layer: Layer.Layer<A, E, R>) =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* Layer.build(
        layer.pipe(Layer.provideMerge(Bus.layer), Layer.provideMerge(DataDir.layer(command, parts))),
      )
      const stages = yield* Stages
      return yield* Deferred.await(stages.failure)
    }),
  )
