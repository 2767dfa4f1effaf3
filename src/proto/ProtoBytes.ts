/**
 * Protobuf wire primitives over plain Uint8Arrays for per-record hot paths: a reusable cursor instead of
 * a Reader per message, and writes straight into a buffer of known size instead of a Writer's operation
 * list. Same results as protobufjs (with 64-bit values as numbers, see proto/numbers.ts); the aggregator's
 * tests hold the decoders and encoders built on these to the generated code.
 */

const f64 = new Float64Array(1)
const f8 = new Uint8Array(f64.buffer)
if (new Uint8Array(new Float64Array([-0]).buffer)[7] !== 0x80)
  throw new Error("ProtoBytes assumes a little-endian platform")

export const VARINT = 0
export const FIXED64 = 1
export const LENGTH = 2
const START_GROUP = 3
const END_GROUP = 4
const FIXED32 = 5

const outOfRange = () => new RangeError("index out of range")

/** Reads a message in place. `pos` moves as fields are read; strings are read as byte ranges. */
export class Cursor {
  buf: Uint8Array = new Uint8Array(0)
  pos = 0
  len = 0
  /** The 64-bit varint last read by `long`, as protobufjs' LongBits. */
  private lo = 0
  private hi = 0

  reset(buf: Uint8Array): void {
    this.buf = buf
    this.pos = 0
    this.len = buf.length
  }

  /** A varint's low 32 bits, unsigned (protobufjs `uint32`). */
  uint32(): number {
    const buf = this.buf
    let b = buf[this.pos++]!
    let v = b & 127
    if (b < 128) return v
    b = buf[this.pos++]!
    v |= (b & 127) << 7
    if (b < 128) return v
    b = buf[this.pos++]!
    v |= (b & 127) << 14
    if (b < 128) return v
    b = buf[this.pos++]!
    v |= (b & 127) << 21
    if (b < 128) return v
    b = buf[this.pos++]!
    v = (v | ((b & 15) << 28)) >>> 0
    if (b < 128) return v
    if ((this.pos += 5) > this.len) throw outOfRange()
    return v
  }

  /** A 64-bit varint as a number: `int64` (signed) or `uint64` (unsigned) of protobufjs. */
  long(unsigned: boolean): number {
    this.readLong()
    if (!unsigned && this.hi >>> 31) {
      const lo = (~this.lo + 1) >>> 0
      let hi = ~this.hi >>> 0
      if (!lo) hi = (hi + 1) >>> 0
      return -(lo + hi * 4294967296)
    }
    return this.lo + this.hi * 4294967296
  }

  private readLong(): void {
    const buf = this.buf
    let lo = 0
    let hi = 0
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.len) throw outOfRange()
      const b = buf[this.pos++]!
      lo = (lo | ((b & 127) << (i * 7))) >>> 0
      if (b < 128) {
        this.lo = lo
        this.hi = 0
        return
      }
    }
    if (this.pos >= this.len) throw outOfRange()
    let b = buf[this.pos++]!
    lo = (lo | ((b & 127) << 28)) >>> 0
    hi = (hi | ((b & 127) >> 4)) >>> 0
    if (b >= 128)
      for (let i = 0; ; i++) {
        if (i === 5) throw new Error("invalid varint encoding")
        if (this.pos >= this.len) throw outOfRange()
        b = buf[this.pos++]!
        hi = (hi | ((b & 127) << (i * 7 + 3))) >>> 0
        if (b < 128) break
      }
    this.lo = lo
    this.hi = hi
  }

  /** A little-endian double (fixed64). */
  double(): number {
    const buf = this.buf
    const p = this.pos
    if ((this.pos += 8) > this.len) throw outOfRange()
    f8[0] = buf[p]!
    f8[1] = buf[p + 1]!
    f8[2] = buf[p + 2]!
    f8[3] = buf[p + 3]!
    f8[4] = buf[p + 4]!
    f8[5] = buf[p + 5]!
    f8[6] = buf[p + 6]!
    f8[7] = buf[p + 7]!
    return f64[0]!
  }

  /** Reads a length prefix and returns where the delimited bytes end (they start at `pos`). */
  delimited(): number {
    const n = this.uint32()
    const end = this.pos + n
    if (end > this.len) throw outOfRange()
    return end
  }

  /** Skips a field of `wireType` (protobufjs `skipType`). */
  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        while (this.buf[this.pos++]! & 128) if (this.pos >= this.len) throw outOfRange()
        break
      case FIXED64:
        this.pos += 8
        break
      case LENGTH:
        this.pos = this.delimited()
        break
      case START_GROUP:
        for (let w = this.uint32() & 7; w !== END_GROUP; w = this.uint32() & 7) this.skip(w)
        break
      case FIXED32:
        this.pos += 4
        break
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`)
    }
    if (this.pos > this.len) throw outOfRange()
  }
}

/** UTF-8 text of `bytes[start, end)`. */
export const utf8 = (bytes: Uint8Array, start: number, end: number): string => {
  if (end - start <= 16) {
    let s = ""
    for (let i = start; i < end; i++) {
      const b = bytes[i]!
      if (b >= 128) return Buffer.prototype.utf8Slice.call(bytes, start, end)
      s += String.fromCharCode(b)
    }
    return s
  }
  return Buffer.prototype.utf8Slice.call(bytes, start, end)
}

/** Whether `a[aStart, aEnd)` and `b[bStart, bStart + (aEnd - aStart))` hold the same bytes. */
export const sameBytes = (a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number) => {
  for (let i = aStart, j = bStart; i < aEnd; i++, j++) if (a[i] !== b[j]) return false
  return true
}

// ---- writing: sizes first, then writes at a position, each returning the next position

/** Bytes of a varint of `value` written as protobufjs `uint64`/`int64` of a number (uint32 below 2^32). */
export const varintSize = (value: number): number => {
  if (value >= 0 && value <= 0xffffffff) {
    let n = 1
    for (let v = value >>> 7; v !== 0; v >>>= 7) n++
    return n
  }
  longBits(value)
  return bitsHi === 0 ? varintSize(bitsLo) : varint64Size(bitsLo, bitsHi)
}

const varint64Size = (lo: number, hi: number) => {
  let n = 1
  while (hi) {
    n++
    lo = ((lo >>> 7) | (hi << 25)) >>> 0
    hi >>>= 7
  }
  while (lo > 127) {
    n++
    lo >>>= 7
  }
  return n
}

/** The low and high 32 bits longBits found last (no allocation per value). */
let bitsLo = 0
let bitsHi = 0

/** protobufjs' LongBits.fromNumber: the low 64 bits of `value`, truncated, into bitsLo and bitsHi. */
const longBits = (value: number): void => {
  const sign = value < 0
  if (sign) value = -value
  let lo = value >>> 0
  let hi = ((value - lo) / 4294967296) >>> 0
  if (sign) {
    hi = ~hi >>> 0
    lo = ~lo >>> 0
    if (++lo > 4294967295) {
      lo = 0
      if (++hi > 4294967295) hi = 0
    }
  }
  bitsLo = lo
  bitsHi = hi
}

/**
 * Writes `value` as a varint at `pos` (protobufjs `uint32` below 2^32, else `uint64`/`int64` of a
 * number, the low 64 bits of its truncation) and returns the next position.
 */
export const writeVarint = (buf: Uint8Array, pos: number, value: number): number => {
  if (value >= 0 && value <= 0xffffffff) {
    while (value > 127) {
      buf[pos++] = (value & 127) | 128
      value >>>= 7
    }
    buf[pos++] = value
    return pos
  }
  longBits(value)
  let lo = bitsLo
  let hi = bitsHi
  while (hi) {
    buf[pos++] = (lo & 127) | 128
    lo = ((lo >>> 7) | (hi << 25)) >>> 0
    hi >>>= 7
  }
  while (lo > 127) {
    buf[pos++] = (lo & 127) | 128
    lo >>>= 7
  }
  buf[pos++] = lo
  return pos
}

/** Bytes of `s` in UTF-8 (strings decoded from UTF-8 have no lone surrogates). */
export const utf8Length = (s: string): number => {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      n += 2 // a surrogate pair: 4 bytes for 2 code units
      i++
    } else n += 2
  }
  return n
}

/** Zigzag of a 32-bit signed value (protobufjs `sint32`), as the unsigned varint value to write. */
export const zigzag32 = (value: number): number => ((value << 1) ^ (value >> 31)) >>> 0

export const writeDouble = (buf: Uint8Array, pos: number, value: number): number => {
  f64[0] = value
  buf[pos] = f8[0]!
  buf[pos + 1] = f8[1]!
  buf[pos + 2] = f8[2]!
  buf[pos + 3] = f8[3]!
  buf[pos + 4] = f8[4]!
  buf[pos + 5] = f8[5]!
  buf[pos + 6] = f8[6]!
  buf[pos + 7] = f8[7]!
  return pos + 8
}

/** Bytes of a length-delimited field of `length` bytes with a one-byte tag. */
export const delimitedSize = (length: number): number => 1 + varintSize(length) + length
