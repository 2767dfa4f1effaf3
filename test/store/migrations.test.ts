import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { migrate, readMigrations } from "../../src/store/Migrations.ts"
import { createShards, dropShards, pgText, withClient } from "../support/shards.ts"

describe("migrations on real Postgres shards", () => {
  let urls: Array<string> = []
  beforeAll(async () => {
    urls = await createShards("migrations", 2)
  })
  afterAll(() => dropShards("migrations", 2))

  it("every shard has the fixed objects and records each migration once", async () => {
    const ids = readMigrations().map((m) => m.id)
    expect(ids.length).toBeGreaterThan(0)
    for (const url of urls) {
      const tables = await withClient(url, (c) =>
        c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"),
      )
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        "app_process_types",
        "app_read_tokens",
        "apps",
        "tally_migrations",
      ])
      const applied = await withClient(url, (c) => c.query("SELECT id FROM tally_migrations ORDER BY id"))
      expect(applied.rows.map((r) => r.id)).toEqual(ids)
    }
  })

  it("running again, also concurrently, applies nothing twice", async () => {
    const url = urls[0]!
    const results = await Promise.all([1, 2, 3].map(() => withClient(url, (c) => migrate(pgText(c)))))
    expect(results.flat()).toEqual([])
  })

  it("a failing migration rolls back entirely and names itself", async () => {
    const url = urls[1]!
    const broken = [
      { id: 9999, name: "broken", sql: "CREATE TABLE half_done (x int); SELECT no_such_column FROM apps;" },
    ]
    await expect(withClient(url, (c) => migrate(pgText(c), broken))).rejects.toThrow(
      /migration 9999_broken failed/,
    )
    const left = await withClient(url, (c) => c.query("SELECT to_regclass('half_done') AS t"))
    expect(left.rows[0].t).toBeNull()
  })
})
