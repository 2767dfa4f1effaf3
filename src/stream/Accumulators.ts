/**
 * Mergeable accumulators for rollups: count, sum, sum of squares, min, max, and a DDSketch-compatible
 * quantile sketch (logarithmic mapping, 1% relative accuracy). Adding is plain arithmetic and one Map
 * update; the sketch is only turned into DDSketch protobuf bytes when a snapshot is emitted.
 */
import { DDSketch } from "@datadog/sketches-js"
import { LogarithmicMapping } from "@datadog/sketches-js/dist/ddsketch/mapping/index.js"
import protobuf from "protobufjs/minimal.js"

export class Stats {
  count = 0
  sum = 0
  sumsq = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY

  add(value: number): void {
    this.count++
    this.sum += value
    this.sumsq += value * value
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
  }

  merge(other: Stats): void {
    this.count += other.count
    this.sum += other.sum
    this.sumsq += other.sumsq
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
  }
}

export const RELATIVE_ACCURACY = 0.01
const mapping = new LogarithmicMapping(RELATIVE_ACCURACY)

/** Bins of a DDSketch with LogarithmicMapping(0.01): key(v) = ceil(log_gamma(v)). */
export class Sketch {
  zero = 0
  readonly bins = new Map<number, number>()

  add(value: number): void {
    if (value <= mapping.minPossible) {
      this.zero++
      return
    }
    const key = mapping.key(value)
    this.bins.set(key, (this.bins.get(key) ?? 0) + 1)
  }

  /**
   * DDSketch protobuf bytes (mergeable by any DDSketch implementation), written directly: the mapping,
   * the positive bins as contiguous counts from the smallest key, an empty negative store, the zero count.
   */
  toBytes(): Uint8Array {
    const w = protobuf.Writer.create()
    w.uint32(10).fork().uint32(9).double(mapping.gamma).uint32(17).double(0).ldelim()
    w.uint32(18).fork()
    if (this.bins.size > 0) {
      let lo = Number.POSITIVE_INFINITY
      let hi = Number.NEGATIVE_INFINITY
      for (const key of this.bins.keys()) {
        if (key < lo) lo = key
        if (key > hi) hi = key
      }
      w.uint32(18).fork()
      for (let key = lo; key <= hi; key++) w.double(this.bins.get(key) ?? 0)
      w.ldelim()
      w.uint32(24).sint32(lo)
    }
    w.ldelim()
    w.uint32(26).fork().ldelim()
    if (this.zero > 0) w.uint32(33).double(this.zero)
    return w.finish()
  }
}

/** Decodes sketch bytes; empty bytes are an empty sketch. */
export const sketchFromBytes = (bytes: Uint8Array): DDSketch =>
  bytes.length === 0 ? new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }) : DDSketch.fromProto(bytes)

/** A rollup series: stats, an optional sketch, and the version of its last emitted snapshot. */
export class Series {
  readonly stats = new Stats()
  readonly sketch: Sketch | undefined
  /** Version of the last emitted snapshot; the current version is stats.count (it only grows). */
  emitted = 0

  readonly owner: string
  readonly processType: string
  readonly metric: string
  readonly label: string

  constructor(owner: string, processType: string, metric: string, label: string, sketched: boolean) {
    this.owner = owner
    this.processType = processType
    this.metric = metric
    this.label = label
    this.sketch = sketched ? new Sketch() : undefined
  }

  add(value: number): void {
    this.stats.add(value)
    this.sketch?.add(value)
  }

  get dirty(): boolean {
    return this.stats.count !== this.emitted
  }
}

/**
 * Sketches merged straight from DDSketch protobuf bytes (LogarithmicMapping at 1%, positive values):
 * bins add, and quantiles are read the way DDSketch reads them. Several times cheaper than decoding
 * each into the library's DDSketch and merging, which is what the API does per bucket.
 */
export class MergedSketch {
  zero = 0
  count = 0
  private readonly bins = new Map<number, number>()

  private bin(key: number, n: number): void {
    if (n === 0) return
    this.bins.set(key, (this.bins.get(key) ?? 0) + n)
    this.count += n
  }

  /** Adds the bins of one serialized DDSketch. */
  add(bytes: Uint8Array): void {
    const r = protobuf.Reader.create(bytes)
    while (r.pos < r.len) {
      const tag = r.uint32()
      if (tag >>> 3 === 2 && (tag & 7) === 2) this.store(r, r.uint32())
      else if (tag >>> 3 === 4 && (tag & 7) === 1) {
        const z = r.double()
        this.zero += z
        this.count += z
      } else r.skipType(tag & 7)
    }
  }

  private store(r: protobuf.Reader, length: number): void {
    const end = r.pos + length
    const contiguous: Array<number> = []
    let offset = 0
    while (r.pos < end) {
      const tag = r.uint32()
      const field = tag >>> 3
      if (field === 1 && (tag & 7) === 2) {
        // map<sint32, double> entry
        const entryEnd = r.uint32() + r.pos
        let key = 0
        let value = 0
        while (r.pos < entryEnd) {
          const t = r.uint32()
          if (t >>> 3 === 1) key = r.sint32()
          else if (t >>> 3 === 2) value = r.double()
          else r.skipType(t & 7)
        }
        this.bin(key, value)
      } else if (field === 2 && (tag & 7) === 2) {
        const packedEnd = r.uint32() + r.pos
        while (r.pos < packedEnd) contiguous.push(r.double())
      } else if (field === 2 && (tag & 7) === 1) contiguous.push(r.double())
      else if (field === 3) offset = r.sint32()
      else r.skipType(tag & 7)
    }
    for (let i = 0; i < contiguous.length; i++) this.bin(offset + i, contiguous[i]!)
  }

  /** The value at quantile q, as DDSketch.getValueAtQuantile computes it. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN
    const rank = q * (this.count - 1)
    if (rank < this.zero) return 0
    const keys = [...this.bins.keys()].sort((a, b) => a - b)
    let running = 0
    for (const key of keys) {
      running += this.bins.get(key)!
      if (running > rank - this.zero) return mapping.value(key)
    }
    return mapping.value(keys[keys.length - 1]!)
  }
}
