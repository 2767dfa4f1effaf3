/**
 * One SQL surface over real PostgreSQL (`pg` pools, with COPY through pg-copy-streams) and embedded
 * PGlite (COPY from a blob), so the store code above it is written once. Plain promises: the Effect
 * services (Shards, Apps, the sink's writer) wrap whole statements and transactions, not rows.
 */
import { PGlite } from "@electric-sql/pglite"
import pg from "pg"
import copyStreams from "pg-copy-streams"

export type Row = Record<string, unknown>

export interface Tx {
  /** One statement with $1.. parameters. */
  readonly query: <T extends Row = Row>(sql: string, params?: ReadonlyArray<unknown>) => Promise<Array<T>>
  /** COPY `table (columns)` FROM text-format rows (tab-separated, \N for null, one row a line). */
  readonly copyFrom: (table: string, columns: ReadonlyArray<string>, text: string) => Promise<void>
}

export interface Db extends Tx {
  /** Several statements, no parameters; returns the rows of the last one. */
  readonly exec: (sql: string) => Promise<Array<Row>>
  /** Runs `f` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  readonly transaction: <A>(f: (tx: Tx) => Promise<A>) => Promise<A>
  readonly close: () => Promise<void>
  /** For logs and `missing` lists: the database name, never credentials. */
  readonly name: string
}

const copySql = (table: string, columns: ReadonlyArray<string>, source: string) =>
  `COPY ${table} (${columns.join(", ")}) FROM ${source}`

const pgTx = (client: pg.PoolClient): Tx => ({
  query: async <T extends Row>(sql: string, params?: ReadonlyArray<unknown>) =>
    (await client.query(sql, params as Array<unknown> | undefined)).rows as Array<T>,
  copyFrom: (table, columns, text) =>
    new Promise<void>((resolve, reject) => {
      const stream = client.query(copyStreams.from(copySql(table, columns, "STDIN")))
      stream.on("error", reject)
      stream.on("finish", () => resolve())
      stream.end(text)
    }),
})

export interface PgOptions {
  readonly max?: number
  readonly connectionTimeoutMillis?: number
}

export const pgDb = (url: string, options: PgOptions = {}): Db => {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 8,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 30_000,
  })
  // An idle client that loses its server (shard restart) must not crash the process.
  pool.on("error", () => undefined)
  const withClient = async <A>(f: (client: pg.PoolClient) => Promise<A>): Promise<A> => {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      return await f(client)
    } catch (e) {
      broken = e as Error
      throw e
    } finally {
      client.release(broken && isConnectionError(broken) ? broken : undefined)
    }
  }
  return {
    name: new URL(url).pathname.slice(1) || "postgres",
    query: async <T extends Row>(sql: string, params?: ReadonlyArray<unknown>) =>
      (await pool.query(sql, params as Array<unknown> | undefined)).rows as Array<T>,
    copyFrom: (table, columns, text) => withClient((c) => pgTx(c).copyFrom(table, columns, text)),
    exec: (sql) =>
      withClient(async (c) => {
        const result = (await c.query(sql)) as unknown as pg.QueryResult | Array<pg.QueryResult>
        const last = Array.isArray(result) ? result[result.length - 1] : result
        return (last?.rows ?? []) as Array<Row>
      }),
    transaction: (f) =>
      withClient(async (c) => {
        await c.query("BEGIN")
        try {
          const a = await f(pgTx(c))
          await c.query("COMMIT")
          return a
        } catch (e) {
          await c.query("ROLLBACK").catch(() => undefined)
          throw e
        }
      }),
    close: () => pool.end(),
  }
}

/** Errors that mean the connection (or server) is gone, not that the statement was wrong. */
export const isConnectionError = (e: unknown): boolean => {
  const err = e as { code?: string; message?: string }
  if (typeof err?.code === "string") {
    // 08: connection exceptions; 57P: operator intervention (shutdown, terminated); 3D000: no such database;
    // 55000 + "not currently accepting connections" is ALLOW_CONNECTIONS false.
    if (err.code.startsWith("08") || err.code.startsWith("57P") || err.code === "3D000") return true
    if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND/.test(err.code)) return true
  }
  return /not currently accepting connections|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    err?.message ?? "",
  )
}

const pgliteTx = (tx: { query: PGlite["query"] }): Tx => ({
  query: async <T extends Row>(sql: string, params?: ReadonlyArray<unknown>) =>
    (await tx.query<T>(sql, params as Array<unknown> | undefined)).rows,
  copyFrom: async (table, columns, text) => {
    await tx.query(copySql(table, columns, "'/dev/blob'"), [], { blob: new Blob([text]) })
  },
})

/** Embedded PostgreSQL in `dataDir` (in memory when undefined). */
export const pgliteDb = async (dataDir: string | undefined, name = "embedded"): Promise<Db> => {
  const db = dataDir === undefined ? await PGlite.create() : await PGlite.create(dataDir)
  const base = pgliteTx(db)
  return {
    name,
    ...base,
    exec: async (sql) => {
      const results = await db.exec(sql)
      return (results[results.length - 1]?.rows ?? []) as Array<Row>
    },
    transaction: (f) => db.transaction((tx) => f(pgliteTx(tx))),
    close: () => db.close(),
  }
}
