/**
 * What a long-running command checks before it starts anything (cli/launch.ts), so a setting that
 * cannot work stops it at once with ONE line naming the setting or the fix, and exit code 2 — never a
 * stack trace after every stage has started:
 *
 *   tally: port 8080 (TALLY_PORT) is in use by another process; stop it or set TALLY_PORT to a free port
 *   tally: TALLY_DATA_DIR ./x is not a directory (a file is there); set TALLY_DATA_DIR to a directory
 *   tally: TALLY_DATA_DIR /proc/x cannot be created (ENOENT: no such file or directory); set TALLY_DATA_DIR …
 *   tally: TALLY_ADMIN_TOKEN must be set for tally ingress with TALLY_PG_SHARDS: …
 *
 * The data dir is checked (made, a directory, writable) by DataDir.checkDataDir before the lock, the
 * embedded log or PGlite open it.
 */
import { createServer } from "node:net"
import { Effect, Option, Schema } from "effect"
import type { Settings } from "../config/TallyConfig.ts"
import { metricsPortOf, type SystemService } from "../observability/SystemServer.ts"
import { checkDataDir } from "./DataDir.ts"

export class StartupError extends Schema.TaggedError<StartupError>()("StartupError", {
  /** The setting to change (TALLY_PORT, TALLY_DATA_DIR, …). */
  setting: Schema.String,
  message: Schema.String,
}) {}

/** A port the command will listen on, the setting that chooses it, and how to name it. */
export interface Listen {
  readonly port: number
  readonly setting: string
  /** e.g. "TALLY_PORT", or "tally sink's default metrics port" when the setting is unset. */
  readonly what: string
}

/** The port is free to listen on (on TALLY_HOST, or every interface), or a one-line reason naming its setting. */
export const checkPort = (listen: Listen, host: Option.Option<string>): Effect.Effect<void, StartupError> =>
  Effect.callback<void, StartupError>((resume) => {
    const server = createServer()
    server.once("error", (e: NodeJS.ErrnoException) => {
      const message =
        e.code === "EADDRINUSE"
          ? `port ${listen.port} (${listen.what}) is in use by another process; stop it or set ${listen.setting} to a free port`
          : e.code === "EACCES"
            ? `port ${listen.port} (${listen.what}) cannot be used by this user (EACCES); set ${listen.setting} to a port above 1023`
            : e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND"
              ? `TALLY_HOST ${Option.getOrElse(host, () => "")} is not an address of this machine (${e.code}); set TALLY_HOST to one of its addresses, or unset it`
              : `port ${listen.port} (${listen.what}) cannot be listened on (${e.code ?? e.message}); set ${listen.setting}`
      resume(
        Effect.fail(
          new StartupError({
            setting: e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND" ? "TALLY_HOST" : listen.setting,
            message,
          }),
        ),
      )
    })
    server.listen(
      { port: listen.port, ...(Option.isSome(host) ? { host: host.value } : {}), exclusive: true },
      () => server.close(() => resume(Effect.void)),
    )
  })

/** What each long-running command listens on. */
export const listensOf = (command: string, settings: Settings): ReadonlyArray<Listen> => {
  if (command === "all" || command === "ingress" || command === "api")
    return [{ port: settings.port, setting: "TALLY_PORT", what: "TALLY_PORT" }]
  const services: ReadonlyArray<string> = ["aggregator", "sink", "retrier", "alerter"]
  if (!services.includes(command)) return []
  const service = command as SystemService
  return [
    {
      port: metricsPortOf(service, settings),
      setting: "TALLY_METRICS_PORT",
      what: Option.isSome(settings.metricsPort)
        ? "TALLY_METRICS_PORT"
        : `tally ${service}'s default metrics port`,
    },
  ]
}

/**
 * A process that serves the admin API beside others must share their admin token: with Postgres shards
 * several ingress/api processes share one catalogue, and a token each generated for itself would differ.
 */
export const checkAdminToken = (command: string, settings: Settings): Effect.Effect<void, StartupError> =>
  (command === "ingress" || command === "api") &&
  Option.isSome(settings.pgShards) &&
  Option.isNone(settings.adminToken)
    ? Effect.fail(
        new StartupError({
          setting: "TALLY_ADMIN_TOKEN",
          message: `TALLY_ADMIN_TOKEN must be set for tally ${command} with TALLY_PG_SHARDS: every ingress and api process must accept the same admin token (e.g. openssl rand -hex 24; docs/operations.md, "Shared admin token")`,
        }),
      )
    : Effect.void

/** Every check of a command's start, in order: settings that must be given, the data dir, the ports. */
export const preflight = (command: string, settings: Settings, usesDataDir: boolean) =>
  Effect.gen(function* () {
    yield* checkAdminToken(command, settings)
    if (usesDataDir) yield* checkDataDir(settings.dataDir)
    for (const listen of listensOf(command, settings)) yield* checkPort(listen, settings.host)
  })
