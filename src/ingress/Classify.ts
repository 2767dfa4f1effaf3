/**
 * Line classifiers: one syslog message in, zero or more typed measurements out. Pure and table-tested.
 * Only APP-NAME `heroku` speaks for the platform (and PROCID `api` for API events, which arrive as
 * `app api` today and `heroku api` before 2017); an app can print any text, so its lines are ignored.
 */
import type { EventKind, Measurement, RouterRequest } from "../domain/Measurement.ts"

const processTypeOf = (dyno: string) => {
  const dot = dyno.indexOf(".")
  return dot < 0 ? dyno : dyno.slice(0, dot)
}

const num = (text: string): number | undefined => {
  if (text.length === 0) return undefined
  const n = Number.parseFloat(text)
  return Number.isFinite(n) ? n : undefined
}

/**
 * Calls `f(key, value)` for each `key=value` or `key="quoted value"` of a logfmt message (bare words are
 * skipped; an unclosed quote runs to the end). One pass: the next `=` and the next space are each looked
 * for again only once the reading has passed them, so a line of many bare words before one `=`, or of
 * many quoted values without a space, costs O(its length).
 */
export const logfmt = (msg: string, f: (key: string, value: string) => void): void => {
  const n = msg.length
  let i = 0
  let eq = -1
  /** The first space at or after the last position looked from, n when there is none. */
  let sp = -1
  while (i < n) {
    while (i < n && msg.charCodeAt(i) === 0x20) i++
    if (eq < i) {
      eq = msg.indexOf("=", i)
      if (eq < 0) return
    }
    if (sp < i) sp = nextSpace(msg, i, n)
    if (sp < eq) {
      i = sp + 1 // a bare word: skip it
      continue
    }
    const key = msg.slice(i, eq)
    let value: string
    if (msg.charCodeAt(eq + 1) === 0x22) {
      const close = msg.indexOf('"', eq + 2)
      const stop = close < 0 ? n : close
      value = msg.slice(eq + 2, stop)
      i = stop + 1
    } else {
      value = msg.slice(eq + 1, sp) // sp > eq: the first space after the `=`, or n
      i = sp
    }
    f(key, value)
  }
}

/** The first space at or after `from`, or `n` when there is none. */
const nextSpace = (msg: string, from: number, n: number): number => {
  const sp = msg.indexOf(" ", from)
  return sp < 0 ? n : sp
}

/**
 * `num(msg.slice(start, end))` without the slice: a run of digits is read here (what parseFloat makes of
 * "22ms" or "201"); anything else (a sign, a fraction, an exponent, 16 digits or more) goes to num.
 */
const numberAt = (msg: string, start: number, end: number): number | undefined => {
  if (start >= end) return undefined
  let v = 0
  let i = start
  for (; i < end && i - start < 15; i++) {
    const c = msg.charCodeAt(i) - 0x30
    if (c < 0 || c > 9) break
    v = v * 10 + c
  }
  if (i === start) return num(msg.slice(start, end))
  if (i === end) return v
  const c = msg.charCodeAt(i)
  if (c === 0x2e || c === 0x65 || c === 0x45 || (c >= 0x30 && c <= 0x39)) return num(msg.slice(start, end))
  return v
}

/**
 * The `status=` value of a router line: 0 when empty (none), the status when it is an integer in
 * 100-599 (digits only), else -1, for which Validate.ts refuses the line (a status outside the range
 * would otherwise become a label of its own, or wrap around in the record's uint32).
 */
const statusAt = (msg: string, start: number, end: number): number => {
  if (start >= end) return 0
  let v = 0
  for (let i = start; i < end; i++) {
    const c = msg.charCodeAt(i) - 0x30
    if (c < 0 || c > 9) return -1
    v = v * 10 + c
    if (v > 599) return -1
  }
  return v < 100 ? -1 : v
}

/**
 * A router line, read in one pass as `logfmt` reads it (bare words skipped, quoted values, the last of a
 * repeated key wins), without a string per key or a callback per field.
 */
const router = (msg: string, timeUs: number, out: Array<Measurement>): number => {
  let at = ""
  let method = ""
  let path = ""
  let host = ""
  let requestId = ""
  let fwd = ""
  let dyno = ""
  let connectMs: number | undefined
  let serviceMs: number | undefined
  let status = 0
  let hasStatus = false
  let size: number | undefined
  let protocol = ""
  let code = ""
  let desc = ""
  const n = msg.length
  let i = 0
  let eq = -1
  let sp = -1
  while (i < n) {
    while (i < n && msg.charCodeAt(i) === 0x20) i++
    if (eq < i) {
      eq = msg.indexOf("=", i)
      if (eq < 0) break
    }
    if (sp < i) sp = nextSpace(msg, i, n)
    if (sp < eq) {
      i = sp + 1 // a bare word: skip it
      continue
    }
    const key = i
    let from: number
    let to: number
    if (msg.charCodeAt(eq + 1) === 0x22) {
      const close = msg.indexOf('"', eq + 2)
      from = eq + 2
      to = close < 0 ? n : close
      i = to + 1
    } else {
      from = eq + 1
      to = sp // sp > eq: the first space after the `=`, or n
      i = to
    }
    const c = msg.charCodeAt(key)
    switch (eq - key) {
      case 2:
        if (c === 0x61 && msg.startsWith("at", key)) at = msg.slice(from, to)
        break
      case 3:
        if (c === 0x66 && msg.startsWith("fwd", key)) fwd = msg.slice(from, to)
        break
      case 4:
        if (c === 0x70 && msg.startsWith("path", key)) path = msg.slice(from, to)
        else if (c === 0x68 && msg.startsWith("host", key)) host = msg.slice(from, to)
        else if (c === 0x64 && msg.startsWith("dyno", key)) dyno = msg.slice(from, to)
        else if (c === 0x63 && msg.startsWith("code", key)) code = msg.slice(from, to)
        else if (c === 0x64 && msg.startsWith("desc", key)) desc = msg.slice(from, to)
        break
      case 5:
        if (c === 0x62 && msg.startsWith("bytes", key)) size = numberAt(msg, from, to)
        break
      case 6:
        if (c === 0x6d && msg.startsWith("method", key)) method = msg.slice(from, to)
        else if (c === 0x73 && msg.startsWith("status", key)) {
          status = statusAt(msg, from, to)
          hasStatus = to > from
        }
        break
      case 7:
        if (c === 0x63 && msg.startsWith("connect", key)) connectMs = numberAt(msg, from, to)
        else if (c === 0x73 && msg.startsWith("service", key)) serviceMs = numberAt(msg, from, to)
        break
      case 8:
        if (c === 0x70 && msg.startsWith("protocol", key)) protocol = msg.slice(from, to)
        break
      case 10:
        if (c === 0x72 && msg.startsWith("request_id", key)) requestId = msg.slice(from, to)
        break
    }
  }
  if (at === "" && !hasStatus && code === "") return 0
  const processType = dyno === "" ? "router" : processTypeOf(dyno)
  const request: Mutable<RouterRequest> = {
    type: "ROUTER_REQUESTS",
    processType,
    dyno,
    timeUs,
    at,
    method,
    path,
    host,
    requestId,
    fwd,
    status,
    protocol,
    code,
    desc,
  }
  if (connectMs !== undefined) request.connectMs = connectMs
  if (serviceMs !== undefined) request.serviceMs = serviceMs
  if (size !== undefined) request.bytes = size
  out.push(request)
  if (code === "") return 1
  out.push({ type: "ERRORS", processType, dyno, timeUs, code, count: 1, description: desc })
  return 2
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Sample keys and their fields (Maps: a key such as `sample#constructor` or `__proto__` finds nothing). */
const MEMORY: ReadonlyMap<string, string> = new Map([
  ["sample#memory_total", "memoryTotal"],
  ["sample#memory_rss", "memoryRss"],
  ["sample#memory_cache", "memoryCache"],
  ["sample#memory_swap", "memorySwap"],
  ["sample#memory_pgpgin", "memoryPgpgin"],
  ["sample#memory_pgpgout", "memoryPgpgout"],
  ["sample#memory_quota", "memoryQuota"],
])
const LOAD: ReadonlyMap<string, string> = new Map([
  ["sample#load_avg_1m", "loadAvg1m"],
  ["sample#load_avg_5m", "loadAvg5m"],
  ["sample#load_avg_15m", "loadAvg15m"],
])

/** Memory samples in MB (pages stay pages); other size units are converted. */
const megabytes = (v: string): number | undefined => {
  const n = num(v)
  if (n === undefined) return undefined
  if (v.endsWith("GB")) return n * 1024
  if (v.endsWith("kB") || v.endsWith("KB")) return n / 1024
  return n
}

const runtimeMetrics = (msg: string, procId: string, timeUs: number, out: Array<Measurement>): number => {
  let source = procId
  const memory: Record<string, number> = {}
  const load: Record<string, number> = {}
  let memoryCount = 0
  let loadCount = 0
  logfmt(msg, (k, v) => {
    if (k === "source") {
      source = v
      return
    }
    const m = MEMORY.get(k)
    if (m !== undefined) {
      const n = megabytes(v)
      if (n !== undefined) {
        memory[m] = n
        memoryCount++
      }
      return
    }
    const l = LOAD.get(k)
    if (l !== undefined) {
      const n = num(v)
      if (n !== undefined) {
        load[l] = n
        loadCount++
      }
    }
  })
  const base = { processType: processTypeOf(source), dyno: source, timeUs }
  if (memoryCount > 0) out.push({ type: "DYNO_MEMORY", ...base, ...memory })
  if (loadCount > 0) out.push({ type: "DYNO_LOAD", ...base, ...load })
  return (memoryCount > 0 ? 1 : 0) + (loadCount > 0 ? 1 : 0)
}

/*
 * The message patterns below are read by hand, each in one pass over the message: they are tenant text
 * (an app holding a drain secret can send any line, APP-NAME `heroku` included), and the regular
 * expressions they replace backtracked (`^(Scaled? to .+?) by (?:user )?(.+)$` on "Scale to" and
 * 20,000 " by" and a line break took a second a line). Each reads exactly what its pattern, noted above
 * it, matched; test/tenants/parser.test.ts holds them to those patterns on adversarial text.
 */

/** JavaScript's `\s` (what `\S` excludes). */
const isSpace = (c: number): boolean =>
  c === 0x20 ||
  (c >= 0x09 && c <= 0x0d) ||
  (c > 0x7f &&
    (c === 0xa0 ||
      c === 0x1680 ||
      (c >= 0x2000 && c <= 0x200a) ||
      c === 0x2028 ||
      c === 0x2029 ||
      c === 0x202f ||
      c === 0x205f ||
      c === 0x3000 ||
      c === 0xfeff))

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39

/** The end of the run of `\S` from `from`. */
const nonSpaceEnd = (msg: string, from: number): number => {
  let i = from
  while (i < msg.length && !isSpace(msg.charCodeAt(i))) i++
  return i
}

/** The end of the run of digits from `from`. */
const digitsEnd = (msg: string, from: number): number => {
  let i = from
  while (i < msg.length && isDigit(msg.charCodeAt(i))) i++
  return i
}

/** Whether `msg` holds a line terminator: what `.` does not match. */
const hasLineBreak = (msg: string): boolean => {
  for (let i = 0; i < msg.length; i++) {
    const c = msg.charCodeAt(i)
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return true
  }
  return false
}

/** `^Error ([HRL]\d\d) \(([^)]*)\)`: the code and the description, or undefined. */
const errorCode = (msg: string): readonly [code: string, description: string] | undefined => {
  if (!msg.startsWith("Error ") || msg.charCodeAt(9) !== 0x20 || msg.charCodeAt(10) !== 0x28) return undefined
  const h = msg.charCodeAt(6)
  if ((h !== 0x48 && h !== 0x52 && h !== 0x4c) || !isDigit(msg.charCodeAt(7)) || !isDigit(msg.charCodeAt(8)))
    return undefined
  const close = msg.indexOf(")", 11)
  return close < 0 ? undefined : [msg.slice(6, 9), msg.slice(11, close)]
}

/**
 * `(?:^|\s)(\d+) messages dropped|dropped (\d+) messages`: the count of the leftmost match, or undefined.
 * Each place is tried once and each run of digits read once (a run follows one space or one "dropped ").
 */
const droppedCount = (msg: string): number | undefined => {
  const n = msg.length
  for (let p = 0; p < n; p++) {
    const c = msg.charCodeAt(p)
    let from = -1
    if (p === 0 && isDigit(c)) from = 0
    else if (isSpace(c)) from = p + 1
    if (from >= 0) {
      const end = digitsEnd(msg, from)
      if (end > from && msg.startsWith(" messages dropped", end)) return Number(msg.slice(from, end))
    }
    if (c === 0x64 && msg.startsWith("dropped ", p)) {
      const end = digitsEnd(msg, p + 8)
      if (end > p + 8 && msg.startsWith(" messages", end)) return Number(msg.slice(p + 8, end))
    }
  }
  return undefined
}

/** `^drain '[^']*' dropped (\d+) messages` */
const isDrainDropped = (msg: string): boolean => {
  if (!msg.startsWith("drain '")) return false
  const close = msg.indexOf("'", 7)
  if (close < 0 || !msg.startsWith(" dropped ", close + 1)) return false
  const end = digitsEnd(msg, close + 10)
  return end > close + 10 && msg.startsWith(" messages", end)
}

/** `^State changed from (\S+) to (\S+)`: the new state, or undefined. */
const stateChange = (msg: string): string | undefined => {
  const PREFIX = 19 // "State changed from "
  if (!msg.startsWith("State changed from ")) return undefined
  const from = nonSpaceEnd(msg, PREFIX)
  if (from === PREFIX || !msg.startsWith(" to ", from)) return undefined
  const to = nonSpaceEnd(msg, from + 4)
  return to === from + 4 ? undefined : msg.slice(from + 4, to)
}

const dynoLine = (msg: string, procId: string, timeUs: number, out: Array<Measurement>): number => {
  const base = { processType: processTypeOf(procId), dyno: procId, timeUs }
  const c0 = msg.charCodeAt(0)
  if (c0 === 0x73 /* s */ && msg.startsWith("source=")) return runtimeMetrics(msg, procId, timeUs, out)
  if (c0 === 0x45 /* E */) {
    const m = errorCode(msg)
    if (m) {
      out.push({ type: "ERRORS", ...base, code: m[0], count: 1, description: m[1] })
      return 1
    }
  }
  let kind: EventKind | undefined
  const state = c0 === 0x53 /* S */ ? stateChange(msg) : undefined
  if (state !== undefined) kind = state === "crashed" ? "crash" : "state"
  else if (msg.startsWith("Process exited with status") || msg.startsWith("Stopping all processes with SIG"))
    kind = "state"
  else if (msg.startsWith("Restarting") || msg.startsWith("Cycling")) kind = "restart"
  if (kind === undefined) return 0
  out.push({ type: "PLATFORM_EVENTS", ...base, kind, process: procId, description: msg, actor: "" })
  return 1
}

const logplexLine = (msg: string, procId: string, timeUs: number, out: Array<Measurement>): number => {
  const m = errorCode(msg)
  if (!m && !isDrainDropped(msg)) return 0
  const count = droppedCount(msg) ?? 1
  out.push({
    type: "ERRORS",
    processType: procId === "logplex" ? "logplex" : processTypeOf(procId),
    dyno: "",
    timeUs,
    code: m ? m[0] : "L10",
    count,
    description: m ? m[1] : "output buffer overflow",
  })
  return 1
}

/**
 * The actor of `by (?:user )?(.+)$` when " by " ends at `from` (the caller has checked the line has no
 * line break), or undefined when nothing follows.
 */
const actorAt = (msg: string, from: number): string | undefined => {
  if (from >= msg.length) return undefined
  if (msg.startsWith("user ", from) && from + 5 < msg.length) return msg.slice(from + 5).trim()
  return msg.slice(from).trim()
}

/**
 * An API event: `[description, actor, kind]`, for the first of these that matches (at most one can):
 *   ^(Release v\d+)(?: created)? by (?:user )?(.+)$                        release
 *   ^(Rollback to v\d+) by (?:user )?(.+)$                                 release
 *   ^(Deploy \S+) by (?:user )?(.+)$                                       deploy
 *   ^(Scaled? to .+?) by (?:user )?(.+)$                                   scale
 *   ^((?:Set|Unset|Remove) .+? config vars?) by (?:user )?(.+)$            config
 * Every pattern spans the whole line with pieces that exclude line breaks, so a line with one matches
 * none. Where the description ends is found without going back: after the version's digits, after the
 * run of \S, at the first " by " (lazy `.+?`), or at the first " config var(s) by " with an actor after it.
 */
const apiEvent = (msg: string): readonly [string, string, EventKind] | undefined => {
  let end = -1 // where the description ends and " by " starts
  let kind: EventKind = "release"
  let at: number // where the actor starts
  if (msg.startsWith("Release v")) {
    end = digitsEnd(msg, 9)
    if (end === 9) return undefined
    at = msg.startsWith(" created by ", end) ? end + 12 : msg.startsWith(" by ", end) ? end + 4 : -1
  } else if (msg.startsWith("Rollback to v")) {
    end = digitsEnd(msg, 13)
    if (end === 13) return undefined
    at = msg.startsWith(" by ", end) ? end + 4 : -1
  } else if (msg.startsWith("Deploy ")) {
    kind = "deploy"
    end = nonSpaceEnd(msg, 7)
    if (end === 7) return undefined
    at = msg.startsWith(" by ", end) ? end + 4 : -1
  } else if (msg.startsWith("Scale")) {
    kind = "scale"
    const prefix = msg.startsWith("Scaled to ") ? 10 : msg.startsWith("Scale to ") ? 9 : -1
    if (prefix < 0) return undefined
    end = msg.indexOf(" by ", prefix + 1)
    at = end < 0 ? -1 : end + 4
  } else {
    kind = "config"
    const prefix = msg.startsWith("Set ")
      ? 4
      : msg.startsWith("Unset ")
        ? 6
        : msg.startsWith("Remove ")
          ? 7
          : -1
    if (prefix < 0) return undefined
    at = -1
    for (let q = msg.indexOf(" config var", prefix + 1); q >= 0; q = msg.indexOf(" config var", q + 1)) {
      const r = q + 11
      if (msg.charCodeAt(r) === 0x73 /* s */ && msg.startsWith(" by ", r + 1) && r + 5 < msg.length) {
        end = r + 1
        at = r + 5
        break
      }
      if (msg.startsWith(" by ", r) && r + 4 < msg.length) {
        end = r
        at = r + 4
        break
      }
    }
  }
  if (at < 0 || hasLineBreak(msg)) return undefined
  const actor = actorAt(msg, at)
  return actor === undefined ? undefined : [msg.slice(0, end), actor, kind]
}

const apiLine = (msg: string, timeUs: number, out: Array<Measurement>): number => {
  const e = apiEvent(msg)
  if (e === undefined) return 0
  out.push({
    type: "PLATFORM_EVENTS",
    processType: "api",
    dyno: "",
    timeUs,
    kind: e[2],
    process: "api",
    description: e[0],
    actor: e[1],
  })
  return 1
}

/**
 * Classifies one line and appends what it yields to `out`; returns how many it appended
 * (0: an ignored line).
 */
export const classify = (
  appName: string,
  procId: string,
  msg: string,
  timeUs: number,
  out: Array<Measurement>,
): number => {
  if (procId === "api" && (appName === "app" || appName === "heroku")) return apiLine(msg, timeUs, out)
  if (appName !== "heroku") return 0
  if (procId === "router") return router(msg, timeUs, out)
  if (msg.startsWith("Error L1") || msg.startsWith("drain '")) return logplexLine(msg, procId, timeUs, out)
  if (procId === "logplex") return 0
  return dynoLine(msg, procId, timeUs, out)
}
