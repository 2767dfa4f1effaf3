/**
 * One drain delivery's measurements, encoded for their raw topics: one record per record key
 * (owner:process_type) and type, holding that key's measurements in the order of their lines
 * (measurement.proto: the message's own fields are the first, `next` holds the ones after it, each with
 * only its dyno and time in its origin). Fewer, larger records: the Kafka client, the broker and the
 * aggregator each pay their per-record work once per key of a delivery instead of once per line, and the
 * delivery's part of the Origin (owner, process type, drain, Frame-Id, delivery) is written once a record.
 *
 * The encoding is the generated protobuf's, byte for byte (test/ingress/encode.test.ts checks it against
 * `Wire.*.encode`), written by hand: strings are written in place (ASCII without a native call), lengths
 * are fixed up in place, and a record's value views its key's buffer.
 */

import type { OutRecord } from "../bus/Records.ts"
import { rawTopic } from "../bus/Topics.ts"
import type { EventKind, Measurement } from "../domain/Measurement.ts"
import { type MeasurementType, MeasurementTypes } from "../domain/MeasurementType.ts"
import { utf8Length, writeDouble, writeVarint } from "../proto/ProtoBytes.ts"

export interface Delivery {
  readonly owner: string
  /** The drain (Logplex-Drain-Token, or the owner when absent). */
  readonly drain: string
  /** Logplex-Frame-Id, "" when absent. */
  readonly frameId: string
  /** Unique per POST: tells a retry of the same Frame-Id apart from the first delivery. */
  readonly delivery: string
  /**
   * The ingress clock when the body was received (ms). It becomes every record's timestamp, which the
   * aggregator caps stream time with (DESIGN.md "Tenants": stream time never runs ahead of the ingest
   * clock). Without it (tools and tests that encode records themselves) a record's timestamp is the
   * latest event time of its measurements.
   */
  readonly receivedMs?: number | undefined
}

/** tally.v1.EventKind numbers. */
const EVENT_KINDS: Record<EventKind, number> = {
  state: 1,
  crash: 2,
  restart: 3,
  scale: 4,
  release: 5,
  deploy: 6,
  config: 7,
}

/**
 * A record is closed once it holds this many bytes and a new one of the same key begins (it follows
 * directly, in the same produce call): a record stays far below the broker's message.max.bytes and the
 * producer's share of a partition in one request (bus/kafka/kafkaProducer.ts).
 */
export const MAX_RECORD_BYTES = 128 * 1024
/** The field number of `next` in every raw message, as a length-delimited tag. */
const NEXT_TAG = (15 << 3) | 2

/** The measurements of one (type, process type) of the delivery being encoded. */
class Group {
  readonly type: MeasurementType
  readonly processType: string
  readonly items: Array<Measurement> = []

  constructor(type: MeasurementType, processType: string) {
    this.type = type
    this.processType = processType
  }
}

/** Encodes one delivery at a time: `begin`, `add` each measurement, then `finish` for its records. */
export class RecordEncoder {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  private owner = ""
  private drain = ""
  private frameId = ""
  private delivery = ""
  private receivedMs: number | undefined
  private readonly topics: Record<string, string> = {}
  private groups: Array<Group> = []
  private last: Group | undefined
  /** An upper bound of the bytes of every record of the delivery. */
  private total = 0

  constructor(prefix = "") {
    for (const t of MeasurementTypes) this.topics[t] = rawTopic(t, prefix)
  }

  /** Starts a delivery. */
  begin(d: Delivery): void {
    this.owner = d.owner
    this.drain = d.drain
    this.frameId = d.frameId
    this.delivery = d.delivery
    this.receivedMs = d.receivedMs
    this.groups = []
    this.last = undefined
    this.total = 0
  }

  private varint(v: number): void {
    this.pos = writeVarint(this.buf, this.pos, v)
  }

  /** A proto3 string field: left out when empty. */
  private string(field: number, s: string): void {
    const n = s.length
    if (n === 0) return
    const b = this.buf
    b[this.pos++] = (field << 3) | 2
    if (n < 128) {
      const at = this.pos + 1
      let i = 0
      for (; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        b[at + i] = c
      }
      if (i === n) {
        b[this.pos] = n
        this.pos = at + n
        return
      }
    }
    const bytes = utf8Length(s)
    this.varint(bytes)
    this.pos += b.write(s, this.pos, bytes, "utf8")
  }

  private double(field: number, v: number | undefined): void {
    if (v === undefined || v === null) return
    this.buf[this.pos++] = (field << 3) | 1
    this.pos = writeDouble(this.buf, this.pos, v)
  }

  private uint(field: number, v: number): void {
    if (v === 0) return
    this.buf[this.pos++] = field << 3
    this.varint(v >>> 0)
  }

  private uint64(field: number, v: number | undefined, always: boolean): void {
    if (v === undefined || v === null || (!always && v === 0)) return
    this.buf[this.pos++] = field << 3
    this.varint(v)
  }

  /** An upper bound of the bytes `m` encodes to (with the delivery's fields and a `next` tag). */
  private bound(m: Measurement): number {
    let chars =
      m.processType.length +
      m.dyno.length +
      this.owner.length +
      this.drain.length +
      this.frameId.length +
      this.delivery.length
    switch (m.type) {
      case "ROUTER_REQUESTS":
        chars +=
          m.at.length +
          m.method.length +
          m.path.length +
          m.host.length +
          m.requestId.length +
          m.fwd.length +
          m.protocol.length +
          m.code.length +
          m.desc.length
        break
      case "ERRORS":
        chars += m.code.length + m.description.length
        break
      case "PLATFORM_EVENTS":
        chars += m.process.length + m.description.length + m.actor.length
        break
      default:
        break
    }
    return 3 * chars + 200
  }

  /** Starts a length-delimited field `tag` whose length is written by `close` (2 bytes kept for it). */
  private open(tag: number): number {
    this.buf[this.pos++] = tag
    const lengthAt = this.pos
    this.pos += 2
    return lengthAt
  }

  /** Writes the length of the field opened at `lengthAt`, moving its bytes when it needs 1 or 3. */
  private close(lengthAt: number): void {
    const b = this.buf
    const start = lengthAt + 2
    const length = this.pos - start
    if (length < 128) {
      b[lengthAt] = length
      b.copyWithin(lengthAt + 1, start, this.pos)
      this.pos -= 1
    } else if (length < 16384) {
      b[lengthAt] = (length & 127) | 128
      b[lengthAt + 1] = length >>> 7
    } else {
      b.copyWithin(start + 1, start, this.pos)
      b[lengthAt] = (length & 127) | 128
      b[lengthAt + 1] = ((length >>> 7) & 127) | 128
      b[lengthAt + 2] = length >>> 14
      this.pos += 1
    }
  }

  /** The Origin: whole for a record's first measurement, else only what is the measurement's own. */
  private origin(m: Measurement, whole: boolean): void {
    const at = this.open(10) // field 1, length-delimited
    if (whole) {
      this.string(1, this.owner)
      this.string(2, m.processType)
    }
    this.string(3, m.dyno)
    this.uint64(4, m.timeUs, false)
    if (whole) {
      this.string(5, this.drain)
      this.string(6, this.frameId)
      this.string(7, this.delivery)
    }
    this.close(at)
  }

  /** The fields of `m` (its message without `next`). */
  private fields(m: Measurement, whole: boolean): void {
    this.origin(m, whole)
    switch (m.type) {
      case "DYNO_MEMORY":
        this.double(2, m.memoryTotal)
        this.double(3, m.memoryRss)
        this.double(4, m.memoryCache)
        this.double(5, m.memorySwap)
        this.double(6, m.memoryPgpgin)
        this.double(7, m.memoryPgpgout)
        this.double(8, m.memoryQuota)
        break
      case "DYNO_LOAD":
        this.double(2, m.loadAvg1m)
        this.double(3, m.loadAvg5m)
        this.double(4, m.loadAvg15m)
        break
      case "ROUTER_REQUESTS":
        this.string(2, m.at)
        this.string(3, m.method)
        this.string(4, m.path)
        this.string(5, m.host)
        this.string(6, m.requestId)
        this.string(7, m.fwd)
        this.uint(8, m.status)
        this.double(9, m.connectMs)
        this.double(10, m.serviceMs)
        this.uint64(11, m.bytes, true)
        this.string(12, m.protocol)
        this.string(13, m.code)
        this.string(14, m.desc)
        break
      case "ERRORS":
        this.string(2, m.code)
        this.uint64(3, m.count, false)
        this.string(4, m.description)
        break
      case "PLATFORM_EVENTS":
        this.uint(2, EVENT_KINDS[m.kind])
        this.string(3, m.process)
        this.string(4, m.description)
        this.string(5, m.actor)
        break
    }
  }

  /** The group of `m`'s type and process type (a delivery has a few: the last one is asked first). */
  private groupOf(m: Measurement): Group {
    const last = this.last
    if (last !== undefined && last.type === m.type && last.processType === m.processType) return last
    for (const g of this.groups)
      if (g.type === m.type && g.processType === m.processType) return (this.last = g)
    const g = new Group(m.type, m.processType)
    this.groups.push(g)
    return (this.last = g)
  }

  /** Adds `m` to the delivery's record of its key (encoded by `finish`). */
  add(m: Measurement): void {
    this.groupOf(m).items.push(m)
    this.total += this.bound(m)
  }

  /**
   * The delivery's records, encoded into one buffer: per (type, process type), in the order their first
   * measurement came, its records one after another (a key's measurements stay in line order), each
   * closed once it holds MAX_RECORD_BYTES.
   */
  finish(): Array<OutRecord> {
    const out: Array<OutRecord> = []
    this.buf = Buffer.allocUnsafe(this.total)
    this.pos = 0
    for (const g of this.groups) {
      const topic = this.topics[g.type]!
      const key = `${this.owner}:${g.processType}`
      let start = this.pos
      let count = 0
      let maxTimeUs = Number.NEGATIVE_INFINITY
      const close = () => {
        out.push({
          topic,
          key,
          timestamp: this.receivedMs ?? Math.floor(maxTimeUs / 1000),
          value: this.buf.subarray(start, this.pos),
        })
        start = this.pos
        count = 0
        maxTimeUs = Number.NEGATIVE_INFINITY
      }
      for (const m of g.items) {
        if (count > 0 && this.pos - start + this.bound(m) > MAX_RECORD_BYTES) close()
        if (count === 0) this.fields(m, true)
        else {
          const at = this.open(NEXT_TAG)
          this.fields(m, false)
          this.close(at)
        }
        count++
        if (m.timeUs > maxTimeUs) maxTimeUs = m.timeUs
      }
      if (count > 0) close()
    }
    this.groups = []
    this.last = undefined
    this.total = 0
    return out
  }
}

/** The records of a delivery's measurements, as the ingress produces them. */
export const toRecords = (
  measurements: ReadonlyArray<Measurement>,
  d: Delivery,
  prefix = "",
): Array<OutRecord> => {
  const encoder = new RecordEncoder(prefix)
  encoder.begin(d)
  for (const m of measurements) encoder.add(m)
  return encoder.finish()
}

/** One measurement's record (a record of one measurement: as every record was before records held several). */
export const toRecord = (m: Measurement, d: Delivery, prefix = ""): OutRecord => toRecords([m], d, prefix)[0]!
