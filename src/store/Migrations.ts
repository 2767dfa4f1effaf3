/**
 * Applies migrations/NNNN_name.sql in order, each once, each in its own transaction, under an advisory
 * lock so that concurrent starters (several sinks, tests) never race. Works on any client that runs
 * multi-statement SQL text: `pg` and PGlite alike.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export interface SqlText {
  /** Runs SQL (possibly several statements, no parameters) and returns the rows of the last one. */
  readonly run: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>
}

export interface Migration {
  readonly id: number
  readonly name: string
  readonly sql: string
}

export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "../../migrations")

export const readMigrations = (dir: string = migrationsDir): ReadonlyArray<Migration> =>
  readdirSync(dir)
    .flatMap((file) => {
      const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file)
      return m ? [{ id: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), "utf8") }] : []
    })
    .sort((a, b) => a.id - b.id)

const LOCK = 7_297_431

/** Applies the migrations not yet applied; returns the ids it applied. */
export const migrate = async (db: SqlText, migrations = readMigrations()): Promise<ReadonlyArray<number>> => {
  await db.run(`SELECT pg_advisory_lock(${LOCK})`)
  try {
    await db.run(
      "CREATE TABLE IF NOT EXISTS tally_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    )
    const done = new Set((await db.run("SELECT id FROM tally_migrations")).map((r) => Number(r.id)))
    const applied: Array<number> = []
    for (const m of migrations) {
      if (done.has(m.id)) continue
      await db.run("BEGIN")
      try {
        await db.run(m.sql)
        await db.run(`INSERT INTO tally_migrations (id, name) VALUES (${m.id}, '${m.name}')`)
        await db.run("COMMIT")
      } catch (e) {
        await db.run("ROLLBACK")
        throw new Error(`migration ${m.id}_${m.name} failed: ${(e as Error).message}`, { cause: e })
      }
      applied.push(m.id)
    }
    return applied
  } finally {
    await db.run(`SELECT pg_advisory_unlock(${LOCK})`)
  }
}
