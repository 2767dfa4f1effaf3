/** The `tally` command: each subcommand composes layers and launches. */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Logger, References, Runtime } from "effect"
import { Command } from "effect/cli"
import { alerter } from "./cli/alerter.ts"
import { alerts } from "./cli/alerts.ts"
import { all } from "./cli/all.ts"
import { apps } from "./cli/apps.ts"
import { retention } from "./cli/retention.ts"
import { aggregator, api, ingress, retrier, sink } from "./cli/serve.ts"
import { shards } from "./cli/shards.ts"
import { topics } from "./cli/topics.ts"
import { TallyConfig } from "./config/TallyConfig.ts"
import { Stages } from "./stream/Stage.ts"

const tally = Command.make("tally").pipe(
  Command.withDescription("tally: Logplex drains in, per-minute metrics out"),
  Command.withSubcommands([
    all,
    ingress,
    aggregator,
    sink,
    retrier,
    api,
    alerter,
    topics,
    apps,
    alerts,
    retention,
    shards,
  ]),
)

const exit = (code: number, message: string) =>
  Console.error(`tally: ${message}`).pipe(Effect.andThen(Effect.sync(() => process.exit(code))))

/**
 * What every command shares: settings (read once) and the stages' registry. The Bus is not here: a
 * command that needs it builds it after it took the data dir's lock (cli/launch.ts, cli/DataDir.ts).
 */
const base = Layer.mergeAll(NodeServices.layer, Stages.layer).pipe(Layer.provideMerge(TallyConfig.layer))

// Whatever tally creates (the data dir, the embedded log, PGlite's files, the admin token) is its own:
// dirs 0700, files 0600, whatever the shell's umask (DESIGN.md, "Tenants").
process.umask(0o077)

/**
 * TALLY_LOG_FORMAT=json: one object a line, `service` (the command: all, ingress, sink, …) and `stage`
 * (aggregator, sink, events, retrier, when a stage logs it) as fields of their own beside `timestamp`,
 * `level` and `message`; other annotations under `annotations`, a failure's cause under `cause`.
 */
const jsonLines = Logger.formatStructured.pipe(
  Logger.map((s) => {
    const { service, stage, ...others } = s.annotations as Record<string, unknown>
    return JSON.stringify({
      timestamp: s.timestamp,
      level: s.level,
      ...(service === undefined ? {} : { service }),
      ...(stage === undefined ? {} : { stage }),
      message: s.message,
      ...(Object.keys(others).length > 0 ? { annotations: others } : {}),
      ...(s.cause === undefined ? {} : { cause: s.cause }),
    })
  }),
  Logger.withConsoleLog,
)

/** Log level (TALLY_LOG_LEVEL) and format (TALLY_LOG_FORMAT: pretty or json lines) from the settings. */
const withLogging = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.service(TallyConfig), (s) =>
    self.pipe(
      Effect.provideService(References.MinimumLogLevel, s.logLevel),
      Effect.provide(s.logFormat === "json" ? Logger.layer([jsonLines]) : Layer.empty),
    ),
  )

/** A server that could not listen after the start-up checks passed (another process took the port meanwhile). */
const serveFailed = (e: { readonly cause?: unknown }) => {
  const cause = e.cause as NodeJS.ErrnoException | undefined
  return cause?.code === "EADDRINUSE"
    ? `a port of this process is in use by another process (${cause.message}); stop it or set TALLY_PORT / TALLY_METRICS_PORT to a free port`
    : `the HTTP server could not listen (${cause?.message ?? String(e)}); check TALLY_PORT, TALLY_METRICS_PORT and TALLY_HOST`
}

tally.pipe(
  Command.run({ version: "0.1.0" }),
  withLogging,
  Effect.provide(base),
  // Expected failures are one line, not a stack trace: a bad setting exits 2, others 1.
  Effect.catchTags({
    ConfigInvalid: (e) => exit(2, e.message),
    AppsError: (e) => exit(1, e.message),
    AlertsError: (e) => exit(1, e.message),
    BusError: (e) => exit(1, `Kafka: ${e.message}`),
    StoreError: (e) => exit(1, `Postgres: ${e.message}`),
    // A store that fails as it opens, before its calls are wrapped as StoreError (PGlite on a full disk).
    SqlError: (e) => exit(1, `the database: ${e.message}`),
    TopicsDiffer: (e) => exit(3, e.message),
    StageFailed: (e) => exit(1, e.message),
    DataDirError: (e) => exit(e.reason === "Unusable" ? 1 : 2, e.message),
    StartupError: (e) => exit(2, e.message),
    ShardsError: (e) => exit(1, e.message),
    ServeError: (e) => exit(2, serveFailed(e)),
  }),
  (program) =>
    NodeRuntime.runMain(program, {
      // SIGTERM/SIGINT interrupt the services, which stop gracefully (flush, commit): that is a clean exit.
      teardown: (exit, onExit) =>
        Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
          ? onExit(0)
          : Runtime.defaultTeardown(exit, onExit),
    }),
)
