/** Creates throw-away shard databases on the test server, migrated, and drops them afterwards. */
import pg from "pg"
import { inject } from "vitest"
import { migrate } from "../../src/store/Migrations.ts"

export const pgText = (client: pg.Client) => ({
  run: async (sql: string) => {
    const result = (await client.query(sql)) as unknown as pg.QueryResult | Array<pg.QueryResult>
    const last = Array.isArray(result) ? result[result.length - 1] : result
    return (last?.rows ?? []) as Array<Record<string, unknown>>
  },
})

const databaseUrl = (serverUrl: string, database: string) => {
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

/** `count` fresh databases named `tally_t_<name>_<i>`, migrated; returns their URLs. */
export const createShards = async (name: string, count: number): Promise<Array<string>> => {
  const server = inject("pgUrl")
  const names = Array.from({ length: count }, (_, i) => `tally_t_${name}_${i}`)
  await withClient(server, async (admin) => {
    for (const db of names) {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${db}`)
    }
  })
  const urls = names.map((db) => databaseUrl(server, db))
  for (const url of urls) await withClient(url, (c) => migrate(pgText(c)))
  return urls
}

export const dropShards = async (name: string, count: number): Promise<void> => {
  await withClient(inject("pgUrl"), async (admin) => {
    for (let i = 0; i < count; i++)
      await admin.query(`DROP DATABASE IF EXISTS tally_t_${name}_${i} WITH (FORCE)`)
  })
}
