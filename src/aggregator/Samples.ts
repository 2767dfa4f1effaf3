/**
 * What each raw measurement contributes to rollups: (metric, label, value) samples of the metric
 * catalogue (domain/Metrics.ts), and whether the metric keeps a quantile sketch.
 */
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { METRICS } from "../domain/Metrics.ts"
import { Cursor, FIXED64, LENGTH, utf8, VARINT } from "../proto/ProtoBytes.ts"

export type Visit = (metric: string, label: string, value: number, sketched: boolean) => void

/** Metric names by id (the order of METRICS), and whether each keeps a sketch. */
export const METRIC_NAMES: ReadonlyArray<string> = Object.keys(METRICS)
export const SKETCHED: ReadonlyArray<boolean> = METRIC_NAMES.map((m) => METRICS[m]!.sketched)
const id = (metric: string) => METRIC_NAMES.indexOf(metric)
const MEMORY_IDS = [
  -1,
  -1,
  ...[
    "memory_total",
    "memory_rss",
    "memory_cache",
    "memory_swap",
    "memory_pgpgin",
    "memory_pgpgout",
    "memory_quota",
  ].map(id),
]
const LOAD_IDS = [-1, -1, id("load_avg_1m"), id("load_avg_5m"), id("load_avg_15m")]
const ROUTER_STATUS = id("router_status")
const ROUTER_SERVICE = id("router_service_ms")
const ROUTER_CONNECT = id("router_connect_ms")
const ROUTER_BYTES = id("router_bytes")
const ERRORS = id("errors")

const statusLabels: Array<string> = []
const statusLabel = (status: number) =>
  statusLabels[status] ?? (status < 1000 ? (statusLabels[status] = String(status)) : String(status))

/** The parts of an Origin the aggregator needs. */
export interface OriginView {
  readonly owner: string
  readonly processType: string
  readonly timeUs: number
  readonly drain: string
  readonly frameId: string
  readonly delivery: string
}

/**
 * One decoded raw record, read in place: the origin's text fields as byte ranges of `bytes` (decoded only
 * when needed), and, measurement by measurement (a record holds one delivery's measurements of its key:
 * the message's own fields, then each of `next`, see measurement.proto), its event time and samples
 * (metric id, label, value). `read` decodes the first measurement and finds the others; `readNext(i)`
 * decodes the i-th of `next` (its time and samples; the origin's other fields are the first one's).
 * Reused from record to record. A hand decoder that reads only what rollups need and skips the rest
 * (router paths, request ids, descriptions...), which is most of the bytes;
 * test/aggregator/samples.test.ts holds it to the generated decoder on random messages.
 */
export class Scan {
  bytes: Uint8Array = new Uint8Array(0)
  ownerStart = 0
  ownerEnd = 0
  typeStart = 0
  typeEnd = 0
  drainStart = 0
  drainEnd = 0
  frameStart = 0
  frameEnd = 0
  deliveryStart = 0
  deliveryEnd = 0
  timeUs = 0
  /** How many samples the current measurement has. */
  count = 0
  readonly metric = new Int32Array(8)
  readonly label: Array<string> = ["", "", "", "", "", "", "", ""]
  readonly value = new Float64Array(8)
  /** How many measurements follow the first (`next`). */
  nextCount = 0
  /** Where each of `next` starts and ends in `bytes` (pairs). */
  private nextAt = new Int32Array(64)
  private type: RolledUpType = "DYNO_MEMORY"
  private readonly c = new Cursor()

  /** Decodes one raw record of `type`: its origin, its first measurement, and where the others are (throws on malformed protobuf). */
  read(type: RolledUpType, bytes: Uint8Array): void {
    const c = this.c
    c.reset(bytes)
    this.bytes = bytes
    this.type = type
    this.noOrigin()
    this.nextCount = 0
    this.measurement(true)
    if (c.pos > c.len) throw new RangeError("index out of range")
  }

  /** Decodes the record's further measurement `i` (0-based, < nextCount) in place of the current one. */
  readNext(i: number): void {
    const c = this.c
    const len = c.len
    c.pos = this.nextAt[2 * i]!
    c.len = this.nextAt[2 * i + 1]!
    this.timeUs = 0
    this.measurement(false)
    if (c.pos > c.len) throw new RangeError("index out of range")
    c.len = len
  }

  /** A `next` entry ends at `end` and starts at the cursor: remembered, and skipped. */
  private nextEntry(end: number): void {
    const at = 2 * this.nextCount++
    if (at + 2 > this.nextAt.length) {
      const more = new Int32Array(2 * this.nextAt.length)
      more.set(this.nextAt)
      this.nextAt = more
    }
    this.nextAt[at] = this.c.pos
    this.nextAt[at + 1] = end
    this.c.pos = end
  }

  /** The fields of one measurement, from the cursor to its end; `top`: the record's message itself. */
  private measurement(top: boolean): void {
    const c = this.c
    const type = this.type
    const bytes = this.bytes
    this.count = 0
    switch (type) {
      case "DYNO_MEMORY":
      case "DYNO_LOAD": {
        const ids = type === "DYNO_MEMORY" ? MEMORY_IDS : LOAD_IDS
        while (c.pos < c.len) {
          const tag = c.uint32()
          const field = tag >>> 3
          if (field === 1 && (tag & 7) === LENGTH) this.origin(c.delimited(), top)
          else if (field > 1 && field < ids.length && (tag & 7) === FIXED64)
            this.sample(ids[field]!, "", c.double())
          else if (field === 15 && top && (tag & 7) === LENGTH) this.nextEntry(c.delimited())
          else c.skip(tag & 7)
        }
        break
      }
      case "ROUTER_REQUESTS": {
        let status = 0
        let service = Number.NaN
        let connect = Number.NaN
        let bytes = Number.NaN
        let has = 0
        while (c.pos < c.len) {
          const tag = c.uint32()
          switch (tag >>> 3) {
            case 1:
              this.origin(c.delimited(), top)
              break
            case 8:
              status = c.uint32()
              break
            case 9:
              connect = c.double()
              has |= 2
              break
            case 10:
              service = c.double()
              has |= 1
              break
            case 11:
              bytes = c.long(true)
              has |= 4
              break
            case 15:
              if (top && (tag & 7) === LENGTH) {
                this.nextEntry(c.delimited())
                break
              }
              c.skip(tag & 7)
              break
            default:
              if ((tag & 7) === LENGTH) c.pos = c.delimited()
              else c.skip(tag & 7)
          }
        }
        this.sample(ROUTER_STATUS, statusLabel(status), 1)
        if (has & 1) this.sample(ROUTER_SERVICE, "", service)
        if (has & 2) this.sample(ROUTER_CONNECT, "", connect)
        if (has & 4) this.sample(ROUTER_BYTES, "", bytes)
        break
      }
      case "ERRORS": {
        let codeStart = 0
        let codeEnd = 0
        let count = 0
        while (c.pos < c.len) {
          const tag = c.uint32()
          const field = tag >>> 3
          if (field === 1 && (tag & 7) === LENGTH) this.origin(c.delimited(), top)
          else if (field === 2) {
            codeEnd = c.delimited()
            codeStart = c.pos
            c.pos = codeEnd
          } else if (field === 3 && (tag & 7) === VARINT) count = c.long(true)
          else if (field === 15 && top && (tag & 7) === LENGTH) this.nextEntry(c.delimited())
          else c.skip(tag & 7)
        }
        this.sample(ERRORS, utf8(bytes, codeStart, codeEnd), count)
        break
      }
    }
  }

  private sample(metric: number, label: string, value: number): void {
    const i = this.count++
    this.metric[i] = metric
    this.label[i] = label
    this.value[i] = value
  }

  private noOrigin(): void {
    this.ownerStart = this.ownerEnd = this.typeStart = this.typeEnd = 0
    this.drainStart = this.drainEnd = this.frameStart = this.frameEnd = 0
    this.deliveryStart = this.deliveryEnd = 0
    this.timeUs = 0
  }

  /** An origin ending at `end`: of the record's first measurement (`top`), or only the time of a further one. */
  private origin(end: number, top: boolean): void {
    const c = this.c
    if (top) this.noOrigin()
    else this.timeUs = 0
    while (c.pos < end) {
      const tag = c.uint32()
      const field = tag >>> 3
      if (field === 4) this.timeUs = c.long(false)
      else if (top && (field === 1 || field === 2 || (field >= 5 && field <= 7))) {
        const stop = c.delimited()
        const start = c.pos
        c.pos = stop
        if (field === 1) {
          this.ownerStart = start
          this.ownerEnd = stop
        } else if (field === 2) {
          this.typeStart = start
          this.typeEnd = stop
        } else if (field === 5) {
          this.drainStart = start
          this.drainEnd = stop
        } else if (field === 6) {
          this.frameStart = start
          this.frameEnd = stop
        } else {
          this.deliveryStart = start
          this.deliveryEnd = stop
        }
      } else if ((tag & 7) === LENGTH) c.pos = c.delimited()
      else c.skip(tag & 7)
    }
    c.pos = end
  }

  get owner(): string {
    return utf8(this.bytes, this.ownerStart, this.ownerEnd)
  }
  get processType(): string {
    return utf8(this.bytes, this.typeStart, this.typeEnd)
  }
  get drain(): string {
    return utf8(this.bytes, this.drainStart, this.drainEnd)
  }
  get frameId(): string {
    return utf8(this.bytes, this.frameStart, this.frameEnd)
  }
  get delivery(): string {
    return utf8(this.bytes, this.deliveryStart, this.deliveryEnd)
  }
}

const shared = new Scan()

/** One measurement of a record: its event time and samples (metric, label, value, sketched). */
export interface MeasurementView {
  readonly timeUs: number
  readonly samples: ReadonlyArray<readonly [string, string, number, boolean]>
}

/** Decodes one raw record of `type`: its origin (the first measurement's) and each measurement, in order. */
export const measurementsOf = (
  type: RolledUpType,
  value: Uint8Array,
): { readonly origin: OriginView; readonly measurements: ReadonlyArray<MeasurementView> } => {
  const s = shared
  s.read(type, value)
  const origin: OriginView = {
    owner: s.owner,
    processType: s.processType,
    timeUs: s.timeUs,
    drain: s.drain,
    frameId: s.frameId,
    delivery: s.delivery,
  }
  const measurements: Array<MeasurementView> = []
  for (let m = -1; m < s.nextCount; m++) {
    if (m >= 0) s.readNext(m)
    const samples: Array<readonly [string, string, number, boolean]> = []
    for (let i = 0; i < s.count; i++)
      samples.push([METRIC_NAMES[s.metric[i]!]!, s.label[i]!, s.value[i]!, SKETCHED[s.metric[i]!]!])
    measurements.push({ timeUs: s.timeUs, samples })
  }
  return { origin, measurements }
}

/**
 * Decodes one raw record of `type` and visits the samples of each of its measurements, in order, with
 * the measurement's event time; returns the record's origin (the first measurement's).
 */
export const visitSamples = (
  type: RolledUpType,
  value: Uint8Array,
  visit: (metric: string, label: string, value: number, sketched: boolean, timeUs: number) => void,
): OriginView => {
  // copied out first, so a visitor may decode other records
  const { origin, measurements } = measurementsOf(type, value)
  for (const m of measurements)
    for (const [metric, label, x, sketched] of m.samples) visit(metric, label, x, sketched, m.timeUs)
  return origin
}
