/**
 * One drain body as the generator built it: the octet-counted frames, and what the oracle knows about
 * them — every rollup sample as (series slot, minute, value), the platform events, and the poison lines
 * that must not count. Nothing here parses: the generator records each value as it writes it.
 */
import type { EventKind } from "./metrics.ts"

export interface ExpectedEvent {
  readonly timeMs: number
  readonly kind: EventKind
  readonly process: string
  readonly description: string
  readonly actor: string
}

export type PoisonReason = "nul-dyno" | "long-process-type" | "bad-label"

export interface PoisonLine {
  readonly app: number
  readonly reason: PoisonReason
  readonly timeMs: number
  /** What the line would have counted under, were it accepted: the dyno's process type and the error code. */
  readonly processType: string
  readonly code: string
  /** The syslog line (without its octet count). */
  readonly line: string
}

export interface Body {
  readonly app: number
  /** The whole body, frames with their octet counts (ASCII: bytes = characters). */
  readonly bytes: Buffer
  /** Frames in the body (Logplex-Msg-Count), including a prepended L10 frame. */
  readonly frames: number
  /** Samples: slot (of the app's SeriesTable), minute start (ms) and value of each. */
  readonly samples: number
  readonly slots: Int32Array
  readonly minutes: Float64Array
  readonly values: Float64Array
  /** Event time of each sample (ms, the line's syslog timestamp floored to the millisecond). */
  readonly times: Float64Array
  readonly events: ReadonlyArray<ExpectedEvent>
  readonly poison: ReadonlyArray<PoisonLine>
  /** Lines that are neither measurements nor events (ordinary app output and the like). */
  readonly ignored: number
  /** Event time range of the body's lines (ms). */
  readonly firstMs: number
  readonly lastMs: number
  /** When the generator made it (ms): its first try is sent at this time or after. */
  readonly sentMs: number
  /** Lines written to be too late to count (see Generator's tooLateChance): they are in `samples` too. */
  readonly tooLate: number
}

/**
 * Builds a body in place: frames are written as bytes into one buffer (a line's octet count is filled in
 * when the line ends), hot lines piece by piece from prerendered bytes, so a line allocates nothing.
 */
export class BodyBuilder {
  private buf: Buffer
  private pos = 0
  private lineStart = 0
  frames = 0
  ignored = 0
  tooLate = 0
  private n = 0
  private slots = new Int32Array(1024)
  private minutes = new Float64Array(1024)
  private values = new Float64Array(1024)
  private times = new Float64Array(1024)
  private firstMs = Number.POSITIVE_INFINITY
  private lastMs = Number.NEGATIVE_INFINITY
  readonly events: Array<ExpectedEvent> = []
  readonly poison: Array<PoisonLine> = []

  constructor(capacity = 65_536) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes + 16_384))
    this.buf.copy(bigger, 0, 0, this.pos)
    this.buf = bigger
  }

  /** Starts a frame: room is left for its octet count. */
  begin(): this {
    this.ensure(16_384)
    this.pos += 8
    this.lineStart = this.pos
    return this
  }

  /** Ends the frame begun last: writes `<octets> ` before the line and closes the gap. */
  end(timeUs: number): void {
    const length = this.pos - this.lineStart
    let digits = 1
    for (let x = length; x >= 10; x = Math.floor(x / 10)) digits++
    const frameStart = this.lineStart - 8
    let at = this.lineStart - 1
    this.buf[at] = 0x20
    for (let x = length, k = 0; k < digits; k++, x = Math.floor(x / 10)) this.buf[--at] = 0x30 + (x % 10)
    if (at > frameStart) {
      this.buf.copyWithin(frameStart, at, this.pos)
      this.pos -= at - frameStart
    }
    this.frames++
    const ms = Math.floor(timeUs / 1000)
    if (ms < this.firstMs) this.firstMs = ms
    if (ms > this.lastMs) this.lastMs = ms
  }

  /** Prerendered bytes. */
  raw(bytes: Uint8Array): this {
    if (bytes.length > 24) {
      this.buf.set(bytes, this.pos)
      this.pos += bytes.length
      return this
    }
    const b = this.buf
    let p = this.pos
    for (let i = 0; i < bytes.length; i++) b[p++] = bytes[i]!
    this.pos = p
    return this
  }

  /** An ASCII string (every generated line is ASCII: bytes = characters). */
  str(s: string): this {
    this.ensure(s.length)
    if (s.length > 64) this.pos += this.buf.write(s, this.pos, "latin1")
    else {
      const b = this.buf
      let p = this.pos
      for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i)
      this.pos = p
    }
    return this
  }

  /** A non-negative integer in decimal. */
  int(n: number): this {
    if (n < 10) {
      this.buf[this.pos++] = 0x30 + n
      return this
    }
    let digits = 1
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++
    let p = this.pos + digits
    this.pos = p
    for (let x = n; p > this.pos - digits; x = Math.floor(x / 10)) this.buf[--p] = 0x30 + (x % 10)
    return this
  }

  /** `n` in `width` zero-padded digits of `radix` (10 or 16). */
  padded(n: number, width: number, radix = 10): this {
    const b = this.buf
    let x = n
    for (let p = this.pos + width - 1; p >= this.pos; p--) {
      const d = x % radix
      b[p] = d < 10 ? 0x30 + d : 0x57 + d
      x = Math.floor(x / radix)
    }
    this.pos += width
    return this
  }

  /** An RFC 3339 timestamp with 6 fraction digits and `+00:00`. */
  stamp(timeUs: number): this {
    const second = Math.floor(timeUs / 1_000_000)
    this.raw(secondBytes(second))
    this.buf[this.pos++] = 0x2e
    this.padded(timeUs - second * 1_000_000, 6)
    return this.raw(UTC)
  }

  /** One whole frame from a string. */
  frame(line: string, timeUs: number): void {
    this.begin().str(line).end(timeUs)
  }

  sample(slot: number, timeUs: number, value: number): void {
    if (this.n === this.slots.length) this.grow()
    this.slots[this.n] = slot
    this.minutes[this.n] = Math.floor(timeUs / 60_000_000) * 60_000
    this.values[this.n] = value
    this.times[this.n] = Math.floor(timeUs / 1000)
    this.n++
  }

  private grow(): void {
    const size = this.slots.length * 2
    const slots = new Int32Array(size)
    slots.set(this.slots)
    const minutes = new Float64Array(size)
    minutes.set(this.minutes)
    const values = new Float64Array(size)
    values.set(this.values)
    const times = new Float64Array(size)
    times.set(this.times)
    this.slots = slots
    this.minutes = minutes
    this.values = values
    this.times = times
  }

  finish(app: number, sentMs = Date.now()): Body {
    return {
      app,
      bytes: this.buf.subarray(0, this.pos),
      frames: this.frames,
      samples: this.n,
      slots: this.slots.subarray(0, this.n),
      minutes: this.minutes.subarray(0, this.n),
      values: this.values.subarray(0, this.n),
      times: this.times.subarray(0, this.n),
      events: this.events,
      poison: this.poison,
      ignored: this.ignored,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      sentMs,
      tooLate: this.tooLate,
    }
  }
}

const UTC = Buffer.from("+00:00", "latin1")

/** `YYYY-MM-DDTHH:MM:SS` as bytes, for the last few seconds seen (direct-mapped cache). */
const cachedSeconds = new Float64Array(8).fill(Number.NaN)
const cachedBytes = Array.from({ length: 8 }, () => Buffer.alloc(19))
const secondBytes = (second: number): Buffer => {
  const i = second & 7
  if (cachedSeconds[i] !== second) {
    cachedSeconds[i] = second
    cachedBytes[i]!.write(new Date(second * 1000).toISOString().slice(0, 19), 0, "latin1")
  }
  return cachedBytes[i]!
}

const secondPrefix = (second: number): string => secondBytes(second).toString("latin1", 0, 19)

/** RFC 3339 as Logplex writes it: `2023-08-24T10:28:47.153192+00:00` (`digits` fraction digits: 0, 3 or 6). */
export const stamp = (timeUs: number, digits: 0 | 3 | 6 = 6): string => {
  const second = Math.floor(timeUs / 1_000_000)
  const prefix = secondPrefix(second)
  if (digits === 0) return `${prefix}+00:00`
  const micros = timeUs - second * 1_000_000
  const fraction = digits === 6 ? micros : Math.floor(micros / 1000)
  return `${prefix}.${String(fraction).padStart(digits, "0")}+00:00`
}
