/**
 * The ceiling for the aggregation core: the same work as PartitionRollup on router records, written as
 * one plain loop with no abstraction — protobuf decoded with local variables, no object per record or
 * sample, no closure, no windows library. Same semantics and same output: stream time, 1m and 15m
 * windows with 5 minutes of lateness, first delivery per (key, drain, Frame-Id), late records counted,
 * a changed window emitted after flushAfter and when it closes, Summary bytes with DDSketch bins for the
 * latencies, version = count, a commit point per batch. Written independently of src/ (its own decoder,
 * bins and encoder), so the benchmark's check that both emit the same snapshots also cross-checks them.
 */
import type { InRecord } from "../../src/bus/Records.ts"
import { RELATIVE_ACCURACY } from "../../src/domain/Sketch.ts"

const M1 = 60_000
const Q = 900_000
const LATE = 300_000
const GAMMA = 1 + (2 * RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
const MULT = (1 / Math.log1p(GAMMA - 1)) * Math.log(2)
const MIN_POSSIBLE = 2 ** -1023 * GAMMA
const KEYS = Int32Array.from({ length: 1 << 16 }, (_, v) => (v === 0 ? 0 : Math.ceil(Math.log2(v) * MULT)))

const f64 = new Float64Array(1)
const f8 = new Uint8Array(f64.buffer)
const enc = new TextEncoder()

let pos = 0
/** A varint of up to 64 bits as a number (unsigned); sets `pos`. */
const varint = (b: Uint8Array): number => {
  let x = b[pos++]!
  if (x < 128) return x
  let v = x & 127
  let mul = 128
  for (;;) {
    x = b[pos++]!
    v += (x & 127) * mul
    if (x < 128) return v
    mul *= 128
  }
}
const double = (b: Uint8Array): number => {
  for (let i = 0; i < 8; i++) f8[i] = b[pos + i]!
  pos += 8
  return f64[0]!
}
const text = (b: Uint8Array, s: number, e: number) => Buffer.prototype.utf8Slice.call(b, s, e)

class Cell {
  count = 0
  sum = 0
  sumsq = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  emitted = 0
  zero = 0
  bins: Array<number> = []
  off = 0
  readonly series: Series
  readonly win: Win
  constructor(series: Series, win: Win) {
    this.series = series
    this.win = win
  }
}

class Series {
  c0: Cell | undefined
  c1: Cell | undefined
  head: Uint8Array | undefined
  readonly prefix: string
  readonly key: Key
  readonly metric: string
  readonly label: string
  readonly sketched: boolean
  constructor(key: Key, metric: string, label: string, sketched: boolean) {
    this.key = key
    this.metric = metric
    this.label = label
    this.sketched = sketched
    this.prefix = `${key.owner}:${key.pt}:${metric}:${label}:`
  }
}

class Win {
  readonly cells: Array<Cell> = []
  readonly bySeries = new Map<Series, Cell>()
  dirtySince = Number.NaN
  readonly suffix: string
  readonly period: number
  readonly start: number
  readonly end: number
  readonly firstOffset: number
  constructor(period: number, start: number, end: number, firstOffset: number) {
    this.period = period
    this.start = start
    this.end = end
    this.firstOffset = firstOffset
    this.suffix = `${period === 0 ? "1m" : "15m"}:${start}`
  }
}

interface Frame {
  readonly delivery: string
  until: number
  gone: boolean
}

class Key {
  readonly status: Array<Series | undefined> = []
  readonly statusOther = new Map<number, Series>()
  service: Series | undefined
  connect: Series | undefined
  bytes: Series | undefined
  readonly frames = new Map<string, Frame>()
  lastFrame: Frame | undefined
  lastFirst = false
  lastBytes = new Uint8Array(128)
  lastLens = [0, 0, 0]
  until = Number.NEGATIVE_INFINITY
  readonly id: string
  readonly owner: string
  readonly pt: string
  constructor(id: string, owner: string, pt: string) {
    this.id = id
    this.owner = owner
    this.pt = pt
  }
}

export interface Emitted {
  readonly key: string
  readonly value: Uint8Array
}

export class PlainRollup {
  st = Number.NEGATIVE_INFINITY
  duplicates = 0
  late = 0
  nextOffset = 0
  private readonly open = new Map<number, Win>()
  private w0: Win | undefined
  private w1: Win | undefined
  private readonly keys = new Map<string, Key>()
  private readonly recent: Array<Key | undefined> = [undefined, undefined, undefined, undefined]
  private nextRecent = 0
  private dirty = 0
  private swept = Number.NEGATIVE_INFINITY
  private stale: Array<Frame> = []
  /** The cells and values of the record being folded (reused). */
  private readonly cells: Array<Cell | undefined> = [undefined, undefined, undefined, undefined]
  private readonly values = new Float64Array(4)
  lastCommit = ""

  /** Folds a batch of router records (offset order) at processing time `now`. */
  processBatch(records: ReadonlyArray<InRecord>, now: number): void {
    const cells = this.cells
    const values = this.values
    for (let r = 0; r < records.length; r++) {
      const record = records[r]!
      if (record.offset < this.nextOffset) continue
      this.nextOffset = record.offset + 1
      const b = record.value
      const len = b.length
      pos = 0
      let os = 0
      let oe = 0
      let ps = 0
      let pe = 0
      let ds = 0
      let de = 0
      let fs = 0
      let fe = 0
      let vs = 0
      let ve = 0
      let timeUs = 0
      let status = 0
      let service = 0
      let connect = 0
      let bytes = 0
      let has = 0
      while (pos < len) {
        const tag = varint(b)
        const field = tag >>> 3
        const wire = tag & 7
        if (field === 1) {
          const end = varint(b) + pos
          os = oe = ps = pe = ds = de = fs = fe = vs = ve = 0
          timeUs = 0
          while (pos < end) {
            const t = varint(b)
            const f = t >>> 3
            if (f === 4) timeUs = varint(b)
            else if ((t & 7) === 2) {
              const n = varint(b)
              if (f === 1) os = pos
              else if (f === 2) ps = pos
              else if (f === 5) ds = pos
              else if (f === 6) fs = pos
              else if (f === 7) vs = pos
              pos += n
              if (f === 1) oe = pos
              else if (f === 2) pe = pos
              else if (f === 5) de = pos
              else if (f === 6) fe = pos
              else if (f === 7) ve = pos
            } else if ((t & 7) === 0) varint(b)
            else throw new Error("unexpected origin field")
          }
        } else if (field === 8) status = varint(b)
        else if (field === 9) {
          connect = double(b)
          has |= 2
        } else if (field === 10) {
          service = double(b)
          has |= 1
        } else if (field === 11) {
          bytes = varint(b)
          has |= 4
        } else if (wire === 2) {
          const n = varint(b) // read before pos is
          pos += n
        } else if (wire === 0) varint(b)
        else if (wire === 1) pos += 8
        else throw new Error("unexpected field")
      }
      const t = Math.floor(timeUs / 1000)
      if (t > this.st) this.st = t
      const st = this.st

      // the key's slot
      const id = record.key
      let key: Key | undefined
      for (let i = 0; i < 4; i++) {
        const k = this.recent[i]
        if (k !== undefined && k.id === id) {
          key = k
          break
        }
      }
      if (key === undefined) {
        key = this.keys.get(id)
        if (key === undefined) {
          key = new Key(id, text(b, os, oe), text(b, ps, pe))
          this.keys.set(id, key)
        }
        this.recent[this.nextRecent] = key
        this.nextRecent = (this.nextRecent + 1) & 3
      }
      const until = t - (t % Q) + Q + LATE
      if (until > key.until) key.until = until

      // first delivery of (key, drain, Frame-Id)
      if (fe !== fs) {
        const last = key.lastFrame
        const lens = key.lastLens
        let first: boolean
        let same = last !== undefined && !last.gone && lens[0] === de - ds && lens[1] === fe - fs
        same &&= lens[2] === ve - vs && ve > vs
        if (same) {
          const lb = key.lastBytes
          for (let i = vs, j = 0; i < ve; i++, j++)
            if (b[i] !== lb[j]) {
              same = false
              break
            }
        }
        if (same) {
          first = key.lastFirst
          if (first && until > last!.until) last!.until = until
        } else {
          const fid = `${text(b, ds, de)}\u0000${text(b, fs, fe)}`
          const delivery = text(b, vs, ve)
          let frame = key.frames.get(fid)
          first = true
          if (frame === undefined) {
            frame = { delivery, until, gone: false }
            key.frames.set(fid, frame)
            if (until <= st) this.stale.push(frame)
          } else if (frame.delivery !== delivery) first = false
          else if (until > frame.until) frame.until = until
          if (key.lastBytes.length < ve - vs) key.lastBytes = new Uint8Array(ve - vs)
          key.lastBytes.set(b.subarray(vs, ve))
          lens[0] = de - ds
          lens[1] = fe - fs
          lens[2] = ve - vs
          key.lastFrame = frame
          key.lastFirst = first
        }
        if (!first) {
          this.duplicates++
          continue
        }
      }

      // the record's series
      let sStatus: Series | undefined
      for (let period = 0; period < 2; period++) {
        // its window
        let w = period === 0 ? this.w0 : this.w1
        if (w === undefined || t < w.start || t >= w.end) {
          const size = period === 0 ? M1 : Q
          const start = t - (((t % size) + size) % size)
          if (start + size + LATE <= st) w = undefined
          else {
            w = this.open.get(start * 4 + period)
            if (w === undefined) {
              w = new Win(period, start, start + size, record.offset)
              this.open.set(start * 4 + period, w)
            }
            if (period === 0) this.w0 = w
            else this.w1 = w
          }
        } else if (w.end + LATE <= st) w = undefined
        if (w === undefined) {
          this.late++
          continue
        }
        if (sStatus === undefined) {
          sStatus = status < 1000 ? key.status[status] : key.statusOther.get(status)
          if (sStatus === undefined) {
            sStatus = new Series(key, "router_status", String(status), false)
            if (status < 1000) key.status[status] = sStatus
            else key.statusOther.set(status, sStatus)
          }
          if (has & 1) key.service ??= new Series(key, "router_service_ms", "", true)
          if (has & 2) key.connect ??= new Series(key, "router_connect_ms", "", true)
          if (has & 4) key.bytes ??= new Series(key, "router_bytes", "", false)
        }
        let m = 0
        cells[m] = this.cell(sStatus, w)
        values[m++] = 1
        if (has & 1) {
          cells[m] = this.cell(key.service!, w)
          values[m++] = service
        }
        if (has & 2) {
          cells[m] = this.cell(key.connect!, w)
          values[m++] = connect
        }
        if (has & 4) {
          cells[m] = this.cell(key.bytes!, w)
          values[m++] = bytes
        }
        for (let i = 0; i < m; i++) {
          const c = cells[i]!
          const x = values[i]!
          c.count++
          c.sum += x
          c.sumsq += x * x
          if (x < c.min) c.min = x
          if (x > c.max) c.max = x
          if (c.series.sketched) {
            if (!(x > MIN_POSSIBLE)) c.zero++
            else {
              const xi = x | 0
              const k = xi === x && xi < 65536 ? KEYS[xi]! : Math.ceil(Math.log2(x) * MULT)
              const i = k - c.off
              if (i >= 0 && i < c.bins.length) c.bins[i]!++
              else grow(c, k)
            }
          }
        }
        if (Number.isNaN(w.dirtySince)) {
          w.dirtySince = now
          this.dirty++
        }
      }
    }
  }

  private cell(s: Series, w: Win): Cell {
    let c = w.period === 0 ? s.c0 : s.c1
    if (c !== undefined && c.win === w) return c
    c = w.bySeries.get(s)
    if (c === undefined) {
      c = new Cell(s, w)
      w.bySeries.set(s, c)
      w.cells.push(c)
    }
    if (w.period === 0) s.c0 = c
    else s.c1 = c
    return c
  }

  /** Closed windows and windows due after flushAfter (all with `all`); forgets what closed; a commit point. */
  collect(now: number, flushAfterMs: number, all: boolean, out: (e: Emitted) => void): number {
    let n = 0
    const st = this.st
    const closed: Array<Win> = []
    for (const [id, w] of this.open)
      if (w.end + LATE <= st) {
        closed.push(w)
        this.open.delete(id)
      }
    closed.sort((a, b) => a.start - b.start || a.period - b.period)
    for (const w of closed) {
      if (!Number.isNaN(w.dirtySince)) this.dirty--
      n += emit(w, out)
      for (const c of w.cells) {
        if (c.series.c0 === c) c.series.c0 = undefined
        if (c.series.c1 === c) c.series.c1 = undefined
      }
    }
    if (this.dirty > 0)
      for (const w of this.open.values())
        if (!Number.isNaN(w.dirtySince) && (all || now - w.dirtySince >= flushAfterMs)) {
          n += emit(w, out)
          w.dirtySince = Number.NaN
          this.dirty--
        }
    for (const f of this.stale) if (f.until <= st) f.gone = true
    this.stale = []
    const quarter = Math.floor((st - LATE) / Q)
    if (quarter > this.swept) {
      this.swept = quarter
      for (const [id, k] of this.keys) {
        for (const [fid, f] of k.frames)
          if (f.until <= st) {
            f.gone = true
            k.frames.delete(fid)
          }
        if (k.until <= st) {
          this.keys.delete(id)
          for (let i = 0; i < 4; i++) if (this.recent[i] === k) this.recent[i] = undefined
        }
      }
    }
    let point = this.nextOffset
    let oldest = Number.POSITIVE_INFINITY
    for (const w of this.open.values()) {
      if (w.firstOffset < point) point = w.firstOffset
      if (w.start < oldest) oldest = w.start
    }
    this.lastCommit = `${point}:${JSON.stringify({ v: 1, st, upto: this.nextOffset, oldest })}`
    return n
  }
}

function grow(c: Cell, k: number): void {
  const old = c.bins
  if (old.length === 0) {
    c.bins = new Array<number>(32).fill(0)
    c.off = k - 16
  } else {
    const lo = k < c.off ? k - 32 : c.off
    const hi = k >= c.off + old.length ? k + 32 : c.off + old.length - 1
    const bins = new Array<number>(hi - lo + 1).fill(0)
    for (let i = 0; i < old.length; i++) bins[i + c.off - lo] = old[i]!
    c.bins = bins
    c.off = lo
  }
  c.bins[k - c.off]!++
}

const vsize = (v: number) => {
  let n = 1
  while (v >= 128) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}
const vwrite = (b: Uint8Array, p: number, v: number) => {
  while (v >= 128) {
    b[p++] = (v % 128) | 128
    v = Math.floor(v / 128)
  }
  b[p++] = v
  return p
}
const dwrite = (b: Uint8Array, p: number, tag: number, x: number) => {
  if (Object.is(x, 0)) return p
  b[p++] = tag
  f64[0] = x
  for (let i = 0; i < 8; i++) b[p + i] = f8[i]!
  return p + 8
}
const d = (x: number) => (Object.is(x, 0) ? 0 : 9)
const str = (tag: number, s: string) => {
  if (s === "") return new Uint8Array(0)
  const bytes = enc.encode(s)
  const out = new Uint8Array(1 + vsize(bytes.length) + bytes.length)
  out[0] = tag
  out.set(bytes, vwrite(out, 1, bytes.length))
  return out
}

/** Emits a window's changed cells as Summary bytes (fields in number order, proto3 defaults left out). */
function emit(w: Win, out: (e: Emitted) => void): number {
  let n = 0
  for (const c of w.cells) {
    if (c.count === c.emitted) continue
    c.emitted = c.count
    n++
    const s = c.series
    s.head ??= Buffer.concat([str(10, s.key.owner), str(18, s.key.pt), str(26, s.metric), str(34, s.label)])
    // the sketch: mapping, positive store (contiguous counts from the first non-empty bin), empty negative store, zero count
    let sketch = 0
    let first = 0
    let last = -1
    let store = 0
    if (s.sketched) {
      last = c.bins.length - 1
      while (first <= last && c.bins[first] === 0) first++
      while (last >= first && c.bins[last] === 0) last--
      const k = c.off + first
      const zz = ((k << 1) ^ (k >> 31)) >>> 0
      if (last >= first) {
        const m = (last - first + 1) * 8
        store = 1 + vsize(m) + m + 1 + vsize(zz)
      }
      sketch = 20 + 1 + vsize(store) + store + 2 + (c.zero > 0 ? 9 : 0)
    }
    const cnt = vsize(c.count)
    const size =
      s.head.length +
      2 +
      1 +
      vsize(w.start) +
      2 * (1 + cnt) +
      d(c.sum) +
      d(c.sumsq) +
      d(c.min) +
      d(c.max) +
      (sketch > 0 ? 1 + vsize(sketch) + sketch : 0)
    const b = Buffer.allocUnsafe(size)
    b.set(s.head, 0)
    let p = s.head.length
    b[p++] = 40
    b[p++] = w.period + 1
    b[p++] = 48
    p = vwrite(b, p, w.start)
    b[p++] = 56
    p = vwrite(b, p, c.count)
    p = dwrite(b, p, 65, c.sum)
    p = dwrite(b, p, 73, c.sumsq)
    p = dwrite(b, p, 81, c.min)
    p = dwrite(b, p, 89, c.max)
    if (sketch > 0) {
      b[p++] = 98
      p = vwrite(b, p, sketch)
      b[p++] = 10
      b[p++] = 18
      p = dwrite(b, p, 9, GAMMA)
      // index offset 1.0: the protobuf's own reading of ceil-keys (see INDEX_OFFSET in domain/Sketch.ts)
      p = dwrite(b, p, 17, 1)
      b[p++] = 18
      p = vwrite(b, p, store)
      if (last >= first) {
        b[p++] = 18
        p = vwrite(b, p, (last - first + 1) * 8)
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
        for (let i = first; i <= last; i++, p += 8) view.setFloat64(p, c.bins[i]!, true)
        const k = c.off + first
        b[p++] = 24
        p = vwrite(b, p, ((k << 1) ^ (k >> 31)) >>> 0)
      }
      b[p++] = 26
      b[p++] = 0
      if (c.zero > 0) p = dwrite(b, p, 33, c.zero)
    }
    b[p++] = 104
    p = vwrite(b, p, c.count)
    if (p !== size) throw new Error(`plain summary wrote ${p} of ${size}`)
    out({ key: s.prefix + w.suffix, value: b })
  }
  return n
}
