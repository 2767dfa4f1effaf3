/**
 * The RFC 5424 header of a Logplex frame, read in place: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`.
 * Logplex omits structured data; older senders write `-`. Timestamps are RFC 3339 with 0 to 6 fraction
 * digits and `Z` or a numeric offset. Nothing is allocated but the APP-NAME and PROCID strings.
 */

export interface SyslogLine {
  /** Event time in microseconds since the epoch. */
  timeUs: number
  appName: string
  procId: string
  /** MSG as [msgStart, msgEnd) in the frame, without the trailing newline. */
  msgStart: number
  msgEnd: number
}

export const newSyslogLine = (): SyslogLine => ({
  timeUs: 0,
  appName: "",
  procId: "",
  msgStart: 0,
  msgEnd: 0,
})

const SP = 0x20
const d = (b: number) => b - 0x30
const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39

/** Cache of the last `YYYY-MM-DDTHH:MM:SS` seen: lines of one batch mostly share their second. */
const lastPrefix = Buffer.alloc(19)
let lastPrefixMs = Number.NaN

/** The 19 bytes at `start` equal lastPrefix (a loop: cheaper than a native compare for 19 bytes). */
const samePrefix = (b: Buffer, start: number): boolean => {
  for (let k = 18; k >= 0; k--) if (b[start + k] !== lastPrefix[k]) return false
  return true
}

const two = (b: Buffer, i: number) => (isDigit(b[i]) && isDigit(b[i + 1]) ? d(b[i]!) * 10 + d(b[i + 1]!) : -1)

/** Parses an RFC 3339 timestamp at [start, end) to microseconds; NaN when it is not one. */
export const parseTimestamp = (b: Buffer, start: number, end: number): number => {
  if (
    end - start < 20 ||
    b[start + 4] !== 0x2d ||
    b[start + 7] !== 0x2d ||
    ((b[start + 10] ?? 0) | 0x20) !== 0x74
  )
    return Number.NaN
  if (b[start + 13] !== 0x3a || b[start + 16] !== 0x3a) return Number.NaN
  let ms: number
  if (samePrefix(b, start)) ms = lastPrefixMs
  else {
    const year = two(b, start) * 100 + two(b, start + 2)
    const month = two(b, start + 5)
    const day = two(b, start + 8)
    const hour = two(b, start + 11)
    const minute = two(b, start + 14)
    const second = two(b, start + 17)
    if (
      year < 0 ||
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > 31 ||
      hour < 0 ||
      hour > 23 ||
      minute < 0 ||
      minute > 59 ||
      second < 0 ||
      second > 60
    )
      return Number.NaN
    ms = Date.UTC(year, month - 1, day, hour, minute, second)
    b.copy(lastPrefix, 0, start, start + 19)
    lastPrefixMs = ms
  }
  let i = start + 19
  let micros = 0
  if (b[i] === 0x2e) {
    i++
    let digits = 0
    while (i < end && isDigit(b[i])) {
      if (digits < 6) micros = micros * 10 + d(b[i]!)
      digits++
      i++
    }
    if (digits === 0) return Number.NaN
    for (let k = digits; k < 6; k++) micros *= 10
  }
  let offsetMinutes = 0
  const z = b[i]
  if (z === 0x5a || z === 0x7a) i++
  else if (z === 0x2b || z === 0x2d) {
    const hh = two(b, i + 1)
    const mm = two(b, i + 4)
    if (hh < 0 || mm < 0 || b[i + 3] !== 0x3a) return Number.NaN
    offsetMinutes = (hh * 60 + mm) * (z === 0x2b ? 1 : -1)
    i += 6
  } else return Number.NaN
  if (i !== end) return Number.NaN
  return (ms - offsetMinutes * 60_000) * 1000 + micros
}

const nextSpace = (b: Buffer, from: number, end: number) => {
  const i = b.indexOf(SP, from)
  return i < 0 || i > end ? end : i
}

/** Whether [start, end) of `b` holds exactly the ASCII `text`. */
const is = (b: Buffer, start: number, end: number, text: string): boolean => {
  if (end - start !== text.length) return false
  for (let k = 0; k < text.length; k++) if (b[start + k] !== text.charCodeAt(k)) return false
  return true
}

/** APP-NAME or PROCID: the values every platform line has are not allocated again for each line. */
const field = (b: Buffer, start: number, end: number): string => {
  if (is(b, start, end, "heroku")) return "heroku"
  if (is(b, start, end, "router")) return "router"
  if (is(b, start, end, "app")) return "app"
  if (is(b, start, end, "api")) return "api"
  return b.toString("latin1", start, end)
}

/** Reads the header of `frame` into `out`; false when the frame is not an RFC 5424 line. */
export const parseSyslog = (frame: Buffer, out: SyslogLine): boolean => {
  let end = frame.length
  if (end > 0 && frame[end - 1] === 0x0a) end--
  if (frame[0] !== 0x3c) return false
  let i = 1
  while (i < end && isDigit(frame[i]) && i < 5) i++
  if (i === 1 || frame[i] !== 0x3e) return false
  i++
  // VERSION
  const v = nextSpace(frame, i, end)
  if (v === i || v >= end) return false
  i = v + 1
  const ts = nextSpace(frame, i, end)
  out.timeUs = parseTimestamp(frame, i, ts)
  if (Number.isNaN(out.timeUs) || ts >= end) return false
  i = ts + 1
  const host = nextSpace(frame, i, end)
  if (host >= end) return false
  i = host + 1
  const app = nextSpace(frame, i, end)
  if (app >= end) return false
  out.appName = field(frame, i, app)
  i = app + 1
  const proc = nextSpace(frame, i, end)
  out.procId = field(frame, i, proc)
  i = proc + 1
  // MSGID
  const msgid = nextSpace(frame, i, end)
  i = Math.min(msgid + 1, end)
  // Structured data: absent (Logplex), "-" (older senders), or [elements].
  if (frame[i] === 0x2d && (i + 1 >= end || frame[i + 1] === SP)) i = Math.min(i + 2, end)
  else if (frame[i] === 0x5b) {
    let depth = 0
    while (i < end) {
      const c = frame[i]!
      if (c === 0x5c) i++
      else if (c === 0x5b) depth++
      else if (c === 0x5d) {
        depth--
        if (depth === 0 && frame[i + 1] !== 0x5b) {
          i++
          break
        }
      }
      i++
    }
    if (frame[i] === SP) i++
  }
  out.msgStart = i
  out.msgEnd = end
  return true
}
