/**
 * The sink's write path, narrow on purpose: COPY summary rows (binary format) into the session's
 * `TEMP … ON COMMIT DELETE ROWS` staging table, then one version-guarded upsert into the day table, both
 * in ONE transaction on ONE connection.
 *
 * Why not through sql-pg: @effect/sql-pg speaks the protocol itself and refuses COPY ("COPY is not
 * supported"), and the staging table is per session, so the COPY and the upsert cannot be split across
 * two clients. On Postgres the whole write therefore runs on a small `pg` pool of its own
 * (pg-copy-streams); embedded, it runs inside a transaction of the PGlite SqlClient (COPY from a blob).
 * Failures are effect/sql SqlErrors either way, classified by SQLSTATE like every other statement.
 */
import { Context, Effect, Exit, Layer } from "effect"
import { ConnectionError, SqlError, UnknownError } from "effect/sql/SqlError"
import pg from "pg"
import copyStreams from "pg-copy-streams"
import { copyBinary, InvalidRow } from "./CopyFormat.ts"
import { Embedded, pgliteTry } from "./PgliteClient.ts"
import type { SummaryRow } from "./Rows.ts"
import { STAGING_DDL, SUMMARY_COLUMNS, upsertSql } from "./Schema.ts"

export interface CopyTarget {
  /** A day schema and one of its summary tables (names from Schema.ts, never from input). */
  readonly schema: string
  readonly table: string
  readonly rows: ReadonlyArray<SummaryRow>
}

export interface CopyWriterApi {
  /** Every target's rows COPYed and upserted in one transaction on one connection of `shard`. */
  readonly upsert: (shard: number, targets: ReadonlyArray<CopyTarget>) => Effect.Effect<void, SqlError>
}

export interface CopyPoolOptions {
  /** Connections per shard for COPY (default 2). */
  readonly copyPoolSize?: number | undefined
  readonly connectTimeoutMillis?: number | undefined
  /** Server-side statement_timeout of these connections (default 5000 ms). */
  readonly statementTimeoutMillis?: number | undefined
}

const COPY_IN = `COPY tally_staging (${SUMMARY_COLUMNS.join(", ")}) FROM STDIN WITH (FORMAT binary)`
const COPY_BLOB = `COPY tally_staging (${SUMMARY_COLUMNS.join(", ")}) FROM '/dev/blob' WITH (FORMAT binary)`

/**
 * The server's errors (and rows the format refused) keep their SQLSTATE for the classifier; anything
 * else here (a socket error, a connection ended or timed out) is the connection's.
 */
const pgError = (cause: unknown): SqlError => {
  const props = {
    cause,
    message: `CopyWriter: ${(cause as Error)?.message ?? String(cause)}`,
    operation: "copy",
  }
  return new SqlError({
    reason:
      cause instanceof pg.DatabaseError || cause instanceof InvalidRow
        ? new UnknownError(props)
        : new ConnectionError(props),
  })
}

/** One simple query whose last statement is `COPY … FROM STDIN`, then the data. */
const copyIn = (client: pg.PoolClient, sql: string, data: Buffer) =>
  new Promise<void>((resolve, reject) => {
    const stream = client.query(copyStreams.from(sql))
    stream.on("error", reject)
    stream.on("finish", () => resolve())
    stream.end(data)
  })

/** Sessions that have their staging table (created once per connection, on its own, then kept). */
const staged = new WeakSet<pg.PoolClient>()

/**
 * Two round trips a day group, one transaction: `BEGIN; COPY` (with the data) and `upsert; COMMIT`
 * (simple-query strings; on an error the rest of the string is skipped and we roll back).
 */
const writeTx = async (client: pg.PoolClient, targets: ReadonlyArray<CopyTarget>) => {
  // Encode first: a row the format cannot carry fails before anything is sent.
  const data = targets.map((t) => copyBinary(t.rows))
  if (!staged.has(client)) {
    await client.query(STAGING_DDL)
    staged.add(client)
  }
  try {
    for (const [i, t] of targets.entries()) {
      await copyIn(client, `${i > 0 ? "TRUNCATE tally_staging" : "BEGIN"}; ${COPY_IN}`, data[i]!)
      await client.query(`${upsertSql(t.schema, t.table)}${i === targets.length - 1 ? "; COMMIT" : ""}`)
    }
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined)
    throw e
  }
}

/** A pooled client; if the caller is interrupted while waiting, the client it later gets is given back. */
const checkout = (pool: pg.Pool) =>
  Effect.callback<pg.PoolClient, SqlError>((resume) => {
    let abandoned = false
    pool.connect().then(
      (client) => (abandoned ? client.release() : resume(Effect.succeed(client))),
      (cause) => abandoned || resume(Effect.fail(pgError(cause))),
    )
    return Effect.sync(() => {
      abandoned = true
    })
  })

/** After a failure the transaction was rolled back; after an interruption or a lost connection it is thrown away. */
const release = (client: pg.PoolClient, exit: Exit.Exit<void, SqlError>) =>
  Effect.sync(() => {
    const keep =
      Exit.isSuccess(exit) ||
      (Exit.isFailure(exit) &&
        exit.cause.reasons.every((r) => r._tag === "Fail" && r.error.reason._tag !== "ConnectionError"))
    if (keep) return client.release()
    client.release(new Error("CopyWriter: connection discarded"))
    client.connection.stream.destroy()
  })

export class CopyWriter extends Context.Service<CopyWriter, CopyWriterApi>()("tally/store/CopyWriter") {
  /** Real Postgres: a pool of `copyPoolSize` `pg` connections per shard URL. */
  static readonly layerPg = (urls: ReadonlyArray<string>, options: CopyPoolOptions = {}) =>
    Layer.effect(
      CopyWriter,
      Effect.gen(function* () {
        const pools = yield* Effect.acquireRelease(
          Effect.sync(() =>
            urls.map((url) => {
              const pool = new pg.Pool({
                connectionString: url,
                max: options.copyPoolSize ?? 2,
                connectionTimeoutMillis: options.connectTimeoutMillis ?? 5000,
                statement_timeout: options.statementTimeoutMillis ?? 5000,
                idleTimeoutMillis: 30_000,
                application_name: "tally-copy",
              })
              // A connection that loses its server (shard restart, terminated backend) must not crash the
              // process: idle ones report on the pool, checked-out ones on themselves (their query fails anyway).
              pool.on("error", () => undefined)
              pool.on("connect", (client) => client.on("error", () => undefined))
              return pool
            }),
          ),
          // A pool ends once its clients are released: not waited for past 1 s (a stop stays bounded).
          (pools) =>
            Effect.promise(() => Promise.allSettled(pools.map((p) => p.end()))).pipe(
              Effect.timeoutOption("1 second"),
            ),
        )
        const upsert = Effect.fn("CopyWriter.upsert")(function* (
          shard: number,
          targets: ReadonlyArray<CopyTarget>,
        ) {
          yield* Effect.annotateCurrentSpan({ shard, rows: targets.reduce((n, t) => n + t.rows.length, 0) })
          yield* Effect.acquireUseRelease(
            checkout(pools[shard]!),
            (client) => Effect.tryPromise({ try: () => writeTx(client, targets), catch: pgError }),
            release,
          )
        })
        return CopyWriter.of({ upsert })
      }),
    )

  /** Embedded: inside a transaction of the PGlite SqlClient, COPY from a blob. */
  static readonly layerPglite = Layer.effect(
    CopyWriter,
    Effect.gen(function* () {
      const { db, sql } = yield* Embedded
      yield* sql.unsafe(STAGING_DDL)
      const upsert = Effect.fn("CopyWriter.upsert")(function* (
        _shard: number,
        targets: ReadonlyArray<CopyTarget>,
      ) {
        const data = yield* Effect.try({ try: () => targets.map((t) => copyBinary(t.rows)), catch: pgError })
        yield* sql.withTransaction(
          Effect.forEach(
            targets,
            (t, i) =>
              Effect.gen(function* () {
                if (i > 0) yield* sql.unsafe("TRUNCATE tally_staging")
                // The transaction holds the one PGlite session, so this direct call cannot interleave.
                yield* pgliteTry(
                  () => db.query(COPY_BLOB, [], { blob: new Blob([new Uint8Array(data[i]!)]) }),
                  "copy",
                )
                yield* sql.unsafe(upsertSql(t.schema, t.table))
              }),
            { discard: true },
          ),
        )
      })
      return CopyWriter.of({ upsert })
    }),
  )
}
