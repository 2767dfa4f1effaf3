/**
 * Sink benchmark (issue 12): summaries/s into one real shard through the sink's write path
 * (SummaryStore.writeSummaries -> CopyWriter: binary COPY into the session's staging table + one
 * version-guarded upsert, one transaction per batch of 1024), next to baselines doing the same work as
 * well as they can:
 *   (a) one INSERT … ON CONFLICT per row, 1024 rows a transaction (prepared statement, sql-pg);
 *   (b) INSERT … SELECT DISTINCT ON … FROM unnest(12 typed arrays) ON CONFLICT, 1024 rows a statement;
 *   (c) the `psql \copy` ceiling: COPY into an empty table, no upsert, timed by psql's own \timing in
 *       one open session (no process start), binary and text files.
 * Plus text against binary COPY on the same connection and transaction shape (the format decision).
 * Every method writes the same generated rows into its own empty day table; three rounds, alternating
 * methods, medians reported.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { PgTypes } from "@effect/sql-pg"
import { Effect, Layer, Result } from "effect"
import pg from "pg"
import copyStreams from "pg-copy-streams"
import { copyBinary, copyText } from "../src/store/CopyFormat.ts"
import { STAGING_DDL, SUMMARY_COLUMNS, schemaOf, upsertSql } from "../src/store/Schema.ts"
import { Shards } from "../src/store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../src/store/SummaryStore.ts"
import { fmt, loadNote, ratio, writeSection } from "./report.ts"

const SERVER = process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const DB = "tally_bench_sink"
const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)
const BATCH = 1024
const N = 200_000
const N_PER_ROW = 20_000
const ROUNDS = 3
const TABLE = "router_1m"
const COLS = SUMMARY_COLUMNS.join(", ")
const KEY = "owner, metric, process_type, label, start"

const rows = (n: number, day: number): Array<SummaryRow> =>
  Array.from({ length: n }, (_, i) => ({
    owner: `00000000-0000-4000-8000-${String(i % 5000).padStart(12, "0")}`,
    processType: ["web", "worker", "clock"][i % 3]!,
    metric: "router_service_ms",
    label: "",
    startMs: T0 + day * DAY + Math.floor(i / 5000) * 60_000,
    count: 100 + (i % 50),
    sum: 1234.5 + i,
    sumsq: 98765.25 + i,
    min: 1,
    max: 900,
    sketch: new Uint8Array(48).fill(i % 256),
    version: 7,
  }))

const batches = <A>(all: ReadonlyArray<A>) => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < all.length; i += BATCH) out.push(all.slice(i, i + BATCH))
  return out
}

const table = (day: number) => `${schemaOf(T0 + day * DAY)}.${TABLE}`

/** rows/s of `effect` over `n` rows. */
const timed = <E, R>(n: number, effect: Effect.Effect<unknown, E, R>) =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.map(effect, () => n / ((performance.now() - start) / 1000))
  })

const copyIn = (client: pg.Client, sql: string, data: Buffer | string) =>
  new Promise<void>((resolve, reject) => {
    const stream = client.query(copyStreams.from(sql))
    stream.on("error", reject)
    stream.on("finish", () => resolve())
    stream.end(data)
  })

/** The CopyWriter's transaction on a plain pg client, in either COPY format (the format comparison). */
const copyBatch = async (
  client: pg.Client,
  batch: ReadonlyArray<SummaryRow>,
  day: number,
  format: "binary" | "text",
) => {
  const [schema] = table(day).split(".")
  const data = format === "binary" ? copyBinary(batch) : copyText(batch)
  await copyIn(
    client,
    `BEGIN; COPY tally_staging (${COLS}) FROM STDIN${format === "binary" ? " WITH (FORMAT binary)" : ""}`,
    data,
  )
  await client.query(`${upsertSql(schema!, TABLE)}; COMMIT`)
}

const SET = SUMMARY_COLUMNS.filter((c) => !KEY.includes(c))
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(", ")
const CONFLICT = `ON CONFLICT (${KEY}) DO UPDATE SET ${SET} WHERE t.version < EXCLUDED.version`

const arr = (values: ReadonlyArray<unknown>, oid: number) => Result.getOrThrow(PgTypes.array(values, oid))

/** psql's own \timing of `\copy` commands in one open session: ms per command, in order. */
const psqlCopies = (url: string, commands: ReadonlyArray<string>) => {
  const out = execFileSync("psql", [url, "-X", "-v", "ON_ERROR_STOP=1"], {
    input: ["\\timing on", "SELECT 1;", ...commands].join("\n"),
    encoding: "utf8",
  })
  const times = [...out.matchAll(/^Time: ([\d.]+) ms/gm)].map((m) => Number(m[1]))
  return times.slice(1) // the first is SELECT 1
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const methods = ["path", "binary", "text", "unnest", "perRow"] as const
type Method = (typeof methods)[number]

export const run = async () => {
  const load0 = loadavg()[0]!
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${DB}`)
  await admin.end()
  const url = SERVER.replace(/\/[^/]*$/, `/${DB}`)

  // Each method writes the same rows moved to a day of its own: its own empty table.
  const data = rows(N, 0)
  const onDay = (day: number) => data.map((r) => ({ ...r, startMs: r.startMs + day * DAY }))
  const dayOfMethod = (m: Method) => methods.indexOf(m)
  const dayOfRound = (round: number, what: 0 | 1 | 2) => methods.length + round * 3 + what
  const files = {
    binary: join(tmpdir(), "tally-bench-sink.bin"),
    text: join(tmpdir(), "tally-bench-sink.tsv"),
  }
  writeFileSync(files.binary, copyBinary(data))
  writeFileSync(files.text, copyText(data))
  const client = new pg.Client({ connectionString: url })
  const spent = new Map<Method, number>(methods.map((m) => [m, 0]))
  const written = new Map<Method, number>(methods.map((m) => [m, 0]))
  const ceiling: Array<{ path: number; binary: number; text: number }> = []

  await Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* SummaryStore
      const sql = (yield* Shards).client(0)
      yield* store.ensureDays(
        0,
        Array.from({ length: methods.length + ROUNDS * 3 }, (_, d) => T0 + d * DAY),
      )
      yield* Effect.promise(async () => {
        await client.connect()
        await client.query(STAGING_DDL)
      })
      const byMethod = new Map(methods.map((m) => [m, batches(onDay(dayOfMethod(m)))]))

      const step: Record<Method, (batch: ReadonlyArray<SummaryRow>) => Effect.Effect<unknown, unknown>> = {
        // The sink's path: SummaryStore.writeSummaries (Shards.run -> CopyWriter).
        path: (batch) => store.writeSummaries(0, "ROUTER_REQUESTS", "1m", batch),
        binary: (batch) => Effect.promise(() => copyBatch(client, batch, dayOfMethod("binary"), "binary")),
        text: (batch) => Effect.promise(() => copyBatch(client, batch, dayOfMethod("text"), "text")),
        // (a) One INSERT … ON CONFLICT per row, 1024 rows a transaction; sql-pg prepares it once.
        perRow: (batch) => {
          const [schema] = table(dayOfMethod("perRow")).split(".")
          return sql.withTransaction(
            Effect.forEach(
              batch,
              (r) =>
                sql`INSERT INTO ${sql(schema!)}.${sql(TABLE)} AS t (${sql.literal(COLS)}) VALUES (${r.owner}, ${r.processType}, ${r.metric}, ${r.label}, ${new Date(r.startMs)}, ${BigInt(r.count)}, ${PgTypes.float8(r.sum)}, ${PgTypes.float8(r.sumsq)}, ${PgTypes.float8(r.min)}, ${PgTypes.float8(r.max)}, ${r.sketch}, ${BigInt(r.version)}) ${sql.literal(CONFLICT)}`,
              { discard: true },
            ),
          )
        },
        // (b) INSERT … SELECT DISTINCT ON … FROM unnest(typed arrays) ON CONFLICT, one statement a batch.
        unnest: (b) => {
          const [schema] = table(dayOfMethod("unnest")).split(".")
          const col = (f: (r: SummaryRow) => unknown, oid: number) => arr(b.map(f), oid)
          return sql`INSERT INTO ${sql(schema!)}.${sql(TABLE)} AS t (${sql.literal(COLS)})
SELECT DISTINCT ON (${sql.literal(KEY)}) ${sql.literal(COLS)} FROM unnest(
  ${col((r) => r.owner, PgTypes.OID.uuid)}, ${col((r) => r.processType, PgTypes.OID.text)},
  ${col((r) => r.metric, PgTypes.OID.text)}, ${col((r) => r.label, PgTypes.OID.text)},
  ${col((r) => new Date(r.startMs), PgTypes.OID.timestamptz)}, ${col((r) => BigInt(r.count), PgTypes.OID.int8)},
  ${col((r) => r.sum, PgTypes.OID.float8)}, ${col((r) => r.sumsq, PgTypes.OID.float8)},
  ${col((r) => r.min, PgTypes.OID.float8)}, ${col((r) => r.max, PgTypes.OID.float8)},
  ${col((r) => r.sketch, PgTypes.OID.bytea)}, ${col((r) => BigInt(r.version), PgTypes.OID.int8)}
) AS s (${sql.literal(COLS)}) ORDER BY ${sql.literal(KEY)}, version DESC ${sql.literal(CONFLICT)}`
        },
      }

      // Warm-up (JIT, prepared statements, connections) into a scratch day, not timed.
      const scratch = onDay(methods.length + ROUNDS * 3).slice(0, BATCH)
      yield* store.writeSummaries(0, "ROUTER_REQUESTS", "1m", scratch)

      // Interleaved: batch i of every method in turn (rotating who goes first), so a busy machine
      // slows them all alike. One INSERT per row takes every 10th batch (its rows/s is the same measure).
      const count = Math.ceil(N / BATCH)
      for (let i = 0; i < count; i++)
        for (let k = 0; k < methods.length; k++) {
          const m = methods[(i + k) % methods.length]!
          if (m === "perRow" && i % (N / N_PER_ROW) !== 0) continue
          const batch = byMethod.get(m)![i]!
          const start = performance.now()
          yield* step[m](batch)
          spent.set(m, spent.get(m)! + performance.now() - start)
          written.set(m, written.get(m)! + batch.length)
        }

      // (c) The ceiling, next to the path in the same moment: per round, the path writes all N rows in a
      // row, and psql \copy (one open session, its own \timing) loads the binary and the text file.
      for (let round = 0; round < ROUNDS; round++) {
        const pathRows = batches(onDay(dayOfRound(round, 0)))
        const path = yield* timed(
          N,
          Effect.forEach(pathRows, (b) => store.writeSummaries(0, "ROUTER_REQUESTS", "1m", b), {
            discard: true,
          }),
        )
        const [binMs, textMs] = psqlCopies(url, [
          `\\copy ${table(dayOfRound(round, 1))} (${COLS}) FROM '${files.binary}' WITH (FORMAT binary)`,
          `\\copy ${table(dayOfRound(round, 2))} (${COLS}) FROM '${files.text}'`,
        ])
        ceiling.push({ path, binary: N / (binMs! / 1000), text: N / (textMs! / 1000) })
        console.log(`ceiling round ${round + 1}:`, ceiling.at(-1))
      }
      yield* Effect.promise(() => client.end())
    }).pipe(Effect.provide(SummaryStore.layer.pipe(Layer.provideMerge(Shards.layerPg([url]))))),
  )

  const rate = (m: Method) => written.get(m)! / (spent.get(m)! / 1000)
  const copy = rate("path")
  const share = ceiling.map((c) => c.path / Math.max(c.binary, c.text))
  const row = (label: string, m: Method) =>
    `| ${label} | ${fmt(rate(m))} | ${fmt(written.get(m)!)} | ${ratio(rate(m), copy)} |`
  const markdown = `## Sink (issue 12)

${loadNote(load0)} \`npm run bench -- sink\` (bench/sink.ts). Router summaries (48-byte sketches) into
one real PostgreSQL shard on this machine, each method into its own empty day table. Methods run
interleaved, batch by batch (1024 rows), rotating which goes first, so load from others slows them
alike; rows/s is rows over the time spent in that method's own batches.

| method | rows/s | rows | vs COPY path |
|---|--:|--:|--:|
${row("**COPY path**: `SummaryStore.writeSummaries` (CopyWriter: `BEGIN; COPY … (FORMAT binary)` into the `TEMP … ON COMMIT DELETE ROWS` staging table, then `INSERT … SELECT DISTINCT ON … ON CONFLICT DO UPDATE … WHERE version < EXCLUDED.version; COMMIT`: one transaction, two round trips)", "path")}
${row("same transaction on a bare pg client, binary COPY", "binary")}
${row("same transaction on a bare pg client, text COPY", "text")}
${row("(a) one prepared `INSERT … ON CONFLICT` per row, 1024 rows a transaction (sql-pg)", "perRow")}
${row("(b) `INSERT … SELECT DISTINCT ON … FROM unnest(12 typed arrays) ON CONFLICT`, 1024 rows a statement (sql-pg, binary parameters)", "unnest")}

The \`psql \\copy\` ceiling: COPY of the same ${fmt(N)} rows into an empty table (no staging, no upsert), timed
by psql's own \`\\timing\` in one open session (no process start); each round right after the COPY path
wrote the same rows in one go.

| round | COPY path rows/s | \`\\copy\` binary | \`\\copy\` text | path / faster \`\\copy\` |
|--:|--:|--:|--:|--:|
${ceiling.map((c, i) => `| ${i + 1} | ${fmt(c.path)} | ${fmt(c.binary)} | ${fmt(c.text)} | ${((c.path / Math.max(c.binary, c.text)) * 100).toFixed(0)}% |`).join("\n")}

| goal | result | ratio to goal |
|---|--:|--:|
| ≥ 100,000 rows/s per shard | ${fmt(copy)} | ${ratio(copy, 100_000)} |
| ≥ 10× one INSERT per row in 1024-row transactions | ${ratio(copy, rate("perRow"))} | ${ratio(copy / rate("perRow"), 10)} |
| ≥ 50% of \`psql \\copy\` (median of rounds) | ${(median(share) * 100).toFixed(0)}% | ${ratio(median(share), 0.5)} |

The COPY path pays everything the sink pays per batch: encoding, the store call's deadline and
first-contact check, the pool checkout, the COPY into staging, the upsert (a sort for DISTINCT ON, a
unique-index insert per row) and the commit. \`\\copy\` pays only the COPY into the table.`
  // Tables aligned the way the repository's formatter (Biome) wants them.
  const formatted = execFileSync(
    join(import.meta.dirname, "../node_modules/.bin/biome"),
    ["format", "--stdin-file-path=BENCHMARKS.md"],
    {
      input: markdown,
      encoding: "utf8",
    },
  )
  writeSection("sink", formatted)
  console.log(formatted)
}
