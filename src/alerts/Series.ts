/**
 * What the alerter keeps of the summaries: for each watched series (an owner's process type and an alert
 * metric some rule watches), the values of its last few 1-minute windows in a ring of minute slots —
 * bounded per series whatever the traffic, and nothing at all for series no rule watches. Per-record work
 * is plain TypeScript over the record's key and bytes: the key says the period and the series (a record
 * of a 15-minute window or of an unwatched series costs a few string scans and one map lookup), and only
 * a watched record's bytes are read (count, max, version; a latency sketch's bytes are copied and read at
 * evaluation, once a minute, not per record).
 *
 * A summary is a full snapshot whose version grows for its key: a slot keeps, per component and label,
 * the snapshot of the highest version seen, so replays and out-of-order duplicates change nothing.
 */
import { MergedSketch } from "../domain/Sketch.ts"
import { Cursor, FIXED64, LENGTH, VARINT } from "../proto/ProtoBytes.ts"
import type { AlertMetric } from "./Rules.ts"

const MINUTE = 60_000

/** The fields of a Summary the alerter reads, from `scan`. */
class Scanned {
  count = 0
  min = 0
  max = 0
  version = 0
  sketchStart = 0
  sketchEnd = 0
}

const cursor = new Cursor()
const scanned = new Scanned()

/** Reads count, min, max, version and the sketch's byte range of a Summary message (throws on malformed bytes). */
export const scan = (bytes: Uint8Array): Scanned => {
  const c = cursor
  c.reset(bytes)
  const s = scanned
  s.count = 0
  s.min = 0
  s.max = 0
  s.version = 0
  s.sketchStart = s.sketchEnd = 0
  while (c.pos < c.len) {
    const tag = c.uint32()
    switch (tag) {
      case (7 << 3) | VARINT:
        s.count = c.long(true)
        break
      case (10 << 3) | FIXED64:
        s.min = c.double()
        break
      case (11 << 3) | FIXED64:
        s.max = c.double()
        break
      case (12 << 3) | LENGTH: {
        const end = c.delimited()
        s.sketchStart = c.pos
        s.sketchEnd = end
        c.pos = end
        break
      }
      case (13 << 3) | VARINT:
        s.version = c.long(true)
        break
      default:
        if ((tag & 7) === LENGTH) c.pos = c.delimited()
        else c.skip(tag & 7)
    }
  }
  if (c.pos > c.len) throw new RangeError("index out of range")
  return s
}

/** A label's latest snapshot in a minute of router_status: [version, count]. */
type LabelCount = [number, number]

/**
 * One watched series: an owner's process type and alert metric, over a ring of `size` minute slots.
 * Components: 0 is the metric's first source (router_service_ms, router_status, memory_total,
 * load_avg_1m), 1 its second (memory_quota).
 */
export class SeriesValues {
  readonly metric: AlertMetric
  readonly size: number
  /** The minute (start, ms) each slot holds; NaN when empty. */
  readonly minute: Float64Array
  /** Component 0: count (router_service_ms) or max, and its version. */
  readonly a: Float64Array
  readonly av: Float64Array
  /** Component 1 (memory_quota): max and version; router_service_ms: the minute's min (b) and max (bv). */
  readonly b: Float64Array
  readonly bv: Float64Array
  /** router_service_ms: the latest snapshot's sketch bytes (a copy). */
  readonly sketch: Array<Uint8Array | undefined>
  /** router_status: each status label's latest snapshot. */
  readonly labels: Array<Map<string, LabelCount> | undefined>
  /** Minutes whose values changed since the alerter last looked. */
  readonly changed = new Set<number>()

  constructor(metric: AlertMetric, size: number) {
    this.metric = metric
    this.size = size
    this.minute = new Float64Array(size).fill(Number.NaN)
    this.a = new Float64Array(size)
    this.av = new Float64Array(size)
    this.b = new Float64Array(size)
    this.bv = new Float64Array(size)
    this.sketch = new Array(size).fill(undefined)
    this.labels = new Array(size).fill(undefined)
  }

  private slotFor(minuteMs: number): number {
    const n = Math.floor(minuteMs / MINUTE) % this.size
    const i = n < 0 ? n + this.size : n
    const held = this.minute[i]!
    if (held === minuteMs) return i
    // A slot holding an older minute is reused (the caller only passes minutes within the ring's span).
    if (held > minuteMs) return -1
    this.minute[i] = minuteMs
    this.a[i] = this.av[i] = this.b[i] = this.bv[i] = 0
    this.sketch[i] = undefined
    this.labels[i]?.clear()
    return i
  }

  /** Folds one snapshot of minute `minuteMs` in; true when it changed the minute. */
  apply(component: number, label: string, minuteMs: number, bytes: Uint8Array): boolean {
    const s = scan(bytes)
    const i = this.slotFor(minuteMs)
    if (i < 0) return false
    switch (this.metric) {
      case "router_p95_ms":
        if (s.version <= this.av[i]!) return false
        this.av[i] = s.version
        this.a[i] = s.count
        this.b[i] = s.min
        this.bv[i] = s.max
        this.sketch[i] = s.sketchEnd > s.sketchStart ? bytes.slice(s.sketchStart, s.sketchEnd) : undefined
        break
      case "router_error_pct": {
        let map = this.labels[i]
        if (map === undefined) this.labels[i] = map = new Map()
        const held = map.get(label)
        if (held !== undefined && s.version <= held[0]) return false
        if (held === undefined) map.set(label, [s.version, s.count])
        else {
          held[0] = s.version
          held[1] = s.count
        }
        break
      }
      default:
        if (component === 0) {
          if (s.version <= this.av[i]!) return false
          this.av[i] = s.version
          this.a[i] = s.max
        } else {
          if (s.version <= this.bv[i]!) return false
          this.bv[i] = s.version
          this.b[i] = s.max
        }
    }
    this.changed.add(minuteMs)
    return true
  }

  /** Whether minute `minuteMs` is held. */
  private slotOf(minuteMs: number): number {
    const n = Math.floor(minuteMs / MINUTE) % this.size
    const i = n < 0 ? n + this.size : n
    return this.minute[i] === minuteMs ? i : -1
  }

  /**
   * The minute's value and request count (router metrics; 0 otherwise): value null when the minute has
   * no data to compute it from (see Rules.ts METRIC_INFO for the formulas).
   */
  valueAt(minuteMs: number): { readonly value: number | null; readonly requests: number } {
    const i = this.slotOf(minuteMs)
    if (i < 0) return NO_DATA
    switch (this.metric) {
      case "router_p95_ms": {
        const count = this.a[i]!
        const bytes = this.sketch[i]
        if (count === 0 || bytes === undefined) return { value: null, requests: count }
        const sketch = new MergedSketch()
        sketch.add(bytes)
        const p95 = sketch.quantile(0.95)
        // Clamped to the minute's [min, max] as the API's percentiles are (a bin's value can lie past them).
        return {
          value: Number.isNaN(p95) ? null : Math.min(this.bv[i]!, Math.max(this.b[i]!, p95)),
          requests: count,
        }
      }
      case "router_error_pct": {
        const map = this.labels[i]
        if (map === undefined) return NO_DATA
        let total = 0
        let errors = 0
        for (const [label, [, count]] of map) {
          total += count
          if (Number(label) >= 500) errors += count
        }
        return { value: total === 0 ? null : (100 * errors) / total, requests: total }
      }
      case "memory_quota_pct":
        return {
          value:
            this.av[i]! > 0 && this.bv[i]! > 0 && this.b[i]! > 0 ? (100 * this.a[i]!) / this.b[i]! : null,
          requests: 0,
        }
      case "load_avg_1m":
        return { value: this.av[i]! > 0 ? this.a[i]! : null, requests: 0 }
    }
  }
}

const NO_DATA = { value: null, requests: 0 } as const

/** Where a watched summary metric goes: its series and component. */
export interface Watch {
  readonly series: SeriesValues
  readonly component: number
}

/**
 * Reads a summary key `owner:process_type:metric:label:period:start` in place: `readKey` answers the
 * series prefix (owner, process type and metric) of a 1-minute window's key, or undefined for any other
 * (a 15-minute window's ends in `:15m:`); `keyLabel` and `keyMinute` then read the rest of the same key.
 */
let labelStart = 0
let periodStart = 0

export const readKey = (key: string): string | undefined => {
  const last = key.lastIndexOf(":")
  if (
    last < 4 ||
    key.charCodeAt(last - 1) !== 109 ||
    key.charCodeAt(last - 2) !== 49 ||
    key.charCodeAt(last - 3) !== 58
  )
    return undefined
  const i1 = key.indexOf(":")
  const i2 = key.indexOf(":", i1 + 1)
  const i3 = key.indexOf(":", i2 + 1)
  if (i1 < 0 || i2 < 0 || i3 < 0 || i3 > last - 3) return undefined
  labelStart = i3 + 1
  periodStart = last - 2
  return key.slice(0, i3)
}

/** The label of the key `readKey` last read. */
export const keyLabel = (key: string): string => key.slice(labelStart, periodStart - 1)

/** The window start (ms) of the key `readKey` last read; NaN when it is not a number. */
export const keyMinute = (key: string): number => Number(key.slice(periodStart + 3))

/** The prefix of a series' summary keys: `owner:process_type:metric`. */
export const seriesPrefix = (owner: string, processType: string, metric: string) =>
  `${owner}:${processType}:${metric}`
