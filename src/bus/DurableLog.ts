/**
 * The durable embedded log (`npm start`'s bus): a LocalLog in one SQLite file, `<dataDir>/log/log.db`.
 * Appends and commits are group-committed by a writer thread (DurableLogWriter.ts): whatever arrives
 * while a transaction commits goes into the next one, and `append` succeeds only once its transaction
 * committed. Reads run here, synchronously, on a second connection (WAL: readers see every committed
 * transaction and never wait for the writer). Retention (`retain`) deletes what every live group
 * committed past once it is old enough, in bounded steps between the writer's jobs.
 */
import { mkdirSync, statSync } from "node:fs"
import { join } from "node:path"
import type { DatabaseSync, StatementSync } from "node:sqlite"
import { Worker } from "node:worker_threads"
import { Effect, Metric, type Scope } from "effect"
import {
  type CommitRow,
  type Durability,
  type FromWriter,
  MAX_PARTITION_IDS,
  type Packable,
  pack,
  pragmas,
  type RetainPlan,
  SCHEMA,
  SPAN,
  type Stats,
  type ToWriter,
} from "./DurableLogFormat.ts"
import { LocalGroups, type LocalLog, type Member } from "./LocalLog.ts"
import * as M from "./LogMetrics.ts"
import { partitionFor } from "./Partitioner.ts"
import { BusError, type Committed, type InRecord, type OutRecord } from "./Records.ts"
import { isCompacted, type TopicSpec } from "./Topics.ts"

const MINUTE = 60_000
/** Consumers are woken at most this often (see notifySoon). */
const WAKE_EVERY_MS = 25

/** How long records stay once every live group committed past them (ages count from the append). */
export interface Retention {
  /**
   * Delete topics (raw): the aggregator rewinds at most to its oldest open window (a 15 min window plus
   * 5 min lateness, ~21 min with the flush delay); 25 min leaves a margin for a new group to start from.
   */
  readonly committedMs: number
  /** Compacted topics (summaries): a key's latest record; superseded ones go as soon as committed past. */
  readonly compactedMs: number
  /** Topics never expired by age (`retention.ms` -1: the retry topics): deleted once committed past. */
  readonly unexpiringMs: number
  /** A group with no member in this process for this long (since open at the earliest) holds nothing back. */
  readonly groupIdleMs: number
}

export const defaultRetention: Retention = {
  committedMs: 25 * MINUTE,
  compactedMs: 60 * MINUTE,
  unexpiringMs: 0,
  groupIdleMs: 60 * MINUTE,
}

export interface DurableLogOptions {
  /** "process-crash" (default: WAL, synchronous=NORMAL) or "power-loss" (synchronous=FULL: fsync per commit). */
  readonly durability?: Durability
  readonly retention?: Partial<Retention>
  /** Milliseconds since the epoch; append times and retention ages use it (tests inject one). */
  readonly clock?: () => number
  /** At most this many records a transaction (an append larger than that gets one of its own). */
  readonly maxJobRecords?: number
  /** At most this many rows a retention step deletes before the writer takes the next appends. */
  readonly retainBudget?: number
}

const unavailable = (message: string, cause?: unknown) =>
  new BusError({ reason: "Unavailable", message: `embedded log: ${message}`, cause })

type Resume = (error: BusError | undefined) => void

interface Pending {
  readonly records: ReadonlyArray<Packable>
  readonly commits: ReadonlyArray<CommitRow>
  readonly resume: Resume
}

interface Topic {
  readonly spec: TopicSpec
  readonly compacted: boolean
  readonly pids: ReadonlyArray<number>
}

/** Loads node:sqlite without its one-line "experimental" warning on stderr (Node 22). */
const loadSqlite = async (): Promise<typeof import("node:sqlite")> => {
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

/** Group membership that also remembers when each group last had a member (for groupIdleMs). */
class TrackedGroups extends LocalGroups {
  readonly members = new Map<string, number>()
  readonly lastSeen = new Map<string, number>()
  private readonly clock: () => number
  constructor(clock: () => number) {
    super()
    this.clock = clock
  }
  override join(group: string): Member {
    const member = super.join(group)
    this.members.set(group, (this.members.get(group) ?? 0) + 1)
    this.lastSeen.set(group, this.clock())
    let left = false
    return {
      ...member,
      leave: () => {
        member.leave()
        if (left) return
        left = true
        this.members.set(group, (this.members.get(group) ?? 1) - 1)
        this.lastSeen.set(group, this.clock())
      },
    }
  }
  live(group: string, now: number, idleMs: number): boolean {
    return (this.members.get(group) ?? 0) > 0 || now - (this.lastSeen.get(group) ?? 0) < idleMs
  }
}

export class DurableLog implements LocalLog {
  readonly groups: TrackedGroups
  private readonly topics = new Map<string, Topic>()
  /** pid -> the offset the next record of that partition gets. */
  private readonly ends = new Map<number, number>()
  /** `group \0 topic \0 partition` -> commit. */
  private readonly commits = new Map<string, { offset: number; metadata: string }>()
  /** `topic \0 partition` -> the groups that committed on it. */
  private readonly committers = new Map<string, Set<string>>()
  private waiters: Array<() => void> = []
  private pending: Array<Pending> = []
  private inFlight: { readonly id: number; readonly items: ReadonlyArray<Pending> } | undefined
  private retention:
    | { plans: ReadonlyArray<RetainPlan>; next: number; id: number; done: Array<Resume> }
    | undefined
  private lastWasRetain = false
  private scheduled = false
  private nextJob = 0
  private failure: BusError | undefined
  private closing: (() => void) | undefined
  private stats: Stats | undefined
  /** pid -> the first offset retained, as of the last retention step that touched it. */
  private readonly starts = new Map<number, number>()
  private readonly retentionPolicy: Retention
  private readonly clock: () => number
  private readonly readAll: StatementSync
  private readonly readLive: StatementSync
  private readonly db: DatabaseSync
  private readonly worker: Worker
  readonly directory: string
  private readonly options: DurableLogOptions

  private constructor(db: DatabaseSync, worker: Worker, directory: string, options: DurableLogOptions) {
    this.db = db
    this.worker = worker
    this.directory = directory
    this.options = options
    this.clock = options.clock ?? Date.now
    this.groups = new TrackedGroups(this.clock)
    this.retentionPolicy = { ...defaultRetention, ...options.retention }
    const select = "SELECT id, key, value, ts FROM records WHERE id >= ? AND id < ?"
    this.readAll = db.prepare(`${select} ORDER BY id LIMIT ?`)
    this.readLive = db.prepare(`${select} AND dead = 0 ORDER BY id LIMIT ?`)
    this.readAll.setReturnArrays(true)
    this.readLive.setReturnArrays(true)
    this.load()
    worker.on("message", (m: FromWriter) => this.onReply(m))
    worker.on("error", (cause) => this.fail(unavailable("the writer thread failed", cause)))
    worker.on("exit", () => this.fail(unavailable("the writer thread stopped")))
  }

  /** Opens (creating when missing) the log in `<dataDir>/log/`; closes it, after the last append, with the scope. */
  static readonly open = (
    dataDir: string,
    options: DurableLogOptions = {},
  ): Effect.Effect<DurableLog, BusError, Scope.Scope> =>
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const { DatabaseSync } = await loadSqlite()
          const directory = join(dataDir, "log")
          mkdirSync(directory, { recursive: true })
          const file = join(directory, "log.db")
          const durability = options.durability ?? "process-crash"
          const db = new DatabaseSync(file)
          db.exec("PRAGMA auto_vacuum = INCREMENTAL")
          db.exec(pragmas(durability))
          db.exec(SCHEMA)
          const worker = new Worker(new URL("./DurableLogWriter.ts", import.meta.url), {
            workerData: { file, durability },
            // Not the parent's execArgv: per-process flags (--expose-gc) are refused in a worker.
            execArgv: ["--disable-warning=ExperimentalWarning"],
          })
          await new Promise<void>((resolve, reject) => {
            worker.once("message", () => resolve())
            worker.once("error", reject)
          })
          return new DurableLog(db, worker, directory, options)
        },
        catch: (cause) => unavailable(`cannot open ${join(dataDir, "log")}`, cause),
      }),
      (log) => Effect.promise(() => log.close()),
    )

  private load(): void {
    const pids = new Map<string, Array<number>>()
    for (const row of this.db.prepare("SELECT pid, topic, partition FROM partitions ORDER BY pid").all()) {
      const list = pids.get(String(row.topic)) ?? []
      list[Number(row.partition)] = Number(row.pid)
      pids.set(String(row.topic), list)
    }
    for (const row of this.db.prepare("SELECT name, spec FROM topics").all()) {
      const spec = JSON.parse(String(row.spec)) as TopicSpec
      this.topics.set(spec.name, { spec, compacted: isCompacted(spec), pids: pids.get(spec.name) ?? [] })
    }
    const last = this.db.prepare("SELECT max(id) AS id FROM records WHERE id >= ? AND id < ?")
    const floor = this.db.prepare("SELECT floor FROM partitions WHERE pid = ?")
    for (const topic of this.topics.values())
      for (const pid of topic.pids) {
        const id = last.get(pid * SPAN, (pid + 1) * SPAN)?.id
        const end = id === null || id === undefined ? 0 : Number(id) - pid * SPAN + 1
        this.ends.set(pid, Math.max(end, Number(floor.get(pid)?.floor ?? 0)))
      }
    const now = this.clock()
    for (const row of this.db.prepare("SELECT grp, topic, partition, off, metadata FROM commits").all()) {
      this.remember(
        String(row.grp),
        String(row.topic),
        Number(row.partition),
        Number(row.off),
        String(row.metadata),
      )
      this.groups.lastSeen.set(String(row.grp), now)
    }
  }

  private remember(group: string, topic: string, partition: number, offset: number, metadata: string): void {
    this.commits.set(`${group}\u0000${topic}\u0000${partition}`, { offset, metadata })
    const at = `${topic}\u0000${partition}`
    const set = this.committers.get(at) ?? new Set()
    set.add(group)
    this.committers.set(at, set)
  }

  get available(): boolean {
    return this.failure === undefined && this.closing === undefined
  }

  topic(name: string): TopicSpec | undefined {
    return this.topics.get(name)?.spec
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

  /** Appends every record in one transaction with whatever else is pending; succeeds once it committed. */
  readonly append = (records: ReadonlyArray<OutRecord>): Effect.Effect<void, BusError> =>
    Effect.suspend(() => {
      const packed: Array<Packable> = []
      for (const r of records) {
        const t = this.topics.get(r.topic)
        if (!t)
          return Effect.fail(new BusError({ reason: "Rejected", message: `topic ${r.topic} does not exist` }))
        const pid = t.pids[partitionFor(r.key, t.pids.length)]!
        packed.push({ pid, compacted: t.compacted, key: r.key, value: r.value, timestamp: r.timestamp })
      }
      return packed.length === 0 ? Effect.void : this.enqueue(packed, [])
    })

  readonly commit = (group: string, offsets: ReadonlyArray<Committed>): Effect.Effect<void, BusError> =>
    Effect.suspend(() =>
      offsets.length === 0
        ? Effect.void
        : this.enqueue(
            [],
            offsets.map((o) => ({
              group,
              topic: o.topic,
              partition: o.partition,
              offset: o.offset,
              metadata: o.metadata,
            })),
          ),
    )

  private enqueue(
    records: ReadonlyArray<Packable>,
    commits: ReadonlyArray<CommitRow>,
  ): Effect.Effect<void, BusError> {
    return Effect.callback<void, BusError>((resume) => {
      if (!this.available) return resume(Effect.fail(this.failure ?? unavailable("closed")))
      this.pending.push({
        records,
        commits,
        resume: (error) => resume(error ? Effect.fail(error) : Effect.void),
      })
      this.schedule()
    })
  }

  /** Sends the next job soon (same-turn arrivals share it), unless one is in flight: it goes when that ends. */
  private schedule(): void {
    if (this.scheduled || this.inFlight) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.pump()
    })
  }

  private pump(): void {
    if (this.inFlight || this.failure) return
    const retention = this.retention
    if (retention && this.closing) {
      // Closing: what is pending still commits; the rest of a retention pass waits for the next open.
      this.retention = undefined
      for (const done of retention.done) done(unavailable("closed"))
      this.pump()
      return
    }
    if (retention && (this.lastWasRetain === false || this.pending.length === 0)) {
      this.lastWasRetain = true
      const id = this.nextJob++
      retention.id = id
      this.inFlight = { id, items: [] }
      this.post({
        t: "retain",
        id,
        plans: retention.plans.slice(retention.next),
        budget: this.options.retainBudget ?? 5000,
      })
      return
    }
    if (this.pending.length > 0) {
      this.lastWasRetain = false
      const max = this.options.maxJobRecords ?? 4096
      let n = 0
      let take = 0
      while (take < this.pending.length && (take === 0 || n + this.pending[take]!.records.length <= max))
        n += this.pending[take++]!.records.length
      const items = this.pending.slice(0, take)
      this.pending = this.pending.slice(take)
      const { buf, used } = pack(items.flatMap((i) => i.records))
      const id = this.nextJob++
      this.inFlight = { id, items }
      this.post({ t: "job", id, buf, used, commits: items.flatMap((i) => i.commits), at: this.clock() }, [
        buf,
      ])
      return
    }
    if (this.closing) this.post({ t: "close" })
  }

  private post(message: ToWriter, transfer: Array<ArrayBuffer> = []): void {
    this.worker.postMessage(message, transfer)
  }

  private onReply(m: FromWriter): void {
    const flight = this.inFlight
    if (m.t === "closed" || m.t === "ready") return
    this.inFlight = undefined
    if (m.t === "done") {
      for (const [pid, end] of m.ends) this.ends.set(pid, Math.max(this.ends.get(pid) ?? 0, end))
      const now = this.clock()
      for (const item of flight?.items ?? [])
        for (const c of item.commits) {
          this.remember(c.group, c.topic, c.partition, c.offset, c.metadata)
          this.groups.lastSeen.set(c.group, now)
        }
      for (const item of flight?.items ?? []) item.resume(undefined)
      if (m.ends.length > 0) this.notifySoon()
    } else if (m.t === "failed") {
      const retention = this.retention
      if (retention && retention.id === m.id) {
        this.retention = undefined
        for (const done of retention.done) done(unavailable(`retention failed: ${m.message}`))
      } else for (const item of flight?.items ?? []) item.resume(unavailable(`append failed: ${m.message}`))
    } else if (m.t === "retained") {
      const retention = this.retention!
      retention.next += m.next
      this.stats = m.stats
      for (const [pid, first] of m.stats.starts) this.starts.set(pid, first)
      this.deletedSinceReport += m.deleted
      if (retention.next >= retention.plans.length) {
        this.retention = undefined
        for (const done of retention.done) done(undefined)
      }
    }
    this.pump()
  }

  private deletedSinceReport = 0

  private fail(error: BusError): void {
    if (this.failure || this.closing) return
    this.failure = error
    const items = [...(this.inFlight?.items ?? []), ...this.pending]
    this.inFlight = undefined
    this.pending = []
    for (const item of items) item.resume(error)
    for (const done of this.retention?.done ?? []) done(error)
    this.retention = undefined
    this.notify()
  }

  /**
   * Consumers are woken at most every WAKE_EVERY_MS: each wake reads every partition that grew, so
   * waking on every transaction (a few records per partition each) would hand the stages thousands of
   * tiny batches a second. Records become readable when their transaction's reply arrives either way.
   */
  private notifySoon(): void {
    if (this.wakeTimer) return
    const wait = this.lastWake + WAKE_EVERY_MS - performance.now()
    if (wait <= 0) this.notify()
    else
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = undefined
        this.notify()
      }, wait)
  }

  private wakeTimer: NodeJS.Timeout | undefined
  private lastWake = Number.NEGATIVE_INFINITY

  private notify(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeTimer = undefined
    this.lastWake = performance.now()
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  onAppend(wake: () => void): () => void {
    this.waiters.push(wake)
    return () => {
      this.waiters = this.waiters.filter((w) => w !== wake)
    }
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
    if (!t || pid === undefined || this.failure) return { records: [], next: from }
    // Nothing past the end the writer reported (consumers poll every partition on every append): no
    // statement. Records become readable when their transaction's reply arrives, before its appends resolve.
    if (from >= (this.ends.get(pid) ?? 0)) return { records: [], next: from }
    const base = pid * SPAN
    const rows = (t.compacted ? this.readLive : this.readAll).all(
      base + from,
      base + SPAN,
      max,
    ) as unknown as Array<[number, string, Uint8Array, number]>
    const records: Array<InRecord> = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!
      records[i] = { key: r[1], value: r[2], timestamp: r[3], offset: r[0] - base }
    }
    let next = rows.length > 0 ? records[rows.length - 1]!.offset + 1 : from
    // Rows committed before the writer's answer arrived may be past the cached end: move it on.
    const end = Math.max(this.ends.get(pid) ?? 0, next)
    this.ends.set(pid, end)
    // Fewer than asked: everything up to the end was read (superseded records were skipped).
    if (rows.length < max) next = Math.max(next, end)
    return { records, next }
  }

  committed(
    group: string,
    topic: string,
    partition: number,
  ): { offset: number; metadata: string } | undefined {
    return this.commits.get(`${group}\u0000${topic}\u0000${partition}`)
  }

  /** What one retention pass deletes (see Retention): one or two prefix plans per partition. */
  plans(now: number): Array<RetainPlan> {
    const policy = this.retentionPolicy
    const plans: Array<RetainPlan> = []
    const start = this.starts
    for (const [name, t] of this.topics) {
      const retentionMs = Number(t.spec.config["retention.ms"] ?? Number.NaN)
      const minAge = t.compacted
        ? policy.compactedMs
        : retentionMs === -1
          ? policy.unexpiringMs
          : policy.committedMs
      for (const [partition, pid] of t.pids.entries()) {
        const end = this.ends.get(pid) ?? 0
        if ((start.get(pid) ?? -1) >= end) continue
        let below = Number.POSITIVE_INFINITY
        for (const group of this.committers.get(`${name}\u0000${partition}`) ?? [])
          if (this.groups.live(group, now, policy.groupIdleMs))
            below = Math.min(below, this.commits.get(`${group}\u0000${name}\u0000${partition}`)!.offset)
        if (below !== Number.POSITIVE_INFINITY)
          plans.push({ pid, below: Math.min(below, end), before: now - minAge, superseded: t.compacted })
        // Kafka's retention.ms still caps how long anything is kept, committed or not.
        if (!t.compacted && retentionMs >= 0)
          plans.push({ pid, below: end, before: now - retentionMs, superseded: false })
      }
    }
    return plans
  }

  /** One retention pass, run to its end in bounded steps between appends; then the gauges are set. */
  readonly retain: Effect.Effect<void, BusError> = Effect.gen({ self: this }, function* () {
    yield* Effect.callback<void, BusError>((resume) => {
      if (!this.available) return resume(Effect.fail(this.failure ?? unavailable("closed")))
      const done: Resume = (error) => resume(error ? Effect.fail(error) : Effect.void)
      if (this.retention) {
        this.retention.done.push(done)
        return
      }
      this.retention = { plans: this.plans(this.clock()), next: 0, id: -1, done: [done] }
      this.schedule()
    })
    yield* this.report
  })

  /** The gauges: disk bytes, free bytes inside the file, records per topic. */
  private readonly report = Effect.suspend(() => {
    const stats = this.stats
    if (!stats) return Effect.void
    let bytes = 0
    for (const suffix of ["", "-wal", "-shm"])
      try {
        bytes += statSync(join(this.directory, `log.db${suffix}`)).size
      } catch {
        // not there (the WAL is truncated at close)
      }
    const counts = new Map(stats.counts)
    const deleted = this.deletedSinceReport
    this.deletedSinceReport = 0
    return Effect.all(
      [
        Metric.update(M.diskBytes, bytes),
        Metric.update(M.freeBytes, stats.freePages * stats.pageSize),
        Metric.update(M.deleted, deleted),
        ...[...this.topics].map(([name, t]) =>
          Metric.update(
            Metric.withAttributes(M.records, { topic: name }),
            t.pids.reduce((n, pid) => n + (counts.get(pid) ?? 0), 0),
          ),
        ),
      ],
      { discard: true },
    )
  })

  /** Records retained, by topic, as of the last retention pass (tests and the benchmark read it). */
  recordCounts(): Map<string, number> {
    const counts = new Map(this.stats?.counts ?? [])
    return new Map(
      [...this.topics].map(([name, t]) => [name, t.pids.reduce((n, pid) => n + (counts.get(pid) ?? 0), 0)]),
    )
  }

  /** Bytes of the database file and its WAL now. */
  diskBytes(): number {
    let bytes = 0
    for (const suffix of ["", "-wal"])
      try {
        bytes += statSync(join(this.directory, `log.db${suffix}`)).size
      } catch {
        // not there
      }
    return bytes
  }

  /** Finishes what is pending, closes the writer and the reader. */
  close(): Promise<void> {
    if (this.closing) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const finish = () => {
        if (this.wakeTimer) clearTimeout(this.wakeTimer)
        this.wakeTimer = undefined
        this.worker.terminate().finally(() => {
          this.db.close()
          resolve()
        })
      }
      if (this.failure) {
        this.closing = () => {}
        return finish()
      }
      this.closing = finish
      this.worker.on("message", (m: FromWriter) => {
        if (m.t === "closed") finish()
      })
      if (!this.inFlight) this.pump()
    })
  }
}
