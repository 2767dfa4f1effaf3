/** Creates throw-away shard databases on the test server, migrated, and drops them afterwards. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { migrate } from "../../src/store/Migrations.ts"

export const databaseUrl = (serverUrl: string, database: string) => {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

export const withClient = async <A>(url: string, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

/** Runs the migrations on one database through its own short-lived sql-pg client. */
export const migrateUrl = (url: string) =>
  Effect.runPromise(
    migrate().pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))),
  )

/** `count` fresh databases named `tally_t_<name>_<i>`, migrated unless `migrated` is false; returns their URLs. */
export const createShards = async (name: string, count: number, migrated = true): Promise<Array<string>> => {
  const server = inject("pgUrl")
  const names = Array.from({ length: count }, (_, i) => `tally_t_${name}_${i}`)
  await withClient(server, async (admin) => {
    for (const db of names) {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${db}`)
    }
  })
  const urls = names.map((db) => databaseUrl(server, db))
  if (migrated) for (const url of urls) await migrateUrl(url)
  return urls
}

export const dropShards = async (name: string, count: number): Promise<void> => {
  await withClient(inject("pgUrl"), async (admin) => {
    for (let i = 0; i < count; i++)
      await admin.query(`DROP DATABASE IF EXISTS tally_t_${name}_${i} WITH (FORCE)`)
  })
}
