/**
 * One drain body, streamed: framing, syslog header, classification. Feed chunks with `push`, then
 * `end`. Frames before a framing error keep their measurements; the error says where it broke.
 */
import type { Measurement } from "../domain/Measurement.ts"
import { classify } from "./Classify.ts"
import { FrameReader, type FramingError } from "./Framing.ts"
import { newSyslogLine, parseSyslog } from "./Syslog.ts"
import { cleanEvent, type Refusal, refusalOf } from "./Validate.ts"

export class DrainParser {
  readonly measurements: Array<Measurement> = []
  /** Lines that are neither measurements nor events (ordinary app logs). */
  ignored = 0
  /** Frames whose content is not an RFC 5424 line. */
  malformed = 0
  /** Platform lines refused because a key or column value broke the rules, by reason (see Validate.ts). */
  readonly refused = new Map<Refusal, number>()
  private readonly reader = new FrameReader()
  private readonly line = newSyslogLine()
  private readonly onFrame = (frame: Buffer) => {
    const line = this.line
    if (!parseSyslog(frame, line)) {
      this.malformed++
      return
    }
    // Only the platform's lines can carry measurements: skip decoding anything else.
    if (line.appName !== "heroku" && line.procId !== "api") {
      this.ignored++
      return
    }
    const msg = frame.toString("utf8", line.msgStart, line.msgEnd)
    const before = this.measurements.length
    if (classify(line.appName, line.procId, msg, line.timeUs, this.measurements) === 0) this.ignored++
    this.check(before)
  }

  /** Refuses the line whose measurements start at `from` if one of them breaks the rules. */
  private check(from: number): void {
    const out = this.measurements
    for (let i = from; i < out.length; i++) {
      const m = out[i]!
      const refusal = refusalOf(m)
      if (refusal) {
        out.length = from
        this.refused.set(refusal, (this.refused.get(refusal) ?? 0) + 1)
        return
      }
      if (m.type === "PLATFORM_EVENTS") out[i] = cleanEvent(m)
    }
  }

  get frames(): number {
    return this.reader.frames
  }

  /** Feeds a chunk of the body; false once framing has broken (the rest of the body is not read). */
  push(chunk: Uint8Array): boolean {
    return this.reader.push(chunk, this.onFrame)
  }

  end(): FramingError | undefined {
    return this.reader.end()
  }
}

/** Parses a whole body at once. */
export const parseBody = (body: Uint8Array) => {
  const parser = new DrainParser()
  parser.push(body)
  const error = parser.end()
  return { parser, error }
}
