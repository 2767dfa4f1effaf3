/**
 * The durable embedded log (`npm start`'s bus): a LocalLog in one SQLite file, `<dataDir>/log/log.db`.
 * Appends and commits are group-committed by a writer thread (DurableLogWriter.ts, driven through
 * DurableLogLink.ts): whatever arrives while a transaction commits goes into the next one, and `append`
 * succeeds only once its transaction committed. Reads run here, synchronously, on a second connection
 * (DurableLogReader.ts; WAL: readers see every committed transaction and never wait for the writer).
 * Retention (`retain`, DurableLogRetention.ts) deletes what every live group committed past once it is
 * old enough, in bounded steps between the writer's jobs.
 */
import { join } from "node:path"
import { Worker } from "node:worker_threads"
import { Effect, type Scope } from "effect"
import { partitionOf } from "../Contract.ts"
import { type LocalLog, Wakeups } from "../LocalLog.ts"
import { BusError, type Committed, type OutRecord } from "../Records.ts"
import type { TopicSpec } from "../Topics.ts"
import type { CommitRow, Durability, Packable, RetainPlan, Stats } from "./DurableLogFormat.ts"
import { type LinkOptions, type Resume, unavailable, WriterLink } from "./DurableLogLink.ts"
import { LogReader, openDatabase } from "./DurableLogReader.ts"
import {
  countsByTopic,
  defaultRetention,
  fileBytes,
  type Retention,
  retentionPlans,
  setGauges,
  TrackedGroups,
} from "./DurableLogRetention.ts"

export { defaultRetention, type Retention } from "./DurableLogRetention.ts"

/** Consumers are woken at most this often (see notifySoon). */
const WAKE_EVERY_MS = 25

export interface DurableLogOptions extends LinkOptions {
  /** "process-crash" (default: WAL, synchronous=NORMAL) or "power-loss" (synchronous=FULL: fsync per commit). */
  readonly durability?: Durability
  readonly retention?: Partial<Retention>
  /** Milliseconds since the epoch; append times and retention ages use it (tests inject one). */
  readonly clock?: () => number
}

export class DurableLog implements LocalLog {
  readonly groups: TrackedGroups
  readonly directory: string
  private readonly reader: LogReader
  private readonly link: WriterLink
  private readonly retentionPolicy: Retention
  private readonly clock: () => number
  private readonly appended = new Wakeups()
  private stats: Stats | undefined
  private deletedSinceReport = 0
  private wakeTimer: NodeJS.Timeout | undefined
  private lastWake = Number.NEGATIVE_INFINITY

  private constructor(reader: LogReader, worker: Worker, directory: string, options: DurableLogOptions) {
    this.directory = directory
    this.clock = options.clock ?? Date.now
    this.groups = new TrackedGroups(this.clock)
    this.retentionPolicy = { ...defaultRetention, ...options.retention }
    this.reader = reader
    this.link = new WriterLink(worker, options, this.clock, {
      committed: (ends, items) => {
        for (const [pid, end] of ends) reader.ends.set(pid, Math.max(reader.ends.get(pid) ?? 0, end))
        const now = this.clock()
        for (const item of items)
          for (const c of item.commits) {
            reader.remember(c.group, c.topic, c.partition, c.offset, c.metadata)
            this.groups.lastSeen.set(c.group, now)
          }
      },
      appended: () => this.notifySoon(),
      retained: (stats, deleted) => {
        this.stats = stats
        for (const [pid, first] of stats.starts) reader.starts.set(pid, first)
        this.deletedSinceReport += deleted
      },
      failed: () => this.notify(),
    })
  }

  /** Opens (creating when missing) the log in `<dataDir>/log/`; closes it, after the last append, with the scope. */
  static readonly open = (
    dataDir: string,
    options: DurableLogOptions = {},
  ): Effect.Effect<DurableLog, BusError, Scope.Scope> =>
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const directory = join(dataDir, "log")
          const durability = options.durability ?? "process-crash"
          const { file, db } = await openDatabase(directory, durability)
          const worker = new Worker(new URL("./DurableLogWriter.ts", import.meta.url), {
            workerData: { file, durability },
            // Not the parent's execArgv: per-process flags (--expose-gc) are refused in a worker.
            execArgv: ["--disable-warning=ExperimentalWarning"],
            // It makes little garbage (it is handed packed buffers): V8's default young generation
            // (32 MB of semi-spaces, as the main thread's) would only be resident memory.
            resourceLimits: { maxYoungGenerationSizeMb: 8 },
          })
          await new Promise<void>((resolve, reject) => {
            worker.once("message", () => resolve())
            worker.once("error", reject)
          })
          const clock = options.clock ?? Date.now
          const now = clock()
          const groups: Array<string> = []
          const reader = new LogReader(db, (group) => groups.push(group))
          const log = new DurableLog(reader, worker, directory, options)
          for (const group of groups) log.groups.lastSeen.set(group, now)
          return log
        },
        catch: (cause) => unavailable(`cannot open ${join(dataDir, "log")}`, cause),
      }),
      (log) => Effect.promise(() => log.close()),
    )

  get available(): boolean {
    return this.link.available
  }

  topic(name: string): TopicSpec | undefined {
    return this.reader.topics.get(name)?.spec
  }

  createTopic(spec: TopicSpec): boolean {
    return this.reader.createTopic(spec)
  }

  /** Appends every record in one transaction with whatever else is pending; succeeds once it committed. */
  readonly append = (records: ReadonlyArray<OutRecord>): Effect.Effect<void, BusError> =>
    Effect.suspend(() => {
      const packed: Array<Packable> = []
      for (const r of records) {
        const t = this.reader.topics.get(r.topic)
        if (!t)
          return Effect.fail(new BusError({ reason: "Rejected", message: `topic ${r.topic} does not exist` }))
        const pid = t.pids[partitionOf(r.key, t.pids.length)]!
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
      this.link.enqueue(records, commits, (error) => resume(error ? Effect.fail(error) : Effect.void))
    })
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

  private notify(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeTimer = undefined
    this.lastWake = performance.now()
    this.appended.wakeAll()
  }

  onAppend(wake: () => void): () => void {
    return this.appended.add(wake)
  }

  highWatermark(topic: string, partition: number): number {
    return this.reader.highWatermark(topic, partition)
  }

  /** Nothing once the writer failed; else the reader's records (see LogReader.read). */
  read(topic: string, partition: number, from: number, max: number): ReturnType<LogReader["read"]> {
    return this.link.failure ? { records: [], next: from } : this.reader.read(topic, partition, from, max)
  }

  committed(
    group: string,
    topic: string,
    partition: number,
  ): { offset: number; metadata: string } | undefined {
    return this.reader.committed(group, topic, partition)
  }

  /** What one retention pass deletes (see Retention): one or two prefix plans per partition. */
  plans(now: number): Array<RetainPlan> {
    return retentionPlans(this.reader, this.groups, this.retentionPolicy, now)
  }

  /** One retention pass, run to its end in bounded steps between appends; then the gauges are set. */
  readonly retain: Effect.Effect<void, BusError> = Effect.gen({ self: this }, function* () {
    yield* Effect.callback<void, BusError>((resume) => {
      const done: Resume = (error) => resume(error ? Effect.fail(error) : Effect.void)
      this.link.retain(() => this.plans(this.clock()), done)
    })
    yield* this.report
  })

  /** The gauges: disk bytes, free bytes inside the file, records per topic. */
  private readonly report = Effect.suspend(() => {
    const stats = this.stats
    if (!stats) return Effect.void
    const deleted = this.deletedSinceReport
    this.deletedSinceReport = 0
    return setGauges(this.directory, stats, this.reader.topics, deleted)
  })

  /** Records retained, by topic, as of the last retention pass (tests and the benchmark read it). */
  recordCounts(): Map<string, number> {
    return countsByTopic(this.stats, this.reader.topics)
  }

  /** Bytes of the database file and its WAL now. */
  diskBytes(): number {
    return fileBytes(this.directory, ["", "-wal"])
  }

  /** Finishes what is pending, closes the writer and the reader. */
  close(): Promise<void> {
    return this.link.close(
      () => {
        if (this.wakeTimer) clearTimeout(this.wakeTimer)
        this.wakeTimer = undefined
      },
      () => this.reader.db.close(),
    )
  }
}
