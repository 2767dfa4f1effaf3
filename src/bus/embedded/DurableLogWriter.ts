/**
 * The durable log's writer: a worker thread owning the write connection, so commits (and their fsync
 * when durability is "power-loss") and deletions never block the main thread's event loop. It takes one
 * message at a time: a job (every append and commit gathered while the previous job ran: one transaction,
 * all or nothing), a retention step (bounded by a row budget), or close. Offsets are assigned here, in
 * commit order, and rolled back with a failed transaction, so they run from 0 without gaps.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite"
import { parentPort, workerData } from "node:worker_threads"
import type { InRecord } from "../Records.ts"
import {
  type CommitRow,
  type Durability,
  type FromWriter,
  MAX_SET,
  packSet,
  pragmas,
  type RetainPlan,
  type SetRecord,
  SPAN,
  type Stats,
  setRecordAt,
  type ToWriter,
  unpack,
  unpackSet,
} from "./DurableLogFormat.ts"

const port = parentPort!
const { file, durability } = workerData as { file: string; durability: Durability }
const db = new DatabaseSync(file)
db.exec(pragmas(durability))

const q = (sql: string): StatementSync => db.prepare(sql)
const insert = q("INSERT INTO records (id, key, value, ts, at) VALUES (?, ?, ?, ?, ?)")
const insertSet = q("INSERT INTO records (id, key, value, ts, at, n) VALUES (?, '', ?, ?, ?, ?)")
/** The end (last offset + 1, as a row id) of a partition's last row. */
const lastEnd = q("SELECT id + n FROM records WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 1")
/** The last row below a row id (the one a prefix deletion may cut through). */
const lastBelow = q("SELECT id, n, value, at FROM records WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 1")
const recordsIn = q("SELECT coalesce(sum(n), 0) FROM records WHERE id >= ? AND id < ?")
const firstId = q("SELECT min(id) AS id FROM records WHERE id >= ? AND id < ?")
const floorOf = q("SELECT floor FROM partitions WHERE pid = ?")
const setFloor = q("UPDATE partitions SET floor = max(floor, ?) WHERE pid = ?")
const latestOf = q("SELECT off FROM latest WHERE pid = ? AND key = ?")
const setLatest = q(
  "INSERT INTO latest (pid, key, off) VALUES (?, ?, ?) ON CONFLICT (pid, key) DO UPDATE SET off = excluded.off",
)
const markDead = q("UPDATE records SET dead = 1 WHERE id = ?")
const commit = q(
  "INSERT INTO commits (grp, topic, partition, off, metadata) VALUES (?, ?, ?, ?, ?) " +
    "ON CONFLICT (grp, topic, partition) DO UPDATE SET off = excluded.off, metadata = excluded.metadata",
)
const youngest = q("SELECT id FROM records WHERE id >= ? AND id < ? AND at > ? ORDER BY id LIMIT 1")
const deleteRange = q("DELETE FROM records WHERE id >= ? AND id < ?")
const deleteLatestBelow = q("DELETE FROM latest WHERE pid = ? AND off < ?")
const deleteSuperseded = q(
  "DELETE FROM records WHERE id IN (SELECT id FROM records WHERE dead = 1 AND id >= ? AND id < ? LIMIT ?)",
)
const pageCount = q("PRAGMA page_count")
const freePages = q("PRAGMA freelist_count")
const pageSize = q("PRAGMA page_size")
for (const s of [
  lastEnd,
  lastBelow,
  recordsIn,
  firstId,
  floorOf,
  latestOf,
  youngest,
  pageCount,
  freePages,
  pageSize,
])
  s.setReturnArrays(true)

/** Ends a failed transaction (SQLite may already have rolled it back). */
const rollback = () => {
  try {
    db.exec("ROLLBACK")
  } catch {
    // no transaction was open
  }
}

const num = (s: StatementSync, ...args: Array<number | string>): number | undefined => {
  const row = s.get(...args) as unknown as Array<number | null> | undefined
  return row?.[0] ?? undefined
}

/** Per partition: the next offset, the last append time (never decreasing), the records retained. */
const next = new Map<number, number>()
const lastAt = new Map<number, number>()
const counts = new Map<number, number>()
for (const row of q("SELECT CAST(id / ? AS INTEGER) AS pid, sum(n) AS n FROM records GROUP BY 1").all(SPAN))
  counts.set(Number(row.pid), Number(row.n))

const nextOf = (pid: number): number => {
  let n = next.get(pid)
  if (n === undefined) {
    const end = num(lastEnd, pid * SPAN, (pid + 1) * SPAN)
    n = Math.max(end === undefined ? 0 : end - pid * SPAN, num(floorOf, pid) ?? 0)
    next.set(pid, n)
  }
  return n
}

const decoder = new TextDecoder()

/** Per partition, in append order, the records of a job that go into record sets. */
const sets = new Map<number, Array<SetRecord>>()

/** Writes a partition's pending set: one row (or a single record's row), then a fresh set. */
const flushSet = (pid: number, records: Array<SetRecord>, at: number) => {
  const offset = nextOf(pid)
  if (offset + records.length > SPAN) throw new Error(`partition id ${pid} is full`)
  const first = records[0]!
  if (records.length === 1)
    insert.run(pid * SPAN + offset, decoder.decode(first.key), first.value, first.timestamp, at)
  else insertSet.run(pid * SPAN + offset, packSet(records), first.timestamp, at, records.length)
  next.set(pid, offset + records.length)
  sets.delete(pid)
}

const job = (buf: ArrayBuffer, commits: ReadonlyArray<CommitRow>, now: number): FromWriter => {
  const before = new Map<number, number>()
  const added = new Map<number, number>()
  try {
    db.exec("BEGIN IMMEDIATE")
    unpack(buf, (pid, compacted, timestamp, keyBytes, value) => {
      if (!before.has(pid)) before.set(pid, nextOf(pid))
      const at = Math.max(now, lastAt.get(pid) ?? 0)
      lastAt.set(pid, at)
      added.set(pid, (added.get(pid) ?? 0) + 1)
      if (!compacted) {
        let set = sets.get(pid)
        if (!set) sets.set(pid, (set = []))
        set.push({ timestamp, key: keyBytes, value })
        if (set.length >= MAX_SET) flushSet(pid, set, at)
        return
      }
      const offset = nextOf(pid)
      if (offset >= SPAN) throw new Error(`partition id ${pid} is full`)
      const key = decoder.decode(keyBytes)
      insert.run(pid * SPAN + offset, key, value, timestamp, at)
      const previous = num(latestOf, pid, key)
      if (previous !== undefined) markDead.run(pid * SPAN + previous)
      setLatest.run(pid, key, offset)
      next.set(pid, offset + 1)
    })
    for (const [pid, set] of sets) flushSet(pid, set, lastAt.get(pid)!)
    for (const c of commits) commit.run(c.group, c.topic, c.partition, c.offset, c.metadata)
    db.exec("COMMIT")
  } catch (cause) {
    sets.clear()
    rollback()
    for (const [pid, offset] of before) next.set(pid, offset)
    return { t: "failed", id: -1, message: cause instanceof Error ? cause.message : String(cause) }
  }
  for (const [pid, n] of added) counts.set(pid, (counts.get(pid) ?? 0) + n)
  return { t: "done", id: -1, ends: [...before.keys()].map((pid) => [pid, next.get(pid)!] as const) }
}

/**
 * Before a prefix deletion of the rows in [first, stop): a record set `stop` cuts through has its
 * records from `stop` on written again as a row of their own at `stop` (the set's old row then goes
 * with the prefix), so retention deletes records, not whole sets. Returns how many were written again.
 */
const splitAt = (first: number, stop: number): number => {
  const row = lastBelow.get(first, stop) as unknown as [number, number, Uint8Array, number] | undefined
  if (!row || row[0] + row[1] <= stop) return 0
  const [id, n, value, at] = row
  const kept = id + n - stop
  if (kept > 1) {
    // A set's records are packed one after another: its tail is a set of its own as it stands.
    const tail = value.subarray(setRecordAt(value, stop - id))
    insertSet.run(stop, tail, new DataView(tail.buffer, tail.byteOffset).getFloat64(0), at, kept)
  } else {
    const last: Array<InRecord & { key: string }> = []
    unpackSet(value, id, stop, 1, last)
    insert.run(stop, last[0]!.key, last[0]!.value, last[0]!.timestamp, at)
  }
  return kept
}

/** Runs plans from the first on until `budget` rows are deleted; reports where work is left. */
const retain = (
  plans: ReadonlyArray<RetainPlan>,
  budget: number,
): { next: number; deleted: number; starts: Array<readonly [number, number]> } => {
  let deleted = 0
  const starts: Array<readonly [number, number]> = []
  let i = 0
  for (; i < plans.length && deleted < budget; i++) {
    const { pid, below, before, superseded } = plans[i]!
    const base = pid * SPAN
    const end = base + below
    db.exec("BEGIN IMMEDIATE")
    try {
      const first = num(firstId, base, base + SPAN)
      if (first !== undefined && first < end) {
        // The prefix older than `before`: append times never decrease, so the first younger record ends it.
        const upper = Math.min(end, first + (budget - deleted))
        const stop = num(youngest, first, upper, before) ?? upper
        if (stop > first) {
          const n = (num(recordsIn, first, stop) ?? 0) - splitAt(first, stop)
          deleteRange.run(first, stop)
          deleted += n
          counts.set(pid, (counts.get(pid) ?? 0) - n)
          deleteLatestBelow.run(pid, stop - base)
          // Offsets are never reused: remember the end when the partition may now be empty.
          setFloor.run(nextOf(pid), pid)
        }
        if (superseded && deleted < budget) {
          const n = Number(deleteSuperseded.run(Math.max(first, stop), end, budget - deleted).changes)
          deleted += n
          counts.set(pid, (counts.get(pid) ?? 0) - n)
        }
        if (stop === upper && upper < end) {
          // Budget spent inside this plan: more of it is left.
          db.exec("COMMIT")
          starts.push([pid, (num(firstId, base, base + SPAN) ?? base + nextOf(pid)) - base])
          break
        }
      }
      db.exec("COMMIT")
    } catch (cause) {
      rollback()
      throw cause
    }
    starts.push([pid, (num(firstId, base, base + SPAN) ?? base + nextOf(pid)) - base])
  }
  // Whole pass done: give back space a past burst left free (steady state reuses free pages instead).
  if (i >= plans.length) {
    const pages = num(pageCount) ?? 0
    const free = num(freePages) ?? 0
    if (free > 1024 && free > pages / 4)
      db.exec(`PRAGMA incremental_vacuum(${Math.min(8192, free - Math.floor(pages / 8))})`)
  }
  return { next: i, deleted, starts }
}

const stats = (starts: ReadonlyArray<readonly [number, number]>): Stats => ({
  pageSize: num(pageSize) ?? 4096,
  pageCount: num(pageCount) ?? 0,
  freePages: num(freePages) ?? 0,
  counts: [...counts].filter(([, n]) => n > 0),
  starts,
})

port.on("message", (message: ToWriter) => {
  let reply: FromWriter
  switch (message.t) {
    case "job":
      reply = { ...job(message.buf, message.commits, message.at), id: message.id } as FromWriter
      break
    case "retain":
      try {
        const r = retain(message.plans, message.budget)
        reply = { t: "retained", id: message.id, next: r.next, deleted: r.deleted, stats: stats(r.starts) }
      } catch (cause) {
        reply = {
          t: "failed",
          id: message.id,
          message: cause instanceof Error ? cause.message : String(cause),
        }
      }
      break
    case "close":
      db.close()
      reply = { t: "closed" }
      break
  }
  port.postMessage(reply)
})
port.postMessage({ t: "ready" } satisfies FromWriter)
