/**
 * The rollups' distributions: stats (count, sum, sum of squares, min, max) and a DDSketch-compatible
 * quantile sketch (logarithmic mapping, 1% relative accuracy) as tally writes it (Sketch: adding is one
 * typed-array increment; the bytes are made when a snapshot is emitted) and reads it back
 * (sketchFromBytes, MergedSketch). A value type of its own: the aggregator writes it (its per-series
 * Accumulator, aggregator/Accumulators.ts, is a Sketch), the query and the alerts read it.
 */
import { DDSketch } from "@datadog/sketches-js"
import { LogarithmicMapping } from "@datadog/sketches-js/dist/ddsketch/mapping/index.js"
import protobuf from "protobufjs/minimal.js"
import {
  FIXED64,
  LENGTH,
  VARINT,
  varintSize,
  writeDouble,
  writeVarint,
  zigzag32,
} from "../proto/ProtoBytes.ts"

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
/** The library's own multiplier, so keys are computed exactly as `mapping.key` computes them. */
const MULTIPLIER = (mapping as unknown as { readonly _multiplier: number })._multiplier
const MIN_POSSIBLE = mapping.minPossible
const MAX_POSSIBLE = mapping.maxPossible
const MAX_KEY = mapping.key(MAX_POSSIBLE)

/**
 * The DDSketch key of a value above `minPossible`: `mapping.key(value)`, inlined, and looked up for
 * whole numbers below 2^16 (router times are whole milliseconds). Values beyond the mapping's range
 * (and +Infinity) take its largest key.
 */
export const sketchKey = (value: number): number => {
  const i = value | 0
  if (i === value && i < WHOLE_KEYS.length) return WHOLE_KEYS[i]!
  // `| 0` turns the -0 that Math.ceil gives just below 1 into the library's 0 (keys are int32).
  return value < MAX_POSSIBLE ? Math.ceil(Math.log2(value) * MULTIPLIER) | 0 : MAX_KEY
}
/** Keys of 1 .. 2^16 - 1 (index 0 is never read: zero goes to the zero bucket). */
const WHOLE_KEYS = Int32Array.from({ length: 1 << 16 }, (_, v) =>
  v === 0 ? 0 : Math.ceil(Math.log2(v) * MULTIPLIER),
)

const INITIAL_BINS = 32
const SLACK = 32

/**
 * Keys here are sketches-js keys: key(v) = ceil(log_gamma(v)), the bucket (gamma^(k-1), gamma^k]. The
 * DDSketch protobuf's own convention (sketches-java, sketches-go) is a floor: with index offset o, key k
 * is the bucket [gamma^(k-o), gamma^(k-o+1)). So tally's bytes carry index offset 1: the same buckets,
 * read right by every implementation that follows the protobuf (the same representative value too).
 * tally reads any sketch bytes that way (`jsKey`); sketches-js's own fromProto reads the offset the
 * other way round, which `sketchFromBytes` corrects.
 */
export const INDEX_OFFSET = 1

/** The sketches-js key (offset 0) of key `k` of bytes whose mapping has index offset `offset`. */
export const jsKey = (k: number, offset: number) => k - offset + 1

/** The mapping message (gamma, index offset 1, no interpolation), as a DDSketch's field 1. */
const MAPPING_BYTES = (() => {
  const b = new Uint8Array(20)
  b[0] = (1 << 3) | LENGTH
  b[1] = 18
  b[2] = (1 << 3) | FIXED64
  writeDouble(b, 3, mapping.gamma)
  b[11] = (2 << 3) | FIXED64
  writeDouble(b, 12, INDEX_OFFSET)
  return b
})()

/**
 * Bins of a DDSketch with LogarithmicMapping(0.01): key(v) = ceil(log_gamma(v)), counted in a dense
 * array over the keys seen (grown as keys arrive, like the library's dense store). Values at or below
 * `minPossible` (zero, negatives) and NaN count in the zero bucket.
 */
export class Sketch {
  zero = 0
  /** bins[i] counts key `offset + i`. */
  private bins: Array<number> = []
  private offset = 0
  /** The non-empty bin range found by `byteLength`, for `write`. */
  private first = 0
  private last = -1

  add(value: number): void {
    if (!(value > MIN_POSSIBLE)) {
      this.zero++
      return
    }
    const i = sketchKey(value) - this.offset
    if (i >= 0 && i < this.bins.length) this.bins[i]!++
    else this.grow(i + this.offset)
  }

  private grow(key: number): void {
    const old = this.bins
    if (old.length === 0) {
      this.bins = new Array<number>(INITIAL_BINS).fill(0)
      this.offset = key - INITIAL_BINS / 2
    } else {
      const lo = key < this.offset ? key - SLACK : this.offset
      const hi = key >= this.offset + old.length ? key + SLACK : this.offset + old.length - 1
      const bins = new Array<number>(hi - lo + 1).fill(0)
      for (let i = 0, j = this.offset - lo; i < old.length; i++, j++) bins[j] = old[i]!
      this.bins = bins
      this.offset = lo
    }
    this.bins[key - this.offset]!++
  }

  /** Bytes of the DDSketch protobuf message; call right before `write`. */
  byteLength(): number {
    const bins = this.bins
    let first = 0
    let last = bins.length - 1
    while (first <= last && bins[first] === 0) first++
    while (last >= first && bins[last] === 0) last--
    this.first = first
    this.last = last
    let store = 0
    if (last >= first) {
      const n = (last - first + 1) * 8
      store = 1 + varintSize(n) + n + 1 + varintSize(zigzag32(this.offset + first))
    }
    return MAPPING_BYTES.length + 1 + varintSize(store) + store + 2 + (this.zero > 0 ? 9 : 0)
  }

  /**
   * Writes the DDSketch protobuf message at `pos` (mergeable by any DDSketch implementation): the mapping,
   * the positive bins as contiguous counts from the smallest key, an empty negative store, the zero
   * count. Returns the position after it.
   */
  write(buf: Uint8Array, pos: number): number {
    buf.set(MAPPING_BYTES, pos)
    pos += MAPPING_BYTES.length
    const bins = this.bins
    const first = this.first
    const last = this.last
    buf[pos++] = (2 << 3) | LENGTH
    if (last >= first) {
      const n = (last - first + 1) * 8
      const lo = zigzag32(this.offset + first)
      pos = writeVarint(buf, pos, 1 + varintSize(n) + n + 1 + varintSize(lo))
      buf[pos++] = (2 << 3) | LENGTH
      pos = writeVarint(buf, pos, n)
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      for (let i = first; i <= last; i++, pos += 8) view.setFloat64(pos, bins[i]!, true)
      buf[pos++] = (3 << 3) | VARINT
      pos = writeVarint(buf, pos, lo)
    } else buf[pos++] = 0
    buf[pos++] = (3 << 3) | LENGTH
    buf[pos++] = 0
    if (this.zero > 0) {
      buf[pos++] = (4 << 3) | FIXED64
      pos = writeDouble(buf, pos, this.zero)
    }
    return pos
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength())
    this.write(out, 0)
    return out
  }
}

/**
 * Decodes sketch bytes into the library's DDSketch (empty bytes: an empty sketch), reading the index
 * offset as the protobuf means it (see INDEX_OFFSET): the library's own reading is one bucket low.
 */
export const sketchFromBytes = (bytes: Uint8Array): DDSketch => {
  if (bytes.length === 0) return new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY })
  const sketch = DDSketch.fromProto(bytes)
  const protoMapping = sketch.mapping as unknown as { readonly gamma: number; readonly _offset: number }
  ;(sketch as unknown as { mapping: unknown }).mapping = LogarithmicMapping.fromGammaOffset(
    protoMapping.gamma,
    protoMapping._offset - 1,
  )
  return sketch
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

  /** Adds the bins of one serialized DDSketch (its mapping's index offset read as the protobuf means it). */
  add(bytes: Uint8Array): void {
    const r = protobuf.Reader.create(bytes)
    let offset = 0
    while (r.pos < r.len) {
      const tag = r.uint32()
      if (tag >>> 3 === 1 && (tag & 7) === 2) offset = this.mappingOffset(r, r.uint32())
      else if (tag >>> 3 === 2 && (tag & 7) === 2) this.store(r, r.uint32(), offset)
      else if (tag >>> 3 === 4 && (tag & 7) === 1) {
        const z = r.double()
        this.zero += z
        this.count += z
      } else r.skipType(tag & 7)
    }
  }

  /** The index offset of a mapping message (gamma and interpolation are tally's: 1%, logarithmic). */
  private mappingOffset(r: protobuf.Reader, length: number): number {
    const end = r.pos + length
    let offset = 0
    while (r.pos < end) {
      const tag = r.uint32()
      if (tag >>> 3 === 2 && (tag & 7) === 1) offset = r.double()
      else r.skipType(tag & 7)
    }
    return offset
  }

  private store(r: protobuf.Reader, length: number, indexOffset: number): void {
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
        this.bin(jsKey(key, indexOffset), value)
      } else if (field === 2 && (tag & 7) === 2) {
        const packedEnd = r.uint32() + r.pos
        while (r.pos < packedEnd) contiguous.push(r.double())
      } else if (field === 2 && (tag & 7) === 1) contiguous.push(r.double())
      else if (field === 3) offset = r.sint32()
      else r.skipType(tag & 7)
    }
    for (let i = 0; i < contiguous.length; i++) this.bin(jsKey(offset + i, indexOffset), contiguous[i]!)
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
