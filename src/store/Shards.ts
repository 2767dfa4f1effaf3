/**
 * The shard databases: S real PostgreSQL databases (TALLY_PG_SHARDS), each behind one @effect/sql-pg
 * SqlClient, or one embedded PGlite under TALLY_DATA_DIR behind our PGlite SqlClient. Shard 0 is also
 * the catalogue (apps, credentials, process types).
 *
 * Every call on a shard goes through `run`/`use`: the shard is migrated on first contact, the call has
 * a deadline (connecting included) after which it fails Unavailable without waiting for the connection's
 * cleanup, and SqlErrors become StoreErrors. The layer builds even when shards are down or hung: each
 * one that cannot be migrated at start is logged and retried in the background with backoff.
 *
 * Connection budget per shard and process (Postgres): `poolSize` sql-pg connections (default 4) for
 * reads, DDL and small writes, plus `copyPoolSize` pg connections (default 2) for the CopyWriter.
 */
import { PgClient } from "@effect/sql-pg"
import {
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  type Schedule,
  Scope,
  Semaphore,
} from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql/SqlClient"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import { TallyConfig } from "../config/TallyConfig.ts"
import { PATIENT } from "../domain/Backoff.ts"
import { type CopyPoolOptions, CopyWriter } from "./CopyWriter.ts"
import { migrate } from "./Migrations.ts"
import { Embedded } from "./PgliteClient.ts"
import { shardFor } from "./ShardRouter.ts"
import { StoreError, toStoreError } from "./StoreError.ts"

export { StoreError, toStoreError } from "./StoreError.ts"

export interface ShardsOptions extends CopyPoolOptions {
  /** sql-pg connections per shard (default 4). */
  readonly poolSize?: number | undefined
  /** Deadline of every store call, connecting and first-contact migration included (default 5 s). */
  readonly deadline?: Duration.Input | undefined
  /** Connect timeout of every connection (default 5 s). */
  readonly connectTimeout?: Duration.Input | undefined
  /** Background retry of a shard that could not be migrated at start (default 0.5 s doubling, at most 30 s apart). */
  readonly reconnect?: Schedule.Schedule<unknown, unknown> | undefined
}

export interface ShardsApi {
  readonly count: number
  /** For logs, health and `missing` lists: the database names, never credentials. */
  readonly names: ReadonlyArray<string>
  /** The shard of `owner:process_type`. */
  readonly shardOf: (owner: string, processType: string) => number
  /** A shard's SqlClient as is: no deadline, no migration, SqlError (tests and benchmarks). */
  readonly client: (shard: number) => SqlClient
  /** Whether the shard has been reached and migrated since start. */
  readonly isMigrated: (shard: number) => boolean
  /** One store call on `shard`: migrated first if need be, under the deadline, failures as StoreError. */
  readonly run: <A, R>(
    shard: number,
    what: string,
    effect: Effect.Effect<A, SqlError | StoreError, R>,
  ) => Effect.Effect<A, StoreError, R>
  /** `run` with the shard's SqlClient. */
  readonly use: <A, R>(
    shard: number,
    what: string,
    f: (sql: SqlClient) => Effect.Effect<A, SqlError | StoreError, R>,
  ) => Effect.Effect<A, StoreError, R>
}

const backoff = PATIENT

/** The Shards service over these clients: migration on first contact, deadlines, background retries. */
export const makeShards = (
  clients: ReadonlyArray<SqlClient>,
  names: ReadonlyArray<string>,
  options: ShardsOptions = {},
): Effect.Effect<ShardsApi, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const deadline = Duration.fromInputUnsafe(options.deadline ?? "5 seconds")
    const migrated = clients.map(() => false)
    const locks = clients.map(() => Semaphore.makeUnsafe(1))

    const migrateShard = (i: number) =>
      locks[i]!.withPermit(
        Effect.suspend(() =>
          migrated[i]
            ? Effect.void
            : migrate().pipe(
                Effect.provideService(SqlClient, clients[i]!),
                Effect.mapError((e) =>
                  e._tag === "MigrationError"
                    ? isSqlError(e.cause)
                      ? e.cause
                      : new StoreError({
                          reason: "Rejected",
                          shard: i,
                          message: `migrate shard ${i}: ${e.message}`,
                          cause: e,
                        })
                    : e,
                ),
                Effect.tap(() => Effect.sync(() => (migrated[i] = true))),
              ),
        ),
      )

    /**
     * Calls still running, each on its own fiber. Not forked in the layer's scope: closing it would wait
     * for them, and a call interrupted on a hung shard can take seconds to end (its driver cancels on a
     * side connection, then drains), which held a process's stop past its grace (issue 22, finding 9).
     * The layer's close interrupts them without waiting.
     */
    const running = new Set<Fiber.Fiber<unknown, unknown>>()
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const fiber of running) fiber.interruptUnsafe()
      }),
    )

    /** Waits for `effect` at most `deadline`; a late effect is interrupted in the background, not awaited. */
    const withDeadline = <A, R>(
      i: number,
      what: string,
      effect: Effect.Effect<A, SqlError | StoreError, R>,
    ) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkDetach(effect)
        running.add(fiber)
        fiber.addObserver(() => running.delete(fiber))
        return yield* Fiber.join(fiber).pipe(
          Effect.timeoutOrElse({
            duration: deadline,
            orElse: () =>
              Effect.andThen(
                Effect.sync(() => fiber.interruptUnsafe()),
                Effect.fail(
                  new StoreError({
                    reason: "Unavailable",
                    shard: i,
                    message: `${what} on shard ${i}: no answer within ${Duration.format(deadline)}`,
                  }),
                ),
              ),
          }),
          Effect.onInterrupt(() => Effect.sync(() => fiber.interruptUnsafe())),
        )
      })

    const run = <A, R>(i: number, what: string, effect: Effect.Effect<A, SqlError | StoreError, R>) =>
      withDeadline(
        i,
        what,
        Effect.suspend(() => (migrated[i] ? effect : Effect.andThen(migrateShard(i), effect))),
      ).pipe(
        Effect.mapError(toStoreError(i, what)),
        // A driver that throws instead of failing (a connection torn down mid-call) is a shard that cannot
        // be reached, not a bug of the caller: logged, and Unavailable like any lost connection.
        Effect.catchDefect((defect) =>
          Effect.logError(`${what} on shard ${i}: the driver threw`, defect).pipe(
            Effect.andThen(
              Effect.fail(
                new StoreError({
                  reason: "Unavailable",
                  shard: i,
                  message: `${what} on shard ${i}: ${defect instanceof Error ? defect.message : String(defect)}`,
                  cause: defect,
                }),
              ),
            ),
          ),
        ),
      )

    // First contact now; a shard that is down or hung is brought in later, in the background.
    yield* Effect.forEach(
      clients,
      (_, i) =>
        run(i, "migrate", Effect.void).pipe(
          Effect.catch((e) =>
            e.reason === "Rejected"
              ? Effect.fail(e)
              : Effect.logWarning(
                  `${e.message}; starting without shard ${i} (${names[i]}), retrying in the background`,
                ).pipe(
                  Effect.andThen(
                    Effect.forkIn(
                      run(i, "migrate", Effect.void).pipe(
                        Effect.tapError((e) => Effect.logDebug(e.message)),
                        Effect.retry({ schedule: options.reconnect ?? backoff }),
                        Effect.andThen(Effect.logInfo(`shard ${i} (${names[i]}) reached and migrated`)),
                      ),
                      scope,
                    ),
                  ),
                ),
          ),
        ),
      { concurrency: "unbounded", discard: true },
    )

    return {
      count: clients.length,
      names,
      shardOf: (owner, processType) => shardFor(owner, processType, clients.length),
      client: (i) => clients[i]!,
      isMigrated: (i) => migrated[i]!,
      run,
      use: (i, what, f) =>
        run(
          i,
          what,
          Effect.suspend(() => f(clients[i]!)),
        ),
    } satisfies ShardsApi
  })

/** The longest a layer's close waits for its clients' pools. */
const CLOSE_WAIT_MS = 1000

const databaseName = (url: string) => new URL(url).pathname.slice(1) || "postgres"

export class Shards extends Context.Service<Shards, ShardsApi>()("tally/store/Shards") {
  /** Real PostgreSQL, one database per URL: Shards and the CopyWriter (the connection budget above). */
  static readonly layerPg = (urls: ReadonlyArray<string>, options: ShardsOptions = {}) => {
    const connectTimeout = Duration.fromInputUnsafe(options.connectTimeout ?? "5 seconds")
    const deadlineMs = Duration.toMillis(Duration.fromInputUnsafe(options.deadline ?? "5 seconds"))
    const shards = Layer.effect(
      Shards,
      Effect.gen(function* () {
        // The clients' pools close with the layer, but not waited for past CLOSE_WAIT_MS: a connection
        // to a hung shard (an abandoned query cancelling, then draining) may take seconds to end.
        const pools = yield* Scope.make()
        yield* Effect.addFinalizer(() =>
          Effect.forkDetach(Scope.close(pools, Exit.void)).pipe(
            // Its close is uninterruptible: waited for on the side, so the wait can end.
            Effect.flatMap((closing) => Fiber.await(closing).pipe(Effect.timeoutOption(CLOSE_WAIT_MS))),
          ),
        )
        // Nothing connects here (pools open connections on demand): a bad URL is all that can fail.
        const clients = yield* Effect.forEach(urls, (url, i) =>
          PgClient.make({
            url: Redacted.make(url),
            maxConnections: options.poolSize ?? 4,
            connectTimeout,
            idleTimeout: "30 seconds",
            applicationName: "tally",
            // The server gives up too, so a statement abandoned at the deadline does not run on.
            startupParameters: { statement_timeout: String(deadlineMs) },
          }).pipe(Effect.mapError(toStoreError(i, "open"))),
        ).pipe(Scope.provide(pools))
        return yield* makeShards(clients, urls.map(databaseName), options)
      }),
    ).pipe(Layer.provide(Reactivity.layer))
    const copy = CopyWriter.layerPg(urls, {
      copyPoolSize: options.copyPoolSize,
      connectTimeoutMillis: options.connectTimeoutMillis ?? Duration.toMillis(connectTimeout),
      statementTimeoutMillis: options.statementTimeoutMillis ?? deadlineMs,
    })
    return Layer.mergeAll(shards, copy)
  }

  /** Embedded PGlite: one shard in `dataDir/pg` (in memory when dataDir is undefined), and its CopyWriter. */
  static readonly layerPglite = (dataDir: string | undefined, options: ShardsOptions = {}) =>
    Layer.mergeAll(
      Layer.effect(
        Shards,
        Effect.flatMap(Effect.service(Embedded), (e) => makeShards([e.sql], [e.name], options)),
      ),
      CopyWriter.layerPglite,
    ).pipe(Layer.provide(Embedded.layer(dataDir === undefined ? undefined : `${dataDir}/pg`)))

  /** TALLY_PG_SHARDS when set, else PGlite under TALLY_DATA_DIR. */
  static readonly layer = Layer.unwrap(
    Effect.map(Effect.service(TallyConfig), (s) =>
      Option.match(s.pgShards, {
        onNone: () => Shards.layerPglite(s.dataDir),
        onSome: (urls) => Shards.layerPg(urls),
      }),
    ),
  )
}
