/**
 * The aggregator benchmark's input: raw router measurements exactly as the ingress writes them
 * (Encode.ts `toRecord`), in drain batches of 100 lines of one app, 200 apps × 3 process types (600 record
 * keys) by default, every batch with a real Frame-Id and a delivery id named as the ingress names them. Event time advances over `spanMs` (many
 * minutes, so 1m and 15m windows close); 1 batch in 97 is delivered again 5 batches later (same Frame-Id,
 * another delivery: its records must be discarded); 1 batch in 53 arrives 2-4 minutes late (still counts)
 * and 1 in 211 arrives 7 minutes late (too late for its minute, counted as late; its quarter may be open).
 * Deterministic; all in one partition (the unit of a PartitionRollup).
 */
import type { InRecord } from "../../src/bus/Records.ts"
import type { RouterRequest } from "../../src/domain/Measurement.ts"
import { toRecord } from "../../src/ingress/Encode.ts"
import {
  APPS,
  batchLines,
  hex,
  LINES_PER_BATCH,
  ownerOf,
  RETRY_AFTER,
  RETRY_EVERY,
  random,
} from "./routerLines.ts"

const LATE_EVERY = 53
const TOO_LATE_EVERY = 211

/** As the ingress names deliveries: its process id (4 ingress processes here), then a sequence number. */
const deliveryId = (n: number) =>
  `${["9f3a61c2b7d4", "04e6a7f1c3b9", "c81d2e9a6f05", "5b7c0d3e8a21"][n % 4]}-${n}`

/**
 * Records stored compactly off the heap (one buffer of values, one of keys), handed out a batch at a
 * time as a consumer would: fresh key strings and views of the value bytes, so the timed code never sees
 * a prepared string or a heap holding millions of records.
 */
export class Input {
  readonly length: number
  /** Records of retried deliveries (to be discarded). */
  readonly retried: number
  /** Records of batches delivered 7 minutes late. */
  readonly tooLate: number
  private readonly values: Buffer
  private readonly valueEnds: Float64Array
  private readonly keys: Buffer
  private readonly keyEnds: Float64Array

  constructor(records: ReadonlyArray<{ key: string; value: Uint8Array }>, retried: number, tooLate: number) {
    this.length = records.length
    this.retried = retried
    this.tooLate = tooLate
    this.values = Buffer.concat(records.map((r) => r.value))
    this.keys = Buffer.from(records.map((r) => r.key).join(""), "latin1")
    this.valueEnds = new Float64Array(records.length)
    this.keyEnds = new Float64Array(records.length)
    let v = 0
    let k = 0
    records.forEach((r, i) => {
      this.valueEnds[i] = v += r.value.length
      this.keyEnds[i] = k += r.key.length
    })
  }

  /** Records `[from, to)` as a consumer delivers them (offsets from 0). */
  batch(from: number, to: number): Array<InRecord> {
    const out: Array<InRecord> = []
    for (let i = from; i < to; i++) {
      const v = i === 0 ? 0 : this.valueEnds[i - 1]!
      const k = i === 0 ? 0 : this.keyEnds[i - 1]!
      const value = this.values.subarray(v, this.valueEnds[i]!)
      out.push({ key: this.keys.toString("latin1", k, this.keyEnds[i]!), value, timestamp: 0, offset: i })
    }
    return out
  }
}

/** `records` raw records of `apps` apps, offsets from 0, event times from `t0` over about `spanMs`. */
export const routerInput = (records: number, t0: number, spanMs: number, apps = APPS): Input => {
  const next = random(12)
  const batches = Math.ceil(records / LINES_PER_BATCH)
  const out: Array<{ key: string; value: Uint8Array }> = []
  const pending = new Map<number, { app: number; frameId: string; lines: Array<RouterRequest> }>()
  let retried = 0
  let tooLate = 0
  let posts = 0
  const push = (app: number, frameId: string, delivery: string, lines: ReadonlyArray<RouterRequest>) => {
    const owner = ownerOf(app)
    for (const m of lines) {
      if (out.length >= records) return
      const r = toRecord(m, { owner, drain: `d.${owner}`, frameId, delivery })
      out.push({ key: r.key, value: r.value })
    }
  }
  for (let b = 0; out.length < records; b++) {
    const retry = pending.get(b)
    if (retry) {
      pending.delete(b)
      const before = out.length
      push(retry.app, retry.frameId, deliveryId(posts++), retry.lines)
      retried += out.length - before
    }
    const app = (b * 7) % apps
    const late = b % TOO_LATE_EVERY === 3 ? 7 * 60_000 : b % LATE_EVERY === 5 ? (2 + (b % 3)) * 60_000 : 0
    const startMs = Math.max(t0, t0 + Math.floor((b * spanMs) / batches) - late)
    const lines = batchLines(app, b, startMs, LINES_PER_BATCH, next)
    const frameId = `${hex(b, 8)}${hex(app, 4)}4f1a9c1e${hex(b * 2654435761, 12)}`.toUpperCase()
    const before = out.length
    push(app, frameId, deliveryId(posts++), lines)
    if (late > 5 * 60_000) tooLate += out.length - before
    if (b % RETRY_EVERY === RETRY_EVERY - 1) pending.set(b + RETRY_AFTER, { app, frameId, lines })
  }
  return new Input(out, retried, tooLate)
}
