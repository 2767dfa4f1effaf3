/**
 * The aggregation state of one raw-topic partition, as plain TypeScript: records in (in offset order),
 * versioned summary snapshots and a commit point out. DESIGN.md semantics 1, 3, 4, 5 and 10:
 * - stream time is the largest event time seen; a record counts if its window has not closed;
 * - 1m and 15m windows; a changed window is emitted after flushAfter and when it closes;
 * - every snapshot's version is the series' sample count, which only grows, and a replay from the
 *   commit point reaches the same count with the same content, so re-emissions are idempotent;
 * - a retried drain batch (same Frame-Id, another delivery) counts once: per record key the first
 *   delivery seen on the partition wins, which a replay decides the same way.
 */
import type { InRecord, OutRecord } from "../bus/Records.ts"
import { summaryTopic } from "../bus/Topics.ts"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import * as Wire from "../proto/Wire.ts"
import { Series } from "../stream/Accumulators.ts"
import { decodeResume, encodeResume, type Resume } from "../stream/CommitPoint.ts"
import { PartitionWindows, type Period, type Window } from "../stream/EventTimeWindows.ts"
import { visitSamples } from "./Samples.ts"

export const PERIODS: ReadonlyArray<Period> = [
  { name: "1m", sizeMs: 60_000 },
  { name: "15m", sizeMs: 15 * 60_000 },
]
const WIRE_PERIOD = [Wire.Period.PERIOD_1M, Wire.Period.PERIOD_15M]
export const LATENESS_MS = 5 * 60_000

interface WindowState {
  /** series by record key (owner:process_type), then metric, then label: interned strings, cheap lookups */
  readonly series: Map<string, Map<string, Map<string, Series>>>
}

/** Every series of a window. */
export function* seriesOf(state: WindowState): Generator<Series> {
  for (const byMetric of state.series.values())
    for (const byLabel of byMetric.values()) yield* byLabel.values()
}

export interface RollupCounters {
  /** Records dropped as too late, by `owner:processType:type:period`. */
  readonly late: Map<string, number>
  duplicates: number
}

export class PartitionRollup {
  readonly windows = new PartitionWindows<WindowState>({ periods: PERIODS, latenessMs: LATENESS_MS }, () => ({
    series: new Map(),
  }))
  /** The next offset to process. */
  nextOffset: number
  /** Records before this offset were processed before a restart (see CommitPoint.ts). */
  private readonly replayUntil: number
  private readonly firstDelivery = new Map<string, { delivery: string; untilMs: number }>()
  private dirtyWindows = 0
  /** The samples of the record being processed (reused: no allocation per record). */
  private samples = 0
  private readonly metrics: Array<string> = []
  private readonly labels: Array<string> = []
  private readonly values: Array<number> = []
  private readonly sketched: Array<boolean> = []
  private readonly visit = (metric: string, label: string, value: number, sketched: boolean) => {
    const i = this.samples++
    this.metrics[i] = metric
    this.labels[i] = label
    this.values[i] = value
    this.sketched[i] = sketched
  }

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

  /** Folds one record (records must come in offset order) at processing time `nowMs`. */
  process(record: InRecord, nowMs: number): void {
    if (record.offset < this.nextOffset) return // a redelivery after a consumer restart
    this.nextOffset = record.offset + 1
    const replaying = record.offset < this.replayUntil
    this.samples = 0
    const origin = visitSamples(this.type, record.value, this.visit)
    const samples = this.samples
    const t = Math.floor(origin.timeUs / 1000)
    const windows = this.windows
    windows.observe(t)

    if (origin.frameId !== "") {
      const id = `${record.key}\u0000${origin.drain}\u0000${origin.frameId}`
      const first = this.firstDelivery.get(id)
      const untilMs = t - (t % PERIODS[1]!.sizeMs) + PERIODS[1]!.sizeMs + LATENESS_MS
      if (!first) this.firstDelivery.set(id, { delivery: origin.delivery, untilMs })
      else if (first.delivery !== origin.delivery) {
        if (!replaying) this.counters.duplicates++
        return
      } else if (untilMs > first.untilMs) first.untilMs = untilMs
    }

    for (let period = 0; period < PERIODS.length; period++) {
      const w = windows.windowFor(period, t, record.offset)
      if (!w) {
        if (!replaying) {
          const key = `${origin.owner}:${origin.processType}:${this.type}:${PERIODS[period]!.name}`
          this.counters.late.set(key, (this.counters.late.get(key) ?? 0) + 1)
        }
        continue
      }
      let byMetric = w.state.series.get(record.key)
      if (!byMetric) {
        byMetric = new Map()
        w.state.series.set(record.key, byMetric)
      }
      for (let i = 0; i < samples; i++) {
        const metric = this.metrics[i]!
        const label = this.labels[i]!
        let byLabel = byMetric.get(metric)
        if (!byLabel) {
          byLabel = new Map()
          byMetric.set(metric, byLabel)
        }
        let series = byLabel.get(label)
        if (!series) {
          series = new Series(origin.owner, origin.processType, metric, label, this.sketched[i]!)
          byLabel.set(label, series)
        }
        series.add(this.values[i]!)
      }
      if (Number.isNaN(w.dirtySince) && samples > 0) {
        w.dirtySince = nowMs
        this.dirtyWindows++
      }
    }
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
    const st = this.windows.streamTimeMs
    for (const [id, first] of this.firstDelivery) if (first.untilMs <= st) this.firstDelivery.delete(id)
    return out
  }

  /** The offset and metadata to commit once everything collected so far is acknowledged. */
  commitPoint(): { offset: number; metadata: string } {
    const oldest = this.windows.oldestOpen()
    return {
      offset: this.windows.commitPoint(this.nextOffset),
      metadata: encodeResume({
        streamTimeMs: this.windows.streamTimeMs,
        upto: this.nextOffset,
        oldestOpenMs: oldest ? oldest.startMs : null,
      }),
    }
  }

  private emit(w: Window<WindowState>, out: Array<OutRecord>): void {
    const period = PERIODS[w.period]!.name
    for (const series of seriesOf(w.state)) {
      if (!series.dirty) continue
      const s = series.stats
      series.emitted = s.count
      out.push({
        topic: this.summaryTopic,
        key: `${series.owner}:${series.processType}:${series.metric}:${series.label}:${period}:${w.startMs}`,
        timestamp: w.startMs,
        value: Wire.Summary.encode({
          owner: series.owner,
          processType: series.processType,
          metric: series.metric,
          label: series.label,
          period: WIRE_PERIOD[w.period]!,
          startMs: w.startMs,
          count: s.count,
          sum: s.sum,
          sumsq: s.sumsq,
          min: s.min,
          max: s.max,
          sketch: series.sketch ? series.sketch.toBytes() : new Uint8Array(),
          version: s.count,
        }).finish(),
      })
    }
  }
}
