/**
 * Runs a service's layers until SIGTERM/SIGINT (the scope closes: every stage stops gracefully) or until
 * one of its stages fails: then the others stop gracefully too and the command fails with StageFailed,
 * which main.ts turns into one log line and exit code 1, so a supervisor restarts the process.
 *
 * Before anything is built the command checks what it will need (cli/Startup.ts: settings that must be
 * given, the data dir, its ports): a failure there is one line naming the setting, exit 2, and no stage
 * has started. Then it takes its data dir's lock when it opens embedded parts in it (src/cli/DataDir.ts:
 * a second owner exits 2 at once), then the Bus (which opens the embedded log).
 *
 * Every log line of the process carries `service` (the command) and, from a stage, `stage`
 * (TALLY_LOG_FORMAT=json puts them in each object); the process logs when it starts stopping and when
 * it has stopped.
 *
 * A stop is bounded (issue 22, finding 9): the stages have ended STOP_BUDGET_MS (10 s) after it began
 * (Stage.ts), and the clients and pools after them close within a few seconds each at most. Should
 * anything still hold the process BACKSTOP_MS after the stop began, it exits anyway — 0 on a signal (what
 * was not committed is read again at the next start), 1 when a stage had failed — with one line saying
 * so, before a supervisor's SIGKILL (the chaos harness waits 15 s).
 */
import { Deferred, Effect, Exit, Layer, Option } from "effect"
import { Bus } from "../bus/Bus.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { STOP_BUDGET_MS, Stages } from "../stream/Stage.ts"
import { DataDir, opensDataDir, type Parts } from "./DataDir.ts"
import { preflight } from "./Startup.ts"

/** The longest a stop may take, from its start, before the process exits without waiting further. */
export const BACKSTOP_MS = STOP_BUDGET_MS + 3_500

export const launch = <A, E, R>(command: string, parts: Parts, layer: Layer.Layer<A, E, R>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const settings = yield* TallyConfig
      // `tally all` keeps a generated admin token in the data dir even on Kafka and Postgres.
      const keepsToken = command === "all" && Option.isNone(settings.adminToken)
      yield* preflight(command, settings, opensDataDir(settings, parts) || keepsToken)
      const started = Date.now()
      let running = false
      // Finalizers run last-added first: this one after every stage has stopped (when they had started:
      // a start that failed, e.g. on a data dir another process owns, is said by its one error line).
      yield* Effect.addFinalizer((exit) =>
        running
          ? Effect.logInfo(
              `tally ${command} stopped after ${Math.round((Date.now() - started) / 1000)} s${Exit.isFailure(exit) && !Exit.hasInterrupts(exit) ? " (a stage failed)" : ""}`,
            )
          : Effect.void,
      )
      yield* Layer.build(
        layer.pipe(Layer.provideMerge(Bus.layer), Layer.provideMerge(DataDir.layer(command, parts))),
      )
      running = true
      const stages = yield* Stages
      // And this one first, as the stop begins: it starts the stop's budget and its backstop.
      yield* Effect.addFinalizer((exit) =>
        Effect.gen(function* () {
          const failed = Exit.isFailure(exit) && !Exit.hasInterrupts(exit)
          yield* stages.stopBegan
          yield* Effect.logInfo(
            failed
              ? `tally ${command} stopping: a stage failed; stopping the others (flush, commit)`
              : `tally ${command} stopping: signal received; stopping every stage (flush, commit)`,
          )
          const services = yield* Effect.context<never>()
          const backstop = setTimeout(() => {
            Effect.runSyncWith(services)(
              Effect.logError(
                `tally ${command} still stopping ${BACKSTOP_MS / 1000} s after the stop began: exiting without waiting further (what was not committed is read again at the next start)`,
              ),
            )
            process.exit(failed ? 1 : 0)
          }, BACKSTOP_MS)
          backstop.unref()
        }),
      )
      return yield* Deferred.await(stages.failure)
    }),
  ).pipe(Effect.annotateLogs("service", command))
