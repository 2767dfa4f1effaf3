/**
 * `tally shards create`: provisions the Postgres shards of TALLY_PG_SHARDS. For each URL it connects to
 * the same server's `postgres` database (same host, port, user and password), creates the shard's
 * database when it does not exist, then applies the migrations to it (the same ones every process
 * applies on first contact; concurrent runs queue on an advisory lock). Running it again changes nothing.
 * The user of the URLs needs CREATEDB (or the databases must exist already: then only migrations run).
 */
import { PgClient } from "@effect/sql-pg"
import { Console, Effect, Option, Redacted, Schema } from "effect"
import { Command } from "effect/cli"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql/SqlClient"
import { TallyConfig } from "../config/TallyConfig.ts"
import { migrate } from "../store/Migrations.ts"

export class ShardsError extends Schema.TaggedError<ShardsError>()("ShardsError", {
  message: Schema.String,
}) {}

/** The URL with its password hidden, for messages. */
const shown = (url: URL) => {
  const copy = new URL(url.toString())
  if (copy.password) copy.password = "***"
  return copy.toString()
}

/** The messages of an error and its causes, outermost first ("Failed to connect: connect ECONNREFUSED …"). */
const why = (e: unknown) => {
  const parts: Array<string> = []
  for (let at: unknown = e, depth = 0; at && depth < 5; depth++) {
    const message = (at as { message?: unknown }).message
    if (typeof message === "string" && message !== "" && !parts.includes(message)) parts.push(message)
    at = (at as { cause?: unknown }).cause
  }
  return parts.length > 0 ? parts.join(": ") : String(e)
}

/** A client of one database, used for `body` and closed after it. */
const withDatabase = <A, E>(url: string, body: Effect.Effect<A, E, SqlClient>) =>
  Effect.scoped(
    Effect.flatMap(
      PgClient.make({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "10 seconds" }),
      (client) => Effect.provideService(body, SqlClient, client),
    ),
  ).pipe(Effect.provide(Reactivity.layer))

/** Creates (when missing) and migrates the database of one shard URL; says what it did. */
export const provision = (index: number, shardUrl: string) =>
  Effect.gen(function* () {
    const url = new URL(shardUrl)
    const database = decodeURIComponent(url.pathname.replace(/^\//, ""))
    if (database === "")
      return yield* new ShardsError({
        message: `shard ${index}: ${shown(url)} names no database; TALLY_PG_SHARDS expects postgres://user@host:5432/tally_0,…`,
      })
    const admin = new URL(url.toString())
    admin.pathname = "/postgres"
    const created = yield* withDatabase(
      admin.toString(),
      Effect.gen(function* () {
        const sql = yield* SqlClient
        const found = yield* sql`SELECT 1 FROM pg_database WHERE datname = ${database}`
        if (found.length > 0) return false
        yield* sql`CREATE DATABASE ${sql(database)}`
        return true
      }),
    ).pipe(
      Effect.catch((e) => {
        const reason = why(e)
        return Effect.fail(
          new ShardsError({
            message: /permission denied/i.test(reason)
              ? `shard ${index}: the user of ${shown(url)} may not create databases (${reason}); GRANT it CREATEDB, or create ${database} as a superuser and run this again`
              : `shard ${index}: cannot create ${database} through ${shown(admin)} (${reason}); is the server up and may this user connect to its postgres database?`,
          }),
        )
      }),
    )
    const applied = yield* withDatabase(shardUrl, migrate()).pipe(
      Effect.catch((e) =>
        Effect.fail(
          new ShardsError({ message: `shard ${index}: migrating ${shown(url)} failed (${why(e)})` }),
        ),
      ),
    )
    return `shard ${index}: ${database} on ${url.host} ${created ? "created" : "exists"}; ${applied.length === 0 ? "migrations up to date" : `applied ${applied.map(([id, name]) => `${String(id).padStart(4, "0")}_${name}`).join(", ")}`}`
  })

const create = Command.make(
  "create",
  {},
  Effect.fn("shards.create")(function* () {
    const settings = yield* TallyConfig
    if (Option.isNone(settings.pgShards))
      return yield* new ShardsError({
        message:
          "TALLY_PG_SHARDS is not set: embedded mode keeps one PGlite shard in the data dir and needs no provisioning; set TALLY_PG_SHARDS to postgres://… URLs, one a shard",
      })
    for (const [i, url] of settings.pgShards.value.entries()) yield* Console.log(yield* provision(i, url))
    yield* Console.log(
      `${settings.pgShards.value.length} shard(s) ready. Every process must be given the same TALLY_PG_SHARDS, in this order: a series' shard is hash(owner:process_type) mod ${settings.pgShards.value.length}.`,
    )
  }),
).pipe(
  Command.withDescription(
    "create the databases of TALLY_PG_SHARDS that do not exist (on their servers) and apply the migrations",
  ),
)

export const shards = Command.make("shards").pipe(
  Command.withDescription("provision the Postgres shards"),
  Command.withSubcommands([create]),
)
