/**
 * What both threads of the durable embedded log share: the SQLite schema, how a record's row id is
 * formed, the messages between the main thread (DurableLog.ts) and its writer (DurableLogWriter.ts),
 * and the packed form appends travel in (one transferred ArrayBuffer a job, no structured clone).
 * Dependency-free, so the writer worker loads nothing else.
 */

/** Offsets of one partition are below 2^42; a row id is `pid * SPAN + offset` (pid < 2048 keeps it < 2^53). */
export const SPAN = 2 ** 42
export const MAX_PARTITION_IDS = 2048

/**
 * A row holds one record, or `n` > 1 consecutive records of one partition (a record set, as Kafka's
 * record batches: the records of a partition that one transaction appends, at most MAX_SET): its id is
 * the first record's, its value the records packed (see packSet), its key and ts unused. Sets make the
 * log's per-row costs (an insert, a read step, a buffer) per transaction and partition instead of per
 * record. Compacted topics keep one record a row (superseded records are marked one by one).
 * `records.at` is the append time (ms, never decreasing within a partition): age-based retention deletes
 * prefixes by it. `dead = 1` marks a record of a compacted topic superseded by a later one of its key.
 * `latest` maps each key of a compacted partition to its newest offset. `partitions.floor` keeps the end
 * offset of a partition whose records were all deleted, so offsets are never reused.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partitions (
  pid INTEGER PRIMARY KEY, topic TEXT NOT NULL, partition INTEGER NOT NULL, floor INTEGER NOT NULL DEFAULT 0,
  UNIQUE (topic, partition));
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB NOT NULL, ts REAL NOT NULL, at INTEGER NOT NULL,
  dead INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS records_superseded ON records (dead) WHERE dead = 1;
CREATE TABLE IF NOT EXISTS latest (pid INTEGER NOT NULL, key TEXT NOT NULL, off INTEGER NOT NULL,
  PRIMARY KEY (pid, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_by_offset ON latest (pid, off);
CREATE TABLE IF NOT EXISTS commits (grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
  off INTEGER NOT NULL, metadata TEXT NOT NULL, PRIMARY KEY (grp, topic, partition)) WITHOUT ROWID;
`

/** Logs written before record sets lack `records.n`: every row of theirs is one record. */
export const MIGRATE_SETS = "ALTER TABLE records ADD COLUMN n INTEGER NOT NULL DEFAULT 1"

/** At most this many records a row. */
export const MAX_SET = 500

/** How durable a commit is when its append is acknowledged (see README: what embedded mode keeps where). */
export type Durability = "process-crash" | "power-loss"
export const synchronousOf = (d: Durability): string => (d === "power-loss" ? "FULL" : "NORMAL")

/**
 * Connection settings both threads apply (WAL: readers never block the writer, nor it them). Each
 * connection's page cache is 4 MB: the records read are the ones just written (the OS page cache has
 * them), and with two connections a larger cache is resident memory `npm start` keeps for nothing (at 8
 * MB it was still filling, and resident memory rising, minutes into a steady load).
 */
export const pragmas = (durability: Durability): string => `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = ${synchronousOf(durability)};
PRAGMA busy_timeout = 10000;
PRAGMA journal_size_limit = 67108864;
PRAGMA cache_size = -4096;
`

export interface CommitRow {
  readonly group: string
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly metadata: string
}

/**
 * Deletes, in partition `pid`, the prefix of records with offset < `below` and append time <= `before`;
 * with `superseded`, also the superseded records below `below` (compacted topics, whatever their age).
 */
export interface RetainPlan {
  readonly pid: number
  readonly below: number
  readonly before: number
  readonly superseded: boolean
}

export type ToWriter =
  | {
      readonly t: "job"
      readonly id: number
      /** Packed appends (see pack) and the byte length used in it. */
      readonly buf: ArrayBuffer
      readonly used: number
      readonly commits: ReadonlyArray<CommitRow>
      readonly at: number
    }
  | {
      readonly t: "retain"
      readonly id: number
      readonly plans: ReadonlyArray<RetainPlan>
      readonly budget: number
    }
  | { readonly t: "close" }

export interface Stats {
  readonly pageSize: number
  readonly pageCount: number
  readonly freePages: number
  /** [pid, records retained] for every partition that has any. */
  readonly counts: ReadonlyArray<readonly [number, number]>
  /** [pid, first retained offset] for the partitions retention touched. */
  readonly starts: ReadonlyArray<readonly [number, number]>
}

export type FromWriter =
  | { readonly t: "ready" }
  /** A job committed: the new end offset of every partition it appended to. */
  | { readonly t: "done"; readonly id: number; readonly ends: ReadonlyArray<readonly [number, number]> }
  | { readonly t: "failed"; readonly id: number; readonly message: string }
  /** A retention step ran; `next` is the index of the first plan with work left (plans.length when none). */
  | {
      readonly t: "retained"
      readonly id: number
      readonly next: number
      readonly deleted: number
      readonly stats: Stats
    }
  | { readonly t: "closed" }

const encoder = new TextEncoder()

/** One append's record on its way to the writer. */
export interface Packable {
  readonly pid: number
  readonly compacted: boolean
  readonly key: string
  readonly value: Uint8Array
  readonly timestamp: number
}

/** Packs records as: count u32, then per record pid u16, compacted u8, ts f64, key (u32 + UTF-8), value (u32 + bytes). */
export const pack = (records: ReadonlyArray<Packable>): { buf: ArrayBuffer; used: number } => {
  let size = 4
  for (const r of records) size += 19 + r.key.length * 3 + r.value.length
  const buf = new ArrayBuffer(size)
  const bytes = new Uint8Array(buf)
  const view = new DataView(buf)
  view.setUint32(0, records.length)
  let o = 4
  for (const r of records) {
    view.setUint16(o, r.pid)
    view.setUint8(o + 2, r.compacted ? 1 : 0)
    view.setFloat64(o + 3, r.timestamp)
    const { written } = encoder.encodeInto(r.key, bytes.subarray(o + 15))
    view.setUint32(o + 11, written)
    o += 15 + written
    view.setUint32(o, r.value.length)
    bytes.set(r.value, o + 4)
    o += 4 + r.value.length
  }
  return { buf, used: o }
}

const decoder = new TextDecoder()

/** Calls `each` for every packed record, in order (key and value are views into `buf`). */
export const unpack = (
  buf: ArrayBuffer,
  each: (pid: number, compacted: boolean, timestamp: number, key: Uint8Array, value: Uint8Array) => void,
): number => {
  const bytes = new Uint8Array(buf)
  const view = new DataView(buf)
  const n = view.getUint32(0)
  let o = 4
  for (let i = 0; i < n; i++) {
    const pid = view.getUint16(o)
    const compacted = view.getUint8(o + 2) === 1
    const timestamp = view.getFloat64(o + 3)
    const keyLength = view.getUint32(o + 11)
    const key = bytes.subarray(o + 15, o + 15 + keyLength)
    o += 15 + keyLength
    const valueLength = view.getUint32(o)
    each(pid, compacted, timestamp, key, bytes.subarray(o + 4, o + 4 + valueLength))
    o += 4 + valueLength
  }
  return n
}

/** A record of a set on its way into a row: key and value as bytes. */
export interface SetRecord {
  readonly timestamp: number
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** Packs a record set's row value: per record ts f64, key (u32 + UTF-8), value (u32 + bytes). */
export const packSet = (records: ReadonlyArray<SetRecord>): Uint8Array => {
  let size = 0
  for (const r of records) size += 16 + r.key.length + r.value.length
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  let o = 0
  for (const r of records) {
    view.setFloat64(o, r.timestamp)
    view.setUint32(o + 8, r.key.length)
    bytes.set(r.key, o + 12)
    o += 12 + r.key.length
    view.setUint32(o, r.value.length)
    bytes.set(r.value, o + 4)
    o += 4 + r.value.length
  }
  return bytes
}

/**
 * Reads a set's records at offsets `first`, `first + 1`, ... into `out`, skipping those below `from`,
 * until `out` holds `max`. A key equal to the record's before it is the same string (no decoding).
 * Values are views into `row`.
 */
export const unpackSet = (
  row: Uint8Array,
  first: number,
  from: number,
  max: number,
  out: Array<{ key: string; value: Uint8Array; timestamp: number; offset: number }>,
): void => {
  const view = new DataView(row.buffer, row.byteOffset, row.byteLength)
  let o = 0
  let offset = first
  let lastKey = ""
  let lastAt = -1
  let lastLength = -1
  while (o < row.length && out.length < max) {
    const timestamp = view.getFloat64(o)
    const keyLength = view.getUint32(o + 8)
    const keyAt = o + 12
    o = keyAt + keyLength
    const valueLength = view.getUint32(o)
    const value = row.subarray(o + 4, o + 4 + valueLength)
    o += 4 + valueLength
    if (offset >= from) {
      if (keyLength !== lastLength || !sameBytes(row, keyAt, lastAt, keyLength)) {
        lastKey = decoder.decode(row.subarray(keyAt, keyAt + keyLength))
        lastLength = keyLength
      }
      lastAt = keyAt
      out.push({ key: lastKey, value, timestamp, offset })
    }
    offset++
  }
}

/** The byte position in a set's row value where its record `k` (0 = the first) starts. */
export const setRecordAt = (row: Uint8Array, k: number): number => {
  const view = new DataView(row.buffer, row.byteOffset, row.byteLength)
  let o = 0
  for (let i = 0; i < k; i++) {
    o += 12 + view.getUint32(o + 8)
    o += 4 + view.getUint32(o)
  }
  return o
}

const sameBytes = (bytes: Uint8Array, a: number, b: number, length: number): boolean => {
  if (b < 0) return false
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false
  return true
}
