/**
 * A parsed measurement plus where it came from, encoded for its raw topic (key owner:process_type).
 *
 * The encoding is the generated protobuf's, byte for byte (test/ingress/encode.test.ts checks it against
 * `Wire.*.encode`), written by hand: the drain's part of the Origin (owner; drain, Frame-Id, delivery)
 * is encoded once per delivery and copied into each record, strings are written in place (ASCII
 * without a native call), and every record of a delivery lands in one buffer the records' values view.
 */

import type { OutRecord } from "../bus/Records.ts"
import { rawTopic } from "../bus/Topics.ts"
import type { EventKind, Measurement } from "../domain/Measurement.ts"
import { MeasurementTypes } from "../domain/MeasurementType.ts"
import { utf8Length, writeDouble, writeVarint } from "../stream/ProtoBytes.ts"

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
   * clock). Without it (tools and tests that encode records themselves) the timestamp is the event time.
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

const CHUNK = 64 * 1024

/** Encodes measurements of one delivery at a time; each record's value views a shared buffer. */
export class RecordEncoder {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  /** Origin field 1 (owner), and fields 5-7 (drain, Frame-Id, delivery), encoded once per delivery. */
  private head: Buffer = Buffer.alloc(0)
  private tail: Buffer = Buffer.alloc(0)
  private owner = ""
  private receivedMs: number | undefined
  private readonly topics: Record<string, string> = {}

  constructor(prefix = "") {
    for (const t of MeasurementTypes) this.topics[t] = rawTopic(t, prefix)
  }

  /** Starts a delivery; `bytes` (the body's size) sizes the first buffer. */
  begin(d: Delivery, bytes = CHUNK): void {
    this.owner = d.owner
    this.receivedMs = d.receivedMs
    this.head = this.fields([[1, d.owner]])
    this.tail = this.fields([
      [5, d.drain],
      [6, d.frameId],
      [7, d.delivery],
    ])
    this.buf = Buffer.allocUnsafe(Math.max(4096, bytes))
    this.pos = 0
  }

  private fields(list: ReadonlyArray<readonly [number, string]>): Buffer {
    let size = 0
    for (const [, s] of list) size += 6 + 3 * s.length
    const saved = this.buf
    const savedPos = this.pos
    this.buf = Buffer.allocUnsafe(size)
    this.pos = 0
    for (const [field, s] of list) this.string(field, s)
    const out = Buffer.from(this.buf.subarray(0, this.pos))
    this.buf = saved
    this.pos = savedPos
    return out
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

  /** An upper bound of the bytes `m` encodes to. */
  private bound(m: Measurement): number {
    let chars = m.processType.length + m.dyno.length
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
    return 3 * chars + this.head.length + this.tail.length + 160
  }

  private origin(m: Measurement): void {
    const b = this.buf
    b[this.pos++] = 10 // field 1, length-delimited
    // The Origin's length is known once written: 2 bytes are kept for it and moved when it needs 1 or 3.
    const lengthAt = this.pos
    this.pos += 2
    const start = this.pos
    this.head.copy(b, this.pos)
    this.pos += this.head.length
    this.string(2, m.processType)
    this.string(3, m.dyno)
    this.uint64(4, m.timeUs, false)
    this.tail.copy(b, this.pos)
    this.pos += this.tail.length
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

  /** The record of `m` in the current delivery. */
  record(m: Measurement): OutRecord {
    const need = this.bound(m)
    if (this.buf.length - this.pos < need) {
      this.buf = Buffer.allocUnsafe(Math.max(CHUNK, need))
      this.pos = 0
    }
    const start = this.pos
    this.origin(m)
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
    return {
      topic: this.topics[m.type]!,
      key: `${this.owner}:${m.processType}`,
      timestamp: this.receivedMs ?? Math.floor(m.timeUs / 1000),
      value: this.buf.subarray(start, this.pos),
    }
  }
}

/** One measurement's record (a one-off encoder: the ingress keeps one per delivery instead). */
export const toRecord = (m: Measurement, d: Delivery, prefix = ""): OutRecord => {
  const encoder = new RecordEncoder(prefix)
  encoder.begin(d, 0)
  return encoder.record(m)
}
