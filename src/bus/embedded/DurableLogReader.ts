/**
 * The durable embedded log's main-thread connection (DurableLog.ts): what it knows of the log (topics
 * and their partition ids, end offsets, committed offsets), loaded at open and kept up to date from
 * the writer's replies, topic creation, and the reads (WAL: they see every committed transaction and
 * never wait for the writer).
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { DatabaseSync, StatementSync } from "node:sqlite"
import type { InRecord } from "../Records.ts"
import { isCompacted, type TopicSpec } from "../Topics.ts"
import {
  type Durability,
  MAX_PARTITION_IDS,
  MIGRATE_SETS,
  pragmas,
  SCHEMA,
  SPAN,
  unpackSet,
} from "./DurableLogFormat.ts"

export interface Topic {
  readonly spec: TopicSpec
  readonly compacted: boolean
  readonly pids: ReadonlyArray<number>
}

/** Loads node:sqlite without its one-line "experimental" warning on stderr (Node 22). */
export const loadSqlite = async (): Promise<typeof import("node:sqlite")> => {
  const emit = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: Array<unknown>) => {
    if (!String(typeof warning === "string" ? warning : warning.message).includes("SQLite"))
      (emit as (...args: Array<unknown>) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning
  try {
    return await import("node:sqlite")
  } finally {
    process.emitWarning = emit
  }
}

/** Opens (creating when missing) `<directory>/log.db` with its schema; the file's path and connection. */
export const openDatabase = async (
  directory: string,
  durability: Durability,
): Promise<{ readonly file: string; readonly db: DatabaseSync }> => {
  const { DatabaseSync } = await loadSqlite()
  mkdirSync(directory, { recursive: true })
  const file = join(directory, "log.db")
  const db = new DatabaseSync(file)
  db.exec("PRAGMA auto_vacuum = INCREMENTAL")
  db.exec(pragmas(durability))
  db.exec(SCHEMA)
  const columns = db.prepare("PRAGMA table_info(records)").all()
  if (!columns.some((c) => c.name === "n")) db.exec(MIGRATE_SETS)
  return { file, db }
}

const commitKey = (group: string, topic: string, partition: number) =>
  `${group}\u0000${topic}\u0000${partition}`

/** A row as read: id, key, value, ts, n (see DurableLogFormat's SCHEMA). */
type Row = [number, string, Uint8Array, number, number]

export class LogReader {
  readonly topics = new Map<string, Topic>()
  /** pid -> the offset the next record of that partition gets. */
  readonly ends = new Map<number, number>()
  /** `group \0 topic \0 partition` -> commit. */
  private readonly commits = new Map<string, { offset: number; metadata: string }>()
  /** `topic \0 partition` -> the groups that committed on it. */
  readonly committers = new Map<string, Set<string>>()
  /** pid -> the first offset retained, as of the last retention step that touched it. */
  readonly starts = new Map<number, number>()
  private readonly readAll: StatementSync
  private readonly readLive: StatementSync
  /** The row holding an offset (a record set's row starts before it). */
  private readonly rowAt: StatementSync
  /** pid -> an offset known to start a row (where the last read ended): a read from it needs no rowAt. */
  private readonly rowStarts = new Map<number, number>()
  readonly db: DatabaseSync

  /** Loads what `db` holds; `groupSeen` is told of every group with a commit. */
  constructor(db: DatabaseSync, groupSeen: (group: string) => void) {
    this.db = db
    const select = "SELECT id, key, value, ts, n FROM records WHERE id >= ? AND id < ?"
    this.readAll = db.prepare(`${select} ORDER BY id LIMIT ?`)
    this.readLive = db.prepare(`${select} AND dead = 0 ORDER BY id LIMIT ?`)
    this.rowAt = db.prepare(`${select} ORDER BY id DESC LIMIT 1`)
    for (const s of [this.readAll, this.readLive, this.rowAt]) s.setReturnArrays(true)
    const pids = new Map<string, Array<number>>()
    for (const row of db.prepare("SELECT pid, topic, partition FROM partitions ORDER BY pid").all()) {
      const list = pids.get(String(row.topic)) ?? []
      list[Number(row.partition)] = Number(row.pid)
      pids.set(String(row.topic), list)
    }
    for (const row of db.prepare("SELECT name, spec FROM topics").all()) {
      const spec = JSON.parse(String(row.spec)) as TopicSpec
      this.topics.set(spec.name, { spec, compacted: isCompacted(spec), pids: pids.get(spec.name) ?? [] })
    }
    const last = db.prepare(
      "SELECT id + n AS id FROM records WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 1",
    )
    const floor = db.prepare("SELECT floor FROM partitions WHERE pid = ?")
    for (const topic of this.topics.values())
      for (const pid of topic.pids) {
        const id = last.get(pid * SPAN, (pid + 1) * SPAN)?.id
        const end = id === null || id === undefined ? 0 : Number(id) - pid * SPAN
        this.ends.set(pid, Math.max(end, Number(floor.get(pid)?.floor ?? 0)))
      }
    for (const row of db.prepare("SELECT grp, topic, partition, off, metadata FROM commits").all()) {
      this.remember(
        String(row.grp),
        String(row.topic),
        Number(row.partition),
        Number(row.off),
        String(row.metadata),
      )
      groupSeen(String(row.grp))
    }
  }

  remember(group: string, topic: string, partition: number, offset: number, metadata: string): void {
    this.commits.set(commitKey(group, topic, partition), { offset, metadata })
    const at = `${topic}\u0000${partition}`
    const set = this.committers.get(at) ?? new Set()
    set.add(group)
    this.committers.set(at, set)
  }

  committed(
    group: string,
    topic: string,
    partition: number,
  ): { offset: number; metadata: string } | undefined {
    return this.commits.get(commitKey(group, topic, partition))
  }

  createTopic(spec: TopicSpec): boolean {
    if (this.topics.has(spec.name)) return false
    const next = Number(
      this.db.prepare("SELECT coalesce(max(pid) + 1, 0) AS n FROM partitions").get()?.n ?? 0,
    )
    if (next + spec.partitions > MAX_PARTITION_IDS)
      throw new Error(`the embedded log holds at most ${MAX_PARTITION_IDS} partitions`)
    const pids = Array.from({ length: spec.partitions }, (_, i) => next + i)
    this.db.exec("BEGIN IMMEDIATE")
    try {
      this.db.prepare("INSERT INTO topics (name, spec) VALUES (?, ?)").run(spec.name, JSON.stringify(spec))
      const insert = this.db.prepare("INSERT INTO partitions (pid, topic, partition) VALUES (?, ?, ?)")
      for (const [partition, pid] of pids.entries()) insert.run(pid, spec.name, partition)
      this.db.exec("COMMIT")
    } catch (cause) {
      this.db.exec("ROLLBACK")
      throw cause
    }
    for (const pid of pids) this.ends.set(pid, 0)
    this.topics.set(spec.name, { spec, compacted: isCompacted(spec), pids })
    return true
  }

  highWatermark(topic: string, partition: number): number {
    const pid = this.topics.get(topic)?.pids[partition]
    return pid === undefined ? 0 : (this.ends.get(pid) ?? 0)
  }

  read(
    topic: string,
    partition: number,
    from: number,
    max: number,
  ): { records: Array<InRecord>; next: number } {
    const t = this.topics.get(topic)
    const pid = t?.pids[partition]
    if (!t || pid === undefined) return { records: [], next: from }
    // Nothing past the end the writer reported (consumers poll every partition on every append): no
    // statement. Records become readable when their transaction's reply arrives, before its appends resolve.
    if (from >= (this.ends.get(pid) ?? 0)) return { records: [], next: from }
    const base = pid * SPAN
    // A read from inside a record set starts with that set's row.
    let head: Row | undefined
    if (!t.compacted && this.rowStarts.get(pid) !== from) {
      const row = this.rowAt.get(base, base + from + 1) as unknown as Row | undefined
      if (row && row[0] < base + from && row[0] + row[4] > base + from) head = row
    }
    const start = head ? head[0] + head[4] : base + from
    const records: Array<InRecord> = []
    let next = from
    let whole = true
    let rows = 0
    const take = (r: Row) => {
      const first = r[0] - base
      if (r[4] === 1) {
        if (first >= from) records.push({ key: r[1], value: r[2], timestamp: r[3], offset: first })
      } else unpackSet(r[2], first, from, max, records as Array<InRecord & { key: string }>)
      next = records.length > 0 ? records[records.length - 1]!.offset + 1 : from
      whole = next === first + r[4] || r[4] === 1
    }
    if (head) take(head)
    // Row by row until `max` records: a row may hold many.
    if (records.length < max)
      for (const r of (t.compacted ? this.readLive : this.readAll).iterate(start, base + SPAN, max)) {
        rows++
        take(r as unknown as Row)
        if (records.length >= max) break
      }
    if (whole) this.rowStarts.set(pid, next)
    // Rows committed before the writer's answer arrived may be past the cached end: move it on.
    const end = Math.max(this.ends.get(pid) ?? 0, next)
    this.ends.set(pid, end)
    // Fewer rows than asked and all of them read: everything up to the end was read (superseded records were skipped).
    if (rows < max && records.length < max) next = Math.max(next, end)
    return { records, next }
  }
}
