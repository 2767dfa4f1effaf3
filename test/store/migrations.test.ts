/** Migrations on real Postgres: effect/sql's Migrator on one connection, under an advisory lock. */

import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, beforeAll } from "vitest"
import { MIGRATIONS_TABLE, migrate, readMigrations, statementsOf } from "../../src/store/Migrations.ts"
import { createShards, dropShards } from "../support/shards.ts"

const NAME = "migrations"
let urls: Array<string> = []
beforeAll(async () => {
  urls = await createShards(NAME, 3, false)
})
afterAll(() => dropShards(NAME, 3))

/** A client of its own (its own connections) on shard `i`. */
const on = (i: number) => PgClient.layer({ url: Redacted.make(urls[i]!), maxConnections: 2 })

const tables = Effect.gen(function* () {
  const sql = yield* SqlClient
  const rows = yield* sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`
  return rows.map((r) => r.table_name)
})

const applied = Effect.gen(function* () {
  const sql = yield* SqlClient
  const rows = yield* sql<{
    migration_id: number
  }>`SELECT migration_id FROM ${sql(MIGRATIONS_TABLE)} ORDER BY 1`
  return rows.map((r) => r.migration_id)
})

describe("migrations on real Postgres shards", () => {
  it.live("three migrators at once on a fresh shard: each migration applied exactly once", () =>
    Effect.gen(function* () {
      const ids = readMigrations().map((m) => m.id)
      assert.isAbove(ids.length, 0)
      const runs = yield* Effect.all(
        [1, 2, 3].map(() => migrate().pipe(Effect.provide(on(0)))),
        { concurrency: "unbounded" },
      )
      // One of them applied everything, in order; the others queued on the lock and found nothing to do.
      assert.deepStrictEqual(
        runs.flat().map(([id]) => id),
        ids,
      )
      assert.deepStrictEqual(runs.filter((r) => r.length === 0).length, 2)
      const check = Effect.all([tables, applied]).pipe(Effect.provide(on(0)))
      const [names, recorded] = yield* check
      assert.deepStrictEqual(names, [
        "alert_catalogue",
        "alert_outbox",
        "alert_progress",
        "alert_rules",
        "alert_state",
        "app_process_types",
        "app_read_tokens",
        "apps",
        MIGRATIONS_TABLE,
      ])
      assert.deepStrictEqual(recorded, ids)
      // And again: nothing.
      assert.deepStrictEqual(yield* migrate().pipe(Effect.provide(on(0))), [])
    }),
  )

  it.live("a failing migration rolls back entirely and names itself", () =>
    Effect.gen(function* () {
      const broken = [
        ...readMigrations(),
        {
          id: 9999,
          name: "broken",
          statements: ["CREATE TABLE half_done (x int)", "SELECT no_such_column FROM apps"],
        },
      ]
      const error = yield* Effect.flip(migrate(broken).pipe(Effect.provide(on(1))))
      assert.strictEqual(error._tag, "MigrationError")
      assert.match(error.message, /9999_broken/)
      // The whole run was one transaction: not even the good migrations before it stayed.
      assert.deepStrictEqual(yield* tables.pipe(Effect.provide(on(1))), [])
      assert.deepStrictEqual(
        (yield* migrate().pipe(Effect.provide(on(1)))).map(([id]) => id),
        readMigrations().map((m) => m.id),
      )
    }),
  )

  it.live("a shard migrated by the earlier migrator (id, applied_at) is taken over in place", () =>
    Effect.gen(function* () {
      const layer = on(2)
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE tally_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`
        for (const m of readMigrations()) {
          for (const s of m.statements) yield* sql.unsafe(s)
          yield* sql`INSERT INTO tally_migrations ${sql.insert({ id: m.id, name: m.name })}`
        }
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(yield* migrate().pipe(Effect.provide(layer)), [])
      assert.deepStrictEqual(
        yield* applied.pipe(Effect.provide(layer)),
        readMigrations().map((m) => m.id),
      )
    }),
  )

  it("statements are split at `;`, comments dropped", () => {
    assert.deepStrictEqual(
      statementsOf("-- a; comment\nCREATE TABLE a (x int);\n\nCREATE INDEX i ON a (x); -- tail\n"),
      ["CREATE TABLE a (x int)", "CREATE INDEX i ON a (x)"],
    )
  })
})
