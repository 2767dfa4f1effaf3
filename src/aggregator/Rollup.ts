/**
 * The aggregation state of one raw-topic partition, as plain TypeScript: records in (in offset order),
 * versioned summary snapshots and a commit point out. DESIGN.md semantics 1, 3, 4, 5 and 10:
 * - stream time is the largest event time seen, each capped at its record's ingest time (the record
 *   timestamp the ingress sets), so no tenant's clock moves it; a record counts if its window has not closed;
 * - 1m and 15m windows; a changed window is emitted after flushAfter and when it closes;
 * - every snapshot's version is the series' sample count, which only grows, and a replay from the
 *   commit point reaches the same count with the same content, so re-emissions are idempotent;
 * - a retried drain batch (same Frame-Id, another delivery) counts once: per record key the first
 *   delivery seen on the partition wins (its first run of records, see firstDelivery), which a replay
 *   decides the same way.
 *
 * The per-record path allocates nothing in the common case: the record is decoded in place (Samples.ts
 * `Scan`), its key's slot holds the series, the partition's DigestTables the drain batches its keys saw,
 * each series remembers its accumulator in the window it wrote last, and a key remembers the bytes of
 * the last drain batch it saw.
 */
import { hash } from "node:crypto"
import type { InRecord, OutRecord } from "../bus/Records.ts"
import { summaryTopic } from "../bus/Topics.ts"
import { DigestTable } from "../domain/DigestTable.ts"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { sameBytes } from "../proto/ProtoBytes.ts"
import * as Wire from "../proto/Wire.ts"
import { Accumulator } from "./Accumulators.ts"
import { decodeResume, encodeResume, type Resume } from "./CommitPoint.ts"
import { PartitionWindows, type Period, type Window } from "./EventTimeWindows.ts"
import { METRIC_NAMES, Scan, SKETCHED } from "./Samples.ts"
import { encodeSummary, summaryHead } from "./SummaryBytes.ts"

export const PERIODS: ReadonlyArray<Period> = [
  { name: "1m", sizeMs: 60_000 },
  { name: "15m", sizeMs: 15 * 60_000 },
]
const WIRE_PERIOD = [Wire.Period.PERIOD_1M, Wire.Period.PERIOD_15M]
export const LATENESS_MS = 5 * 60_000
const LONGEST = PERIODS[1]!.sizeMs

/**
 * The drain batches (drain, Frame-Id) the record keys of this partition saw whose records' windows have
 * all closed by `untilMin` (stream time in whole minutes: a 15m window's end plus the lateness). These
 * are most of what the aggregator holds at high rates (one per record key a drain batch reached, kept
 * until every window of its records has closed), so they live outside the JavaScript heap (a DigestTable
 * set, 8 bytes an entry): the record key's number on this partition folded into the batch's 64-bit digest
 * (SHA-256 of `drain\0frameId`). Which delivery came first needs no memory: it is the first run of the
 * key's records of the batch (see firstDelivery). A group is dropped whole. A new batch is taken for a
 * retry only if its folded digest equals one of the partition's remembered ones: at 60,000 lines/s,
 * ~2,600 new (record key, batch) pairs a second over 128 partitions, each lookup meets at most ~25,000
 * entries (20 minutes), odds of 1.4 * 10^-15 a lookup, about once in 9,000 years.
 */
class Generation {
  readonly untilMin: number
  readonly firsts = new DigestTable("set")
  dropped = false
  constructor(untilMin: number) {
    this.untilMin = untilMin
  }
}

/** One series (record key, metric, label): its summary identity and its accumulator in each period's last window. */
class SeriesSlot {
  readonly key: KeySlot
  readonly metric: number
  readonly label: string
  /** The Summary fields 1-4, encoded on first emission. */
  head: Uint8Array | undefined
  /** `owner:process_type:metric:label:` */
  readonly keyPrefix: string
  /** Its accumulator in the 1m and the 15m window it wrote last. */
  last0: Cell | undefined
  last1: Cell | undefined

  constructor(key: KeySlot, metric: number, label: string) {
    this.key = key
    this.metric = metric
    this.label = label
    this.keyPrefix = `${key.owner}:${key.processType}:${METRIC_NAMES[metric]}:${label}:`
  }
}

/** A series' accumulator in one window. */
class Cell extends Accumulator {
  readonly series: SeriesSlot
  readonly window: Window<WindowState>
  constructor(series: SeriesSlot, window: Window<WindowState>) {
    super(SKETCHED[series.metric]!)
    this.series = series
    this.window = window
  }
}

interface WindowState {
  /** Every series' accumulator, in the order they appeared. */
  readonly cells: Array<Cell>
  readonly bySeries: Map<SeriesSlot, Cell>
  /** `:1m:<start>`: the end of every summary key of this window. */
  readonly keySuffix: string
}

/** Everything about one record key (`owner:process_type`) on this partition. */
class KeySlot {
  /** The record key. */
  readonly id: string
  readonly owner: string
  readonly processType: string
  /** Its number on the partition (>= 1): its drain batches' owner in the partition's DigestTables. */
  readonly number: number
  /** Series without a label, by metric id; labelled series by metric id, then label. */
  private readonly plain: Array<SeriesSlot | undefined> = METRIC_NAMES.map(() => undefined)
  private readonly labelled: Array<Map<string, SeriesSlot> | undefined> = METRIC_NAMES.map(() => undefined)
  /** Where the batch looked up last is held, whether that delivery was its first, and the bytes it was looked up by. */
  lastGeneration: Generation | undefined
  lastFirst = false
  lastBytes = new Uint8Array(128)
  lastDrain = 0
  lastFrameId = 0
  lastDelivery = 0
  /** Stream time after which every window its records touched has closed (then the slot is dropped). */
  untilMs = Number.NEGATIVE_INFINITY

  constructor(id: string, owner: string, processType: string, number: number) {
    this.id = id
    this.owner = owner
    this.processType = processType
    this.number = number
  }

  series(metric: number, label: string): SeriesSlot {
    if (label === "") return (this.plain[metric] ??= new SeriesSlot(this, metric, ""))
    const byLabel = (this.labelled[metric] ??= new Map())
    let s = byLabel.get(label)
    if (s === undefined) {
      s = new SeriesSlot(this, metric, label)
      byLabel.set(label, s)
    }
    return s
  }

  /**
   * Whether `s` comes from the delivery the last lookup was made for. A delivery id names one POST, and
   * a POST carries one drain and one Frame-Id (origin.proto), so equal delivery bytes mean the same
   * batch; without a delivery id the drain and Frame-Id bytes are compared.
   */
  sameBatch(s: Scan): boolean {
    const drain = s.drainEnd - s.drainStart
    const frame = s.frameEnd - s.frameStart
    const delivery = s.deliveryEnd - s.deliveryStart
    const b = this.lastBytes
    if (drain !== this.lastDrain || frame !== this.lastFrameId || delivery !== this.lastDelivery) return false
    if (!sameBytes(s.bytes, s.deliveryStart, s.deliveryEnd, b, drain + frame)) return false
    return (
      delivery > 0 ||
      (sameBytes(s.bytes, s.frameStart, s.frameEnd, b, drain) &&
        sameBytes(s.bytes, s.drainStart, s.drainEnd, b, 0))
    )
  }

  remember(s: Scan, at: Generation, first: boolean): void {
    const drain = s.drainEnd - s.drainStart
    const frameId = s.frameEnd - s.frameStart
    const delivery = s.deliveryEnd - s.deliveryStart
    if (this.lastBytes.length < drain + frameId + delivery)
      this.lastBytes = new Uint8Array(drain + frameId + delivery)
    this.lastBytes.set(s.bytes.subarray(s.drainStart, s.drainEnd), 0)
    this.lastBytes.set(s.bytes.subarray(s.frameStart, s.frameEnd), drain)
    this.lastBytes.set(s.bytes.subarray(s.deliveryStart, s.deliveryEnd), drain + frameId)
    this.lastDrain = drain
    this.lastFrameId = frameId
    this.lastDelivery = delivery
    this.lastGeneration = at
    this.lastFirst = first
  }
}

const RECENT = 4

export interface RollupCounters {
  /** Records dropped as too late, by `owner:processType:type:period`. */
  readonly late: Map<string, number>
  duplicates: number
}

export class PartitionRollup {
  readonly windows = new PartitionWindows<WindowState>(
    { periods: PERIODS, latenessMs: LATENESS_MS },
    (period, startMs) => ({
      cells: [],
      bySeries: new Map(),
      keySuffix: `${PERIODS[period]!.name}:${startMs}`,
    }),
  )
  /** The next offset to process. */
  nextOffset: number
  /** Records before this offset were processed before a restart (see CommitPoint.ts). */
  private readonly replayUntil: number
  private readonly keys = new Map<string, KeySlot>()
  /** The slots of the last keys looked up (see keyOf). */
  private readonly recent: Array<KeySlot | undefined> = Array.from({ length: RECENT }, () => undefined)
  private nextRecent = 0
  /** The drain batches its keys saw, by the time they may be forgotten (rarely more than two). */
  private generations: Array<Generation> = []
  /** The number of the next new record key (see KeySlot.number). */
  private nextKey = 1
  /** The last drain and Frame-Id hashed: `drain\0frameId` (see batchDigest). */
  private idBytes = new Uint8Array(256)
  private idLength = -1
  /** The digest of the batch in `idBytes` (see batchDigest). */
  private readonly digest = new Uint32Array(2)
  /** floor((stream time - lateness) / 15m) when batches and keys were last swept. */
  private swept = Number.NEGATIVE_INFINITY
  private dirtyWindows = 0
  /** `t - t % 15m` of the last record (most records fall in the same quarter). */
  private quarterStart = Number.NaN
  private readonly scan = new Scan()
  /** The series of the record being processed (reused). */
  private readonly series: Array<SeriesSlot | undefined> = [undefined, undefined, undefined, undefined]
  private lastPoint:
    | { offset: number; upto: number; st: number; oldest: number; metadata: string }
    | undefined

  readonly topic: string
  readonly type: RolledUpType
  readonly partition: number
  readonly counters: RollupCounters = { late: new Map(), duplicates: 0 }

  private readonly summaryTopic: string

  constructor(
    type: RolledUpType,
    topic: string,
    partition: number,
    committed?: { offset: number; metadata: string },
    prefix = "",
  ) {
    this.type = type
    this.summaryTopic = summaryTopic(type, prefix)
    this.topic = topic
    this.partition = partition
    const resume: Resume | undefined = decodeResume(committed?.metadata)
    this.nextOffset = committed?.offset ?? 0
    this.replayUntil = resume?.upto ?? 0
    if (resume) this.windows.streamTimeMs = resume.streamTimeMs
  }

  /**
   * Folds one record (records must come in offset order) at processing time `nowMs`: each of its
   * measurements in order, as if each were a record of its own at the record's offset.
   */
  process(record: InRecord, nowMs: number): void {
    if (record.offset < this.nextOffset) return // a redelivery after a consumer restart
    this.nextOffset = record.offset + 1
    const s = this.scan
    s.read(this.type, record.value)
    const key = this.keyOf(record.key, s)
    const n = s.nextCount
    // The delivery's first answer for this key decides for all its measurements (they are one batch).
    for (let i = -1; i < n; i++) {
      if (i >= 0) s.readNext(i)
      if (!this.measurement(record, key, s, nowMs, i < 0)) {
        // A retried delivery: so is the rest of the record. Its lines move stream time and their key's
        // horizon as any line does, and count nowhere (duplicates are counted line by line).
        if (record.offset >= this.replayUntil) this.counters.duplicates += n - i - 1
        for (let j = i + 1; j < n; j++) {
          s.readNext(j)
          this.observe(record, key, Math.floor(s.timeUs / 1000))
        }
        return
      }
    }
  }

  /**
   * Moves stream time for a line at `t` of `record` (never ahead of the ingest clock: the record's
   * timestamp, set by the ingress, so a line stamped in the future counts in its own window without
   * making another app's lines late) and its key's horizon; the instant its windows all close.
   */
  private observe(record: InRecord, key: KeySlot, t: number): number {
    this.windows.observe(Math.min(t, record.timestamp))
    if (!(t >= this.quarterStart && t < this.quarterStart + LONGEST)) this.quarterStart = t - (t % LONGEST)
    const untilMs = this.quarterStart + LONGEST + LATENESS_MS
    if (untilMs > key.untilMs) key.untilMs = untilMs
    return untilMs
  }

  /** Folds the scanned measurement; false when it belongs to a retried delivery (and so does the rest of its record). */
  private measurement(
    record: InRecord,
    key: KeySlot,
    s: Scan,
    nowMs: number,
    firstOfRecord: boolean,
  ): boolean {
    const replaying = record.offset < this.replayUntil
    const t = Math.floor(s.timeUs / 1000)
    const windows = this.windows
    const untilMs = this.observe(record, key, t)
    if (s.frameEnd !== s.frameStart && !this.firstDelivery(key, s, untilMs / 60_000, !firstOfRecord)) {
      if (!replaying) this.counters.duplicates++
      return false
    }

    const n = s.count
    let resolved = false
    for (let period = 0; period < PERIODS.length; period++) {
      const w = windows.windowFor(period, t, record.offset)
      if (w === undefined) {
        if (!replaying) {
          const late = `${key.owner}:${key.processType}:${this.type}:${PERIODS[period]!.name}`
          this.counters.late.set(late, (this.counters.late.get(late) ?? 0) + 1)
        }
        continue
      }
      if (!resolved) {
        for (let i = 0; i < n; i++) this.series[i] = key.series(s.metric[i]!, s.label[i]!)
        resolved = true
      }
      for (let i = 0; i < n; i++) {
        const series = this.series[i]!
        let cell = period === 0 ? series.last0 : series.last1
        if (cell === undefined || cell.window !== w) cell = this.cell(series, w)
        cell.add(s.value[i]!)
      }
      if (n > 0 && Number.isNaN(w.dirtySince)) {
        w.dirtySince = nowMs
        this.dirtyWindows++
      }
    }
    return true
  }

  /**
   * The slot of a record key. The keys of the last few records are compared first: a drain batch holds
   * runs of a few keys (an app's process types), and comparing a string is cheaper than hashing it.
   */
  private keyOf(id: string, s: Scan): KeySlot {
    const recent = this.recent
    for (let i = 0; i < RECENT; i++) {
      const k = recent[i]
      if (k !== undefined && k.id === id) return k
    }
    let key = this.keys.get(id)
    if (key === undefined) {
      key = new KeySlot(id, s.owner, s.processType, this.nextKey)
      this.nextKey = (this.nextKey % 0xffff_ffff) + 1
      this.keys.set(id, key)
    }
    recent[this.nextRecent] = key
    this.nextRecent = (this.nextRecent + 1) % RECENT
    return key
  }

  /** The accumulator of `series` in `w`, created on first use. */
  private cell(series: SeriesSlot, w: Window<WindowState>): Cell {
    let cell = w.state.bySeries.get(series)
    if (cell === undefined) {
      cell = new Cell(series, w)
      w.state.bySeries.set(series, cell)
      w.state.cells.push(cell)
    }
    if (w.period === 0) series.last0 = cell
    else series.last1 = cell
    return cell
  }

  /**
   * Whether this record's delivery is the first of its drain batch for its key (remembered if new). A Bus
   * appends the records one produce call gives a record key one after another among that key's records
   * on its partition (BusApi.produce in Records.ts; the conformance suite checks it), and a delivery is
   * one produce call, so a delivery's records of a key are one run of them: a batch the key met before,
   * met again in a new run, is a retry; within a run the run's first answer stands. The batch is
   * remembered until every window of the key's records of it has closed: `untilMin` is the latest such
   * instant seen.
   */
  private firstDelivery(key: KeySlot, s: Scan, untilMin: number, sameRecord: boolean): boolean {
    const last = key.lastGeneration
    // A record's further measurements are of the batch its first one was looked up for.
    const sameRun = last !== undefined && (sameRecord || key.sameBatch(s))
    if (sameRun && !last.dropped && untilMin <= last.untilMin) return key.lastFirst
    const d = this.batchDigest(s)
    const n = key.number
    let found: Generation | undefined
    let slot = -1
    for (const g of this.generations) {
      slot = g.firsts.find(n, d[0]!, d[1]!)
      if (slot >= 0) {
        found = g
        break
      }
    }
    const first = sameRun ? key.lastFirst : found === undefined
    let at = found
    if (found === undefined || found.untilMin < untilMin) {
      at = this.generations.find((g) => g.untilMin === untilMin)
      if (at === undefined) {
        at = new Generation(untilMin)
        this.generations.push(at)
      }
      found?.firsts.remove(slot)
      at.firsts.insert(n, d[0]!, d[1]!)
    }
    key.remember(s, at!, first)
    return first
  }

  /** The record's batch digest (SHA-256 of `drain\0frameId`, 64 bits), computed once for a run of records of the same batch. */
  private batchDigest(s: Scan): Uint32Array {
    const drain = s.drainEnd - s.drainStart
    const frame = s.frameEnd - s.frameStart
    const length = drain + 1 + frame
    const b = this.idBytes
    if (
      length === this.idLength &&
      sameBytes(s.bytes, s.frameStart, s.frameEnd, b, drain + 1) &&
      sameBytes(s.bytes, s.drainStart, s.drainEnd, b, 0)
    )
      return this.digest
    if (b.length < length) this.idBytes = new Uint8Array(2 * length)
    const id = this.idBytes
    id.set(s.bytes.subarray(s.drainStart, s.drainEnd), 0)
    id[drain] = 0
    id.set(s.bytes.subarray(s.frameStart, s.frameEnd), drain + 1)
    this.idLength = length
    const batch = hash("sha256", id.subarray(0, length), "buffer")
    this.digest[0] = batch.readUInt32LE(0)
    this.digest[1] = batch.readUInt32LE(4)
    return this.digest
  }

  /**
   * Snapshots to emit now: every closed window's changed series (then the window is freed), and the
   * changed series of windows dirty for `flushAfterMs`; with `all`, every changed series (shutdown).
   */
  collect(nowMs: number, flushAfterMs: number, all = false): Array<OutRecord> {
    const out: Array<OutRecord> = []
    for (const w of this.windows.takeClosed()) {
      if (!Number.isNaN(w.dirtySince)) this.dirtyWindows--
      this.emit(w, out)
      for (const cell of w.state.cells) {
        if (cell.series.last0 === cell) cell.series.last0 = undefined
        if (cell.series.last1 === cell) cell.series.last1 = undefined
      }
    }
    if (this.dirtyWindows > 0) {
      const due = all
        ? [...this.windows.openWindows()].filter((w) => !Number.isNaN(w.dirtySince))
        : this.windows.dueForFlush(nowMs, flushAfterMs)
      for (const w of due) {
        this.emit(w, out)
        w.dirtySince = Number.NaN
        this.dirtyWindows--
      }
    }
    this.forget()
    return out
  }

  /**
   * Forgets drain batches whose windows have all closed (a generation whole), and keys whose windows and
   * batches have all closed. Every `until` is a 15m window end plus the lateness, so the keys passed
   * only change when stream time crosses one of these instants: keys are swept then.
   */
  private forget(): void {
    const st = this.windows.streamTimeMs
    if (this.generations.some((g) => g.untilMin * 60_000 <= st))
      this.generations = this.generations.filter((g) => {
        if (g.untilMin * 60_000 > st) return true
        g.dropped = true
        return false
      })
    const quarter = Math.floor((st - LATENESS_MS) / LONGEST)
    if (!(quarter > this.swept)) return
    this.swept = quarter
    for (const [id, key] of this.keys) {
      if (key.untilMs <= st) {
        this.keys.delete(id)
        const at = this.recent.indexOf(key)
        if (at >= 0) this.recent[at] = undefined
      }
    }
  }

  /** The offset and metadata to commit once everything collected so far is acknowledged. */
  commitPoint(): { offset: number; metadata: string } {
    const offset = this.windows.commitPoint(this.nextOffset)
    const upto = this.nextOffset
    const st = this.windows.streamTimeMs
    const oldest = this.windows.oldestOpen()?.startMs ?? Number.NaN
    const last = this.lastPoint
    if (last?.offset === offset && last.upto === upto && last.st === st && Object.is(last.oldest, oldest))
      return { offset, metadata: last.metadata }
    const metadata = encodeResume({
      streamTimeMs: st,
      upto,
      oldestOpenMs: Number.isNaN(oldest) ? null : oldest,
    })
    this.lastPoint = { offset, upto, st, oldest, metadata }
    return { offset, metadata }
  }

  /** Whether some open window changed since its last emission (a flush may be due). */
  get changed(): boolean {
    return this.dirtyWindows > 0
  }

  /** How many record keys are remembered (their windows or drain batches are not all closed yet). */
  get keyCount(): number {
    return this.keys.size
  }

  /** How many (record key, drain batch) pairs are remembered (some window of their records has not closed yet). */
  get batchCount(): number {
    let n = 0
    for (const g of this.generations) n += g.firsts.size
    return n
  }

  /** How many series have an accumulator in an open window (for the memory benchmark and operators). */
  activeSeries(): number {
    const seen = new Set<SeriesSlot>()
    for (const w of this.windows.openWindows()) for (const cell of w.state.cells) seen.add(cell.series)
    return seen.size
  }

  private emit(w: Window<WindowState>, out: Array<OutRecord>): void {
    const period = WIRE_PERIOD[w.period]!
    const topic = this.summaryTopic
    for (const cell of w.state.cells) {
      if (cell.count === cell.emitted) continue
      cell.emitted = cell.count
      const series = cell.series
      series.head ??= summaryHead(
        series.key.owner,
        series.key.processType,
        METRIC_NAMES[series.metric]!,
        series.label,
      )
      out.push({
        topic,
        key: series.keyPrefix + w.state.keySuffix,
        timestamp: w.startMs,
        value: encodeSummary(series.head, period, w.startMs, cell),
      })
    }
  }
}
