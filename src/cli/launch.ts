/**
 * Runs a service's layers until SIGTERM/SIGINT (the scope closes: every stage stops gracefully) or until
 * one of its stages fails: then the others stop gracefully too and the command fails with StageFailed,
 * which main.ts turns into one log line and exit code 1, so a supervisor restarts the process.
 */
import { Deferred, Effect, Layer } from "effect"
import { Stages } from "../stream/Stage.ts"

export const launch = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* Layer.build(layer)
      const stages = yield* Stages
      return yield* Deferred.await(stages.failure)
    }),
  )
