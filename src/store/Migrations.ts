/**
 * Applies migrations/NNNN_name.sql with effect/sql's Migrator, on ONE connection: the whole run is one
 * transaction that first takes a transaction-scoped advisory lock, so concurrent starters (several
 * sinks, an API, tests) queue behind each other and find nothing left to do. The same code runs on
 * Postgres (sql-pg) and PGlite (our SqlClient over it). The table is `tally_migrations`.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import * as Migrator from "effect/sql/Migrator"
import { SqlClient } from "effect/sql/SqlClient"

export interface Migration {
  readonly id: number
  readonly name: string
  /** The statements of the file, in order (one statement per extended-protocol query). */
  readonly statements: ReadonlyArray<string>
}

export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "../../migrations")

/** A migration file's statements: `--` comments dropped, split at `;`. The files hold no string literals with `;`. */
export const statementsOf = (text: string): ReadonlyArray<string> =>
  text
    .replace(/--[^\n]*/g, "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

export const readMigrations = (dir: string = migrationsDir): ReadonlyArray<Migration> =>
  readdirSync(dir)
    .flatMap((file) => {
      const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file)
      return m
        ? [{ id: Number(m[1]), name: m[2]!, statements: statementsOf(readFileSync(join(dir, file), "utf8")) }]
        : []
    })
    .sort((a, b) => a.id - b.id)

export const MIGRATIONS_TABLE = "tally_migrations"
const LOCK = 7_297_431

const loader = (migrations: ReadonlyArray<Migration>): Migrator.Loader =>
  Effect.succeed(
    migrations.map(
      (m): Migrator.ResolvedMigration => [
        m.id,
        m.name,
        Effect.succeed(
          Effect.gen(function* () {
            const sql = yield* SqlClient
            for (const statement of m.statements) yield* sql.unsafe(statement)
          }),
        ),
      ],
    ),
  )

const run = Migrator.make({})

/** Databases migrated before effect/sql's Migrator kept `id` and `applied_at`: renamed once, in place. */
const UPGRADE_TABLE = `DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = '${MIGRATIONS_TABLE}' AND column_name = 'id') THEN
    ALTER TABLE ${MIGRATIONS_TABLE} RENAME COLUMN id TO migration_id;
    ALTER TABLE ${MIGRATIONS_TABLE} RENAME COLUMN applied_at TO created_at;
  END IF;
END $$`

/**
 * Applies the migrations not yet applied; returns the [id, name] pairs it applied. A failing migration
 * rolls the whole run back and fails with MigrationError naming it.
 */
export const migrate = (migrations: ReadonlyArray<Migration> = readMigrations()) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`SELECT pg_advisory_xact_lock(${LOCK})`
        yield* sql.unsafe(UPGRADE_TABLE)
        return yield* run({ loader: loader(migrations), table: MIGRATIONS_TABLE })
      }),
    )
  }).pipe(Effect.withSpan("Migrations.migrate"))
