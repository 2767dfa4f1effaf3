/**
 * Summary rows as COPY input, in the column order of SUMMARY_COLUMNS: PostgreSQL's binary format (what
 * the sink sends) and the text format (kept for `psql \copy` in the benchmark). Plain loops over one
 * preallocated buffer: this runs for every row the sink writes.
 *
 * A value the format cannot carry (an owner that is not a UUID, a count that is not an integer) throws
 * InvalidRow with the SQLSTATE Postgres gives for the same value in text (22P02), so it is Rejected like
 * any other bad data. Text the server refuses (a NUL byte) is left for the server to refuse (22021).
 */
import type { SummaryRow } from "./Rows.ts"

export class InvalidRow extends Error {
  readonly code = "22P02"
}

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1")
const FIELDS = 12
/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000
const TWO_32 = 4_294_967_296

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const hex = (c: number) => (c <= 57 ? c - 48 : (c | 32) - 87)

const writeUuid = (buf: Buffer, at: number, uuid: string) => {
  if (uuid.length !== 36 || !UUID.test(uuid))
    throw new InvalidRow(`invalid input syntax for type uuid: "${uuid}"`)
  let o = at
  for (let i = 0; i < 36; i += 2) {
    if (uuid.charCodeAt(i) === 45) i++
    buf[o++] = (hex(uuid.charCodeAt(i)) << 4) | hex(uuid.charCodeAt(i + 1))
  }
}

/** An integral number as int8 (two big-endian int32 halves; exact up to 2^53). */
const writeInt8 = (buf: Buffer, at: number, n: number, what: string) => {
  if (!Number.isSafeInteger(n)) throw new InvalidRow(`invalid input syntax for type bigint (${what}): "${n}"`)
  const hi = Math.floor(n / TWO_32)
  buf.writeInt32BE(hi, at)
  buf.writeUInt32BE(n - hi * TWO_32, at + 4)
}

/** Rows in COPY binary format: header, one tuple a row, trailer. */
export const copyBinary = (rows: ReadonlyArray<SummaryRow>): Buffer => {
  // Fixed per row: field count, 12 lengths, uuid 16, timestamptz/int8/4 float8/int8 = 8 each.
  let size = SIGNATURE.length + 8 + 2
  for (const r of rows)
    size +=
      2 +
      FIELDS * 4 +
      16 +
      8 * 7 +
      Buffer.byteLength(r.processType) +
      Buffer.byteLength(r.metric) +
      Buffer.byteLength(r.label) +
      r.sketch.byteLength
  const buf = Buffer.allocUnsafe(size)
  let o = SIGNATURE.copy(buf, 0)
  buf.writeInt32BE(0, o)
  buf.writeInt32BE(0, o + 4)
  o += 8
  const text = (s: string) => {
    const n = buf.write(s, o + 4, "utf8")
    buf.writeInt32BE(n, o)
    o += 4 + n
  }
  const float = (n: number) => {
    buf.writeInt32BE(8, o)
    buf.writeDoubleBE(n, o + 4)
    o += 12
  }
  const int8 = (n: number, what: string) => {
    buf.writeInt32BE(8, o)
    writeInt8(buf, o + 4, n, what)
    o += 12
  }
  for (const r of rows) {
    buf.writeInt16BE(FIELDS, o)
    buf.writeInt32BE(16, o + 2)
    writeUuid(buf, o + 6, r.owner)
    o += 22
    text(r.processType)
    text(r.metric)
    text(r.label)
    int8((r.startMs - PG_EPOCH_MS) * 1000, "start")
    int8(r.count, "count")
    float(r.sum)
    float(r.sumsq)
    float(r.min)
    float(r.max)
    buf.writeInt32BE(r.sketch.byteLength, o)
    buf.set(r.sketch, o + 4)
    o += 4 + r.sketch.byteLength
    int8(r.version, "version")
  }
  buf.writeInt16BE(-1, o)
  return buf
}

/** COPY text format: backslash, tab, newline and carriage return escaped. */
const escapeText = (s: string) =>
  s.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!)
const textFloat = (n: number) =>
  Object.is(n, -0) ? "-0" : Number.isFinite(n) ? String(n) : n > 0 ? "Infinity" : n < 0 ? "-Infinity" : "NaN"

/** Rows in COPY text format (tab-separated, one row a line). */
export const copyText = (rows: ReadonlyArray<SummaryRow>): string => {
  let out = ""
  for (const r of rows)
    out += `${r.owner}\t${escapeText(r.processType)}\t${escapeText(r.metric)}\t${escapeText(r.label)}\t${new Date(r.startMs).toISOString()}\t${r.count}\t${textFloat(r.sum)}\t${textFloat(r.sumsq)}\t${textFloat(r.min)}\t${textFloat(r.max)}\t\\\\x${Buffer.from(r.sketch.buffer, r.sketch.byteOffset, r.sketch.byteLength).toString("hex")}\t${r.version}\n`
  return out
}
