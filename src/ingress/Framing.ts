/**
 * RFC 6587 octet-counted framing, streamed: `<byte count> <message>` repeated with nothing between
 * frames. Counts are bytes; a frame may span chunks; frames wholly inside a chunk are handed out as
 * subarrays of it. A frame split across chunks is gathered into a buffer of its declared length, so each
 * byte is copied at most once and never re-scanned: push() costs O(chunk length) however the body is
 * chunked (one byte at a time included). A length split across chunks carries only its digits. Line
 * breaks between frames, which some non-Logplex senders add, are tolerated.
 */

export interface FramingError {
  /** Byte offset in the body of the frame that could not be read: every byte before it was framed. */
  readonly offset: number
  readonly reason: string
}

/** The largest frame accepted (Logplex splits lines over 10,000 bytes into several frames). */
export const MAX_FRAME = 64 * 1024

const SPACE = 0x20
const ZERO = 0x30
const NINE = 0x39
const LF = 0x0a
const CR = 0x0d
/** A frame length has at most this many digits (MAX_FRAME has 5; one more is reported as too large). */
const MAX_DIGITS = 6

export class FrameReader {
  /** Body offset of the first byte of the frame being read: every byte before it was framed. */
  private consumed = 0
  /** Digits of a frame length cut by the end of a chunk (0: none), and their value so far. */
  private digits = 0
  private length = 0
  /** A frame whose message is cut by the end of a chunk: its bytes so far, and its header's size. */
  private partial: Buffer | undefined
  private filled = 0
  private header = 0
  frames = 0
  error: FramingError | undefined

  /** Feeds a chunk; calls `onFrame` for each complete frame. Returns false once framing has broken. */
  push(chunk: Uint8Array, onFrame: (frame: Buffer) => void): boolean {
    if (this.error) return false
    const n = chunk.byteLength
    let pos = 0
    if (this.partial !== undefined) {
      // The rest of a message begun in an earlier chunk: copy what this chunk has of it.
      const partial = this.partial
      const filled = this.filled
      const take = Math.min(partial.length - filled, n)
      if (take < 16) for (let k = 0; k < take; k++) partial[filled + k] = chunk[k]!
      else partial.set(take === n ? chunk : chunk.subarray(0, take), filled)
      this.filled = filled + take
      if (this.filled < partial.length) return true
      this.partial = undefined
      this.deliver(partial, onFrame)
      if (take === n) return true
      pos = take
    }
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, n)
    if (this.digits > 0) {
      // The rest of a length begun in an earlier chunk (never with a partial message: one or the other).
      while (pos < n) {
        const c = buf[pos]!
        if (c < ZERO || c > NINE) break
        this.length = this.length * 10 + (c - ZERO)
        this.digits++
        pos++
        if (this.digits > MAX_DIGITS) return this.fail("frame length has more than 6 digits")
      }
      if (pos === n) return true
      if (buf[pos] !== SPACE) return this.fail("expected a space after the frame length")
      const len = this.length
      if (len === 0) return this.fail("frame length is 0")
      if (len > MAX_FRAME) return this.fail(`frame length ${len} exceeds ${MAX_FRAME} bytes`)
      this.header = this.digits + 1
      this.digits = 0
      pos++
      if (n - pos < len) return this.begin(buf, pos, len)
      this.deliver(buf.subarray(pos, pos + len), onFrame)
      pos += len
    }
    // Frames from a frame boundary on: zero-copy while they are whole in this chunk.
    while (pos < n) {
      const c = buf[pos]!
      if (c === LF || c === CR) {
        pos++
        this.consumed++
        continue
      }
      if (c < ZERO || c > NINE)
        return this.fail(`expected a frame length (digits), found byte 0x${c.toString(16).padStart(2, "0")}`)
      let len = 0
      let i = pos
      while (i < n) {
        const d = buf[i]!
        if (d < ZERO || d > NINE) break
        len = len * 10 + (d - ZERO)
        i++
        if (i - pos > MAX_DIGITS) return this.fail("frame length has more than 6 digits")
      }
      if (i === n) {
        // The length itself is cut by the end of the chunk.
        this.digits = i - pos
        this.length = len
        return true
      }
      if (buf[i] !== SPACE) return this.fail("expected a space after the frame length")
      if (len === 0) return this.fail("frame length is 0")
      if (len > MAX_FRAME) return this.fail(`frame length ${len} exceeds ${MAX_FRAME} bytes`)
      const start = i + 1
      this.header = start - pos
      if (n - start < len) return this.begin(buf, start, len)
      this.deliver(buf.subarray(start, start + len), onFrame)
      pos = start + len
    }
    return true
  }

  /** Ends the body; a partial frame left over is a framing error. */
  end(): FramingError | undefined {
    if (this.error) return this.error
    const received = this.partial !== undefined ? this.header + this.filled : this.digits
    if (received > 0) this.fail(`body ends inside a frame (${received} bytes of it received)`)
    return this.error
  }

  private deliver(frame: Buffer, onFrame: (frame: Buffer) => void): void {
    this.frames++
    onFrame(frame)
    this.consumed += this.header + frame.length
  }

  /** Starts gathering a message of `len` bytes of which this chunk holds [start, end). */
  private begin(buf: Buffer, start: number, len: number): true {
    const partial = Buffer.allocUnsafe(len)
    this.filled = buf.copy(partial, 0, start)
    this.partial = partial
    return true
  }

  private fail(reason: string): false {
    this.error = { offset: this.consumed, reason }
    this.partial = undefined
    this.digits = 0
    return false
  }
}
