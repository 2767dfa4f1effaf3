/**
 * What the durable embedded log adds to the Bus contract: it survives close and SIGKILL, and it is
 * bounded (retention deletes only what every live group committed past and what is old enough;
 * compaction keeps each key's latest record; a steady load keeps file size and record count flat).
 * Time is an injected clock: nothing here sleeps.
 */
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { DurableLog, type DurableLogOptions } from "../../src/bus/embedded/DurableLog.ts"
import * as M from "../../src/bus/embedded/LogMetrics.ts"
import type { OutRecord } from "../../src/bus/Records.ts"
import type { TopicSpec } from "../../src/bus/Topics.ts"

const MINUTE = 60_000
const T0 = Date.UTC(2026, 10, 28, 12)
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const freshDir = () => mkdtempSync(join(tmpdir(), "tally-durable-"))
const topic = (name: string, config: Record<string, string>, partitions = 1): TopicSpec => ({
  name,
  partitions,
  replicationFactor: 1,
  config,
})
const raw = topic("raw", { "cleanup.policy": "delete", "retention.ms": String(7 * 24 * 60 * MINUTE) })
const summaries = topic("summaries", { "cleanup.policy": "compact" })
const retries = topic("retries", { "cleanup.policy": "delete", "retention.ms": "-1" })

const rec = (t: string, key: string, text: string): OutRecord => ({
  topic: t,
  key,
  value: encoder.encode(text),
  timestamp: T0,
})
const texts = (log: DurableLog, t: string, from = 0) =>
  log.read(t, 0, from, 100_000).records.map((r) => `${r.offset}:${decoder.decode(r.value)}`)

/** A log in `dir` whose clock the test moves; closed when the effect's scope ends. */
const withLog = <A, E>(
  dir: string,
  f: (log: DurableLog, clock: { now: number }) => Effect.Effect<A, E>,
  options: DurableLogOptions = {},
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const clock = { now: T0 }
      const log = yield* DurableLog.open(dir, { ...options, clock: () => clock.now })
      return yield* f(log, clock)
    }),
  )

describe("durable embedded log", () => {
  it.effect(
    "close and reopen keep records, offsets (also after every record was deleted) and commits",
    () => {
      const dir = freshDir()
      return Effect.gen(function* () {
        yield* withLog(dir, (log) =>
          Effect.gen(function* () {
            log.createTopic(raw)
            log.createTopic(retries)
            yield* log.append([
              rec("raw", "a:web", "r0"),
              rec("raw", "a:web", "r1"),
              rec("retries", "a:web", "x0"),
            ])
            yield* log.commit("agg", [{ topic: "raw", partition: 0, offset: 1, metadata: "st=12:00" }])
            yield* log.commit("retrier", [{ topic: "retries", partition: 0, offset: 1, metadata: "" }])
            // The retry record is committed past and needs no age: deleted, the partition is empty now.
            yield* log.retain
            assert.deepStrictEqual(texts(log, "retries"), [])
          }),
        )
        yield* withLog(dir, (log) =>
          Effect.gen(function* () {
            assert.deepStrictEqual(log.topic("raw"), raw)
            assert.deepStrictEqual(texts(log, "raw"), ["0:r0", "1:r1"])
            assert.deepStrictEqual(log.committed("agg", "raw", 0), { offset: 1, metadata: "st=12:00" })
            assert.strictEqual(log.highWatermark("retries", 0), 1)
            yield* log.append([rec("raw", "a:web", "r2"), rec("retries", "a:web", "x1")])
            assert.deepStrictEqual(texts(log, "raw"), ["0:r0", "1:r1", "2:r2"])
            assert.deepStrictEqual(texts(log, "retries"), ["1:x1"], "offset 0 is never given again")
          }),
        )
      }).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    },
  )

  // Real time (a child process): it.live, with a deadline instead of the TestClock.
  it.live(
    "a process SIGKILLed right after its appends were acknowledged loses none of them",
    () => {
      const dir = freshDir()
      return Effect.gen(function* () {
        const acked = yield* Effect.callback<ReadonlyArray<number>, Error>((resume) => {
          const child = spawn(process.execPath, [join(import.meta.dirname, "durableChild.ts"), dir], {
            stdio: ["ignore", "pipe", "inherit"],
          })
          const ids: Array<number> = []
          let buffered = ""
          child.stdout.setEncoding("utf8")
          child.stdout.on("data", (chunk: string) => {
            const lines = (buffered + chunk).split("\n")
            buffered = lines.pop()!
            for (const line of lines) if (line.startsWith("acked ")) ids.push(Number(line.slice(6)))
            if (ids.length >= 400 && !child.killed) child.kill("SIGKILL")
          })
          child.on("exit", (_code, signal) =>
            resume(
              signal === "SIGKILL" ? Effect.succeed(ids) : Effect.fail(new Error(`child exited: ${signal}`)),
            ),
          )
          return Effect.sync(() => child.kill("SIGKILL"))
        }).pipe(Effect.timeout("60 seconds"))
        const found = yield* withLog(dir, (log) =>
          Effect.sync(() => {
            const batches = new Map<number, number>()
            for (let p = 0; p < 4; p++) {
              const records = log.read("raw", p, 0, 10_000_000).records
              assert.deepStrictEqual(
                records.map((r) => r.offset),
                records.map((_, i) => i),
                `partition ${p}: offsets from 0 without gaps`,
              )
              for (const r of records) {
                const id = Number(decoder.decode(r.value.subarray(0, 12)).split("/")[0])
                batches.set(id, (batches.get(id) ?? 0) + 1)
              }
            }
            return batches
          }),
        )
        assert.isAtLeast(acked.length, 400)
        const lost = acked.filter((id) => found.get(id) !== 140)
        assert.deepStrictEqual(lost, [], "every acknowledged batch is there, whole")
        // Batches not acknowledged yet may be there too (committed before the ack was printed), but whole.
        for (const [id, n] of found) assert.strictEqual(n, 140, `batch ${id} is all or nothing`)
      }).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    },
    90_000,
  )

  it.effect("retention deletes only what every live group committed past and what is old enough", () => {
    const dir = freshDir()
    return withLog(
      dir,
      (log, clock) =>
        Effect.gen(function* () {
          log.createTopic(raw)
          yield* log.append(Array.from({ length: 10 }, (_, i) => rec("raw", "a:web", `old${i}`)))
          clock.now = T0 + 20 * MINUTE
          yield* log.append(Array.from({ length: 10 }, (_, i) => rec("raw", "a:web", `new${i}`)))
          yield* log.commit("agg", [{ topic: "raw", partition: 0, offset: 15, metadata: "" }])
          yield* log.commit("audit", [{ topic: "raw", partition: 0, offset: 5, metadata: "" }])

          // 31 min: the old ten are past the 30 min retention, but "audit" committed only 5 of them.
          clock.now = T0 + 31 * MINUTE
          yield* log.retain
          assert.strictEqual(texts(log, "raw")[0], "5:old5")

          // "audit" commits 18: the old ten go; new0..new4 are committed past but 11 min young.
          yield* log.commit("audit", [{ topic: "raw", partition: 0, offset: 18, metadata: "" }])
          yield* log.retain
          assert.strictEqual(texts(log, "raw")[0], "10:new0")

          // 51 min: new0..new4 are old enough; new5.. are not committed by "agg" and stay.
          clock.now = T0 + 51 * MINUTE
          yield* log.retain
          assert.deepStrictEqual(texts(log, "raw"), ["15:new5", "16:new6", "17:new7", "18:new8", "19:new9"])
          assert.strictEqual(
            (yield* Metric.value(Metric.withAttributes(M.records, { topic: "raw" }))).value,
            5,
          )
          assert.isAbove((yield* Metric.value(M.diskBytes)).value, 0)

          // "agg" has had no member and no commit for over 60 min (group idleness): it holds nothing back.
          clock.now = T0 + 81 * MINUTE
          yield* log.retain
          assert.deepStrictEqual(texts(log, "raw"), ["18:new8", "19:new9"])
          assert.strictEqual(log.read("raw", 0, 0, 10).next, 20)
        }),
      { retention: { committedMs: 30 * MINUTE, groupIdleMs: 60 * MINUTE } },
    ).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
  })

  it.effect("a member of a group keeps it live however long it idles; uncommitted records stay", () => {
    const dir = freshDir()
    return withLog(dir, (log, clock) =>
      Effect.gen(function* () {
        log.createTopic(raw)
        log.createTopic(retries)
        const member = log.groups.join("agg")
        yield* log.append(Array.from({ length: 4 }, (_, i) => rec("raw", "a:web", `r${i}`)))
        yield* log.append(Array.from({ length: 4 }, (_, i) => rec("retries", "a:web", `x${i}`)))
        yield* log.commit("agg", [{ topic: "raw", partition: 0, offset: 2, metadata: "" }])
        clock.now = T0 + 24 * 60 * MINUTE
        yield* log.retain
        assert.deepStrictEqual(texts(log, "raw"), ["2:r2", "3:r3"])
        // Nobody committed on the retry topic: kept, at any age (its retention.ms is -1).
        assert.strictEqual(texts(log, "retries").length, 4)
        member.leave()
      }),
    ).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
  })

  it.effect(
    "reads give back every record's key, value and timestamp exactly, in pieces of at most `max`",
    () => {
      const dir = freshDir()
      const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) % 256)
      const written: Array<OutRecord> = [
        { topic: "raw", key: "a:web", value: bytes(300), timestamp: T0 },
        { topic: "raw", key: "", value: new Uint8Array(0), timestamp: 0 },
        { topic: "raw", key: "ünï:cödé,1", value: Uint8Array.of(0, 44, 0), timestamp: 2 ** 53 - 1 },
        { topic: "raw", key: "a,b", value: bytes(1), timestamp: -5 },
        { topic: "raw", key: "b:worker", value: bytes(70_000), timestamp: 1.5 },
        ...Array.from({ length: 20 }, (_, i) => ({
          topic: "raw",
          key: `k${i % 3}`,
          value: bytes(i),
          timestamp: T0 + i,
        })),
      ]
      return withLog(dir, (log) =>
        Effect.gen(function* () {
          log.createTopic(raw)
          yield* log.append(written)
          const got: Array<{ key: string; value: Array<number>; timestamp: number; offset: number }> = []
          let from = 0
          for (;;) {
            const { records, next } = log.read("raw", 0, from, 4)
            assert.isAtMost(records.length, 4)
            if (records.length === 0) break
            for (const r of records)
              got.push({ key: r.key, value: [...r.value], timestamp: r.timestamp, offset: r.offset })
            from = next
          }
          assert.deepStrictEqual(
            got,
            written.map((r, offset) => ({ key: r.key, value: [...r.value], timestamp: r.timestamp, offset })),
          )
        }),
      ).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    },
  )

  it.effect(
    "a transaction's records of a partition are one row (a record set); reads from inside it and retention cut through it record by record",
    () => {
      const dir = freshDir()
      const ten = Array.from({ length: 10 }, (_, i) => rec("raw", `k${i % 2}`, `s${i}`))
      return Effect.gen(function* () {
        yield* withLog(dir, (log, clock) =>
          Effect.gen(function* () {
            log.createTopic(raw)
            yield* log.append(ten)
            const rows = new DatabaseSync(join(dir, "log", "log.db"))
            assert.deepStrictEqual(
              rows
                .prepare("SELECT id, n FROM records")
                .all()
                .map((r) => [Number(r.id), Number(r.n)]),
              [[0, 10]],
              "one row",
            )
            rows.close()
            // From every offset, in pieces of 3: exactly the records from there on, keys included.
            for (let from = 0; from < 10; from++) {
              const got: Array<string> = []
              let at = from
              for (;;) {
                const { records, next } = log.read("raw", 0, at, 3)
                if (records.length === 0) break
                got.push(...records.map((r) => `${r.offset}:${r.key}:${decoder.decode(r.value)}`))
                at = next
              }
              const want = ten.slice(from).map((r, i) => `${from + i}:${r.key}:${decoder.decode(r.value)}`)
              assert.deepStrictEqual(got, want, `from ${from}`)
            }
            log.groups.join("agg")
            yield* log.commit("agg", [{ topic: "raw", partition: 0, offset: 7, metadata: "" }])
            clock.now = T0 + 24 * 60 * MINUTE
            yield* log.retain
            assert.deepStrictEqual(texts(log, "raw"), ["7:s7", "8:s8", "9:s9"])
            assert.strictEqual(log.recordCounts().get("raw"), 3)
          }),
        )
        // Reopened: the split set's records, and the next append goes on from offset 10.
        yield* withLog(dir, (log) =>
          Effect.gen(function* () {
            assert.deepStrictEqual(texts(log, "raw"), ["7:s7", "8:s8", "9:s9"])
            yield* log.append([rec("raw", "k0", "s10")])
            assert.deepStrictEqual(texts(log, "raw", 9), ["9:s9", "10:s10"])
          }),
        )
      }).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    },
  )

  it.effect(
    "a log written before record sets (a row per record, no `n` column) opens, reads and goes on",
    () => {
      const dir = freshDir()
      mkdirSync(join(dir, "log"), { recursive: true })
      const old = new DatabaseSync(join(dir, "log", "log.db"))
      old.exec(`
      CREATE TABLE topics (name TEXT PRIMARY KEY, spec TEXT NOT NULL);
      CREATE TABLE partitions (pid INTEGER PRIMARY KEY, topic TEXT NOT NULL, partition INTEGER NOT NULL,
        floor INTEGER NOT NULL DEFAULT 0, UNIQUE (topic, partition));
      CREATE TABLE records (id INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB NOT NULL, ts REAL NOT NULL,
        at INTEGER NOT NULL, dead INTEGER NOT NULL DEFAULT 0);`)
      old.prepare("INSERT INTO topics VALUES (?, ?)").run("raw", JSON.stringify(raw))
      old.prepare("INSERT INTO partitions (pid, topic, partition) VALUES (0, 'raw', 0)").run()
      for (let i = 0; i < 3; i++)
        old
          .prepare("INSERT INTO records (id, key, value, ts, at) VALUES (?, 'k', ?, ?, ?)")
          .run(i, encoder.encode(`o${i}`), T0, T0)
      old.close()
      return withLog(dir, (log) =>
        Effect.gen(function* () {
          assert.deepStrictEqual(texts(log, "raw"), ["0:o0", "1:o1", "2:o2"])
          yield* log.append([rec("raw", "k", "n3"), rec("raw", "k", "n4")])
          assert.deepStrictEqual(texts(log, "raw", 1), ["1:o1", "2:o2", "3:n3", "4:n4"])
        }),
      ).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    },
  )

  it.effect("compaction keeps the latest record per key; it goes too once committed past and old", () => {
    const dir = freshDir()
    return withLog(
      dir,
      (log, clock) =>
        Effect.gen(function* () {
          log.createTopic(summaries)
          for (let v = 0; v < 4; v++)
            yield* log.append(["k1", "k2", "k3"].map((k) => rec("summaries", `a:web:${k}`, `${k}v${v}`)))
          yield* log.append([rec("summaries", "a:web:k1", "k1v4")])
          assert.deepStrictEqual(texts(log, "summaries"), ["10:k2v3", "11:k3v3", "12:k1v4"])
          // Before any commit nothing is deleted physically.
          yield* log.retain
          assert.strictEqual(log.recordCounts().get("summaries"), 13)
          // Committed past everything: superseded records go at once, the latest of each key stays.
          yield* log.commit("sink", [{ topic: "summaries", partition: 0, offset: 13, metadata: "" }])
          yield* log.retain
          assert.strictEqual(log.recordCounts().get("summaries"), 3)
          assert.deepStrictEqual(texts(log, "summaries"), ["10:k2v3", "11:k3v3", "12:k1v4"])
          // Older than compactedMs and committed past: the latest go as well; offsets continue.
          clock.now = T0 + 61 * MINUTE
          yield* log.retain
          assert.strictEqual(log.recordCounts().get("summaries"), 0)
          yield* log.append([rec("summaries", "a:web:k2", "k2v4")])
          assert.deepStrictEqual(texts(log, "summaries"), ["13:k2v4"])
        }),
      { retention: { compactedMs: 60 * MINUTE, groupIdleMs: 120 * MINUTE } },
    ).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
  })

  it.effect(
    "under a steady append, consume and commit load the file size and record count stay flat",
    () => {
      const dir = freshDir()
      const value = new Uint8Array(200).fill(1)
      return withLog(
        dir,
        (log, clock) =>
          Effect.gen(function* () {
            log.createTopic(topic("steady", { "cleanup.policy": "delete" }, 4))
            const sizes: Array<number> = []
            const counts: Array<number> = []
            for (let second = 0; second < 120; second++) {
              clock.now = T0 + second * 1000
              // 2,000 records a second in drain-sized appends, then the consumer commits everything.
              yield* Effect.all(
                Array.from({ length: 14 }, (_, b) =>
                  log.append(
                    Array.from({ length: 143 }, (_, i) => ({
                      topic: "steady",
                      key: `app-${(b * 143 + i) % 97}:web`,
                      value,
                      timestamp: clock.now,
                    })),
                  ),
                ),
                { concurrency: "unbounded" },
              )
              yield* log.commit(
                "consumer",
                [0, 1, 2, 3].map((partition) => ({
                  topic: "steady",
                  partition,
                  offset: log.highWatermark("steady", partition),
                  metadata: "",
                })),
              )
              yield* log.retain
              sizes.push(log.diskBytes())
              counts.push(log.recordCounts().get("steady") ?? 0)
            }
            // 10 s retention at 2,002 records/s: at most 11 seconds of records are ever retained.
            assert.isAtMost(Math.max(...counts), 11 * 2002)
            assert.isAtLeast(Math.min(...counts.slice(20)), 10 * 2002)
            // After warming up, the file does not grow: deleted pages are reused.
            const warm = Math.max(...sizes.slice(40, 60))
            const late = Math.max(...sizes.slice(100))
            assert.isAtMost(late, warm * 1.1, `file ${late} bytes at the end vs ${warm} after warm-up`)
          }),
        { retention: { committedMs: 10_000 } },
      ).pipe(Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    },
    60_000,
  )
})
