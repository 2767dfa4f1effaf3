/**
 * RFC 6587 octet-counted framing, streamed: `<byte count> <message>` repeated with nothing between
 * frames. Counts are bytes; a frame may span chunks; frames are handed out as subarrays of the input
 * (a copy is made only of a partial frame carried over to the next chunk). Line breaks between frames,
 * which some non-Logplex senders add, are tolerated.
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

export class FrameReader {
  private carry: Buffer | undefined
  /** Body offset of the first byte not yet consumed. */
  private consumed = 0
  frames = 0
  error: FramingError | undefined

  /** Feeds a chunk; calls `onFrame` for each complete frame. Returns false once framing has broken. */
  push(chunk: Uint8Array, onFrame: (frame: Buffer) => void): boolean {
    if (this.error) return false
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.carry) {
      buf = Buffer.concat([this.carry, buf])
      this.carry = undefined
    }
    const n = buf.length
    let pos = 0
    while (pos < n) {
      const c = buf[pos]!
      if (c === LF || c === CR) {
        pos++
        this.consumed++
        continue
      }
      if (c < ZERO || c > NINE)
        return this.fail(
          this.consumed,
          `expected a frame length (digits), found byte 0x${c.toString(16).padStart(2, "0")}`,
        )
      let len = 0
      let i = pos
      while (i < n && buf[i]! >= ZERO && buf[i]! <= NINE) {
        len = len * 10 + (buf[i]! - ZERO)
        i++
        if (i - pos > 6) return this.fail(this.consumed, "frame length has more than 6 digits")
      }
      if (i === n) break // the count itself is split across chunks
      if (buf[i] !== SPACE) return this.fail(this.consumed, "expected a space after the frame length")
      if (len === 0) return this.fail(this.consumed, "frame length is 0")
      if (len > MAX_FRAME) return this.fail(this.consumed, `frame length ${len} exceeds ${MAX_FRAME} bytes`)
      const start = i + 1
      const end = start + len
      if (end > n) break // the message is split across chunks
      this.frames++
      onFrame(buf.subarray(start, end))
      this.consumed += end - pos
      pos = end
    }
    if (pos < n) this.carry = Buffer.from(buf.subarray(pos))
    return true
  }

  /** Ends the body; a partial frame left over is a framing error. */
  end(): FramingError | undefined {
    if (!this.error && this.carry && this.carry.length > 0)
      this.fail(this.consumed, `body ends inside a frame (${this.carry.length} bytes of it received)`)
    return this.error
  }

  private fail(offset: number, reason: string): false {
    this.error = { offset, reason }
    this.carry = undefined
    return false
  }
}
