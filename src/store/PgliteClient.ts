/**
 * Embedded PostgreSQL (PGlite) behind effect/sql: a small `SqlClient` made with `SqlClient.make`, so the
 * store's statements, spans, transactions and migrations are the same code as on Postgres (sql-pg's
 * compiler, so the dialect is "pg"). PGlite is one session: every statement and transaction takes the
 * one connection under a semaphore, so no statement of another fiber lands inside a transaction.
 */
import { execFile } from "node:child_process"
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { PgClient } from "@effect/sql-pg"
import { PGlite } from "@electric-sql/pglite"
import { Context, Effect, Layer, Semaphore, Stream } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as SqlClient from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import {
  AuthenticationError,
  AuthorizationError,
  ConnectionError,
  ConstraintError,
  DeadlockError,
  LockTimeoutError,
  SerializationError,
  SqlError,
  SqlSyntaxError,
  StatementTimeoutError,
  UniqueViolation,
  UnknownError,
} from "effect/sql/SqlError"

/** The SQLSTATE mapping sql-pg applies to server errors, for errors PGlite throws. */
const reasonOf = (
  code: string | undefined,
  constraint: unknown,
  props: { readonly cause: unknown; readonly message: string; readonly operation: string },
) => {
  if (code === undefined) return new UnknownError(props)
  if (code.startsWith("08")) return new ConnectionError(props)
  if (code.startsWith("28")) return new AuthenticationError(props)
  if (code === "42501") return new AuthorizationError(props)
  if (code.startsWith("42")) return new SqlSyntaxError(props)
  if (code === "23505") return new UniqueViolation({ ...props, constraint: String(constraint ?? "unknown") })
  if (code.startsWith("23")) return new ConstraintError(props)
  if (code === "40P01") return new DeadlockError(props)
  if (code === "40001") return new SerializationError(props)
  if (code === "55P03") return new LockTimeoutError(props)
  if (code === "57014") return new StatementTimeoutError(props)
  return new UnknownError(props)
}

const toSqlError = (cause: unknown, operation = "query"): SqlError => {
  const e = cause as { code?: unknown; constraint?: unknown; message?: string }
  const code = typeof e?.code === "string" ? e.code : undefined
  return new SqlError({
    reason: reasonOf(code, e?.constraint, {
      cause,
      message: `PGlite: ${e?.message ?? String(cause)}`,
      operation,
    }),
  })
}

/** Runs a PGlite promise as an Effect failing with SqlError. */
export const pgliteTry = <A>(f: () => Promise<A>, operation?: string): Effect.Effect<A, SqlError> =>
  Effect.tryPromise({ try: f, catch: (cause) => toSqlError(cause, operation) })

const connectionOf = (db: PGlite): Connection => {
  const objects = (sql: string, params: ReadonlyArray<unknown>) =>
    pgliteTry(() => db.query<Record<string, unknown>>(sql, params as Array<unknown>).then((r) => r.rows))
  const values = (sql: string, params: ReadonlyArray<unknown>) =>
    pgliteTry(() =>
      db.query<Array<unknown>>(sql, params as Array<unknown>, { rowMode: "array" }).then((r) => r.rows),
    )
  const execute: Connection["execute"] = (sql, params, transformRows) =>
    transformRows ? Effect.map(objects(sql, params), transformRows) : objects(sql, params)
  return {
    execute,
    executeUnprepared: execute,
    executeRaw: (sql, params) => pgliteTry(() => db.query(sql, params as Array<unknown>)),
    executeStream: (sql, params, transformRows) =>
      Stream.fromIterableEffect(execute(sql, params, transformRows)),
    executeValues: values,
    executeValuesUnprepared: values,
  }
}

/** A SqlClient over one PGlite instance (the caller owns the instance). */
export const makeClient = (db: PGlite, name: string) =>
  Effect.gen(function* () {
    const acquirers = SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connectionOf(db)),
      semaphore: yield* Semaphore.make(1),
    })
    return yield* SqlClient.make({
      acquirer: acquirers.acquirer,
      borrower: acquirers.borrower,
      transactionAcquirer: acquirers.transactionAcquirer,
      onCommitFailure: acquirers.onCommitFailure,
      compiler: PgClient.makeCompiler(),
      driver: "pglite",
      spanAttributes: [
        ["db.system.name", "postgresql"],
        ["db.namespace", name],
      ],
    })
  })

/**
 * PGlite's WebAssembly memory only grows: its default shared_buffers (128 MB, on top of the 128 MB it
 * starts with) would let it grow by that much as the rollup tables are read and written. 16 MB holds
 * embedded mode's working set (the current day's rollups); the OS page cache holds the rest.
 */
const OPTIONS = { startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"] }

/**
 * Takes group's and others' access away under `path` (dirs 0700, files 0600; symlinks are not followed).
 * PGlite's initdb writes its files 0666 whatever the umask, and at each start it rewrites its relcache
 * init files (pg_internal.init) and chmods them 0644; the files it creates otherwise get the umask's 0600.
 */
export const ownerOnly = (path: string): void => {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue
    const child = join(path, entry.name)
    const mode = lstatSync(child).mode & 0o777
    if ((mode & 0o077) !== 0) chmodSync(child, mode & 0o700)
    if (entry.isDirectory()) ownerOnly(child)
  }
}

/**
 * Creates the database directory on the first start, in a child process (src/store/pgliteInit.ts) so
 * this one never holds initdb's memory; a directory that is not empty is left as it is.
 */
const initialise = async (dir: string): Promise<void> => {
  if (existsSync(dir) && readdirSync(dir).length > 0) return
  // Made beside it and renamed into place: a crash part way leaves no half-made database behind.
  const partial = `${dir}.init`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(dirname(dir), { recursive: true })
  const script = fileURLToPath(new URL("./pgliteInit.ts", import.meta.url))
  await promisify(execFile)(process.execPath, [script, partial], { timeout: 120_000 })
  chmodSync(partial, 0o700)
  ownerOnly(partial)
  rmSync(dir, { recursive: true, force: true })
  renameSync(partial, dir)
}

/** The embedded database: its PGlite instance (for COPY from a blob) and the SqlClient over it. */
export class Embedded extends Context.Service<
  Embedded,
  { readonly db: PGlite; readonly sql: SqlClient.SqlClient; readonly name: string }
>()("tally/store/Embedded") {
  /** PGlite in `dir` (in memory when undefined), closed with the layer. */
  static readonly layer = (dir: string | undefined) =>
    Layer.effect(
      Embedded,
      Effect.gen(function* () {
        const db = yield* Effect.acquireRelease(
          pgliteTry(() => {
            if (dir === undefined) return PGlite.create(OPTIONS)
            return initialise(dir).then(async () => {
              const db = await PGlite.create(dir, OPTIONS)
              // Its relcache init files are written at start, chmod-ed 0644 (see ownerOnly).
              ownerOnly(dir)
              return db
            })
          }, "connect"),
          (db) => Effect.promise(() => db.close()),
        )
        const name = "embedded"
        return { db, sql: yield* makeClient(db, name), name }
      }),
    ).pipe(Layer.provide(Reactivity.layer))
}
