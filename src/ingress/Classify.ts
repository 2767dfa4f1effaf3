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

/** Calls `f(key, value)` for each `key=value` or `key="quoted value"` of a logfmt message. */
export const logfmt = (msg: string, f: (key: string, value: string) => void): void => {
  const n = msg.length
  let i = 0
  while (i < n) {
    while (i < n && msg.charCodeAt(i) === 0x20) i++
    const eq = msg.indexOf("=", i)
    if (eq < 0) return
    const sp = msg.indexOf(" ", i)
    if (sp >= 0 && sp < eq) {
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
      const stop = msg.indexOf(" ", eq + 1)
      value = msg.slice(eq + 1, stop < 0 ? n : stop)
      i = stop < 0 ? n : stop
    }
    f(key, value)
  }
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
  let statusCode: number | undefined
  let hasStatus = false
  let size: number | undefined
  let protocol = ""
  let code = ""
  let desc = ""
  const n = msg.length
  let i = 0
  while (i < n) {
    while (i < n && msg.charCodeAt(i) === 0x20) i++
    const eq = msg.indexOf("=", i)
    if (eq < 0) break
    const sp = msg.indexOf(" ", i)
    if (sp >= 0 && sp < eq) {
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
      const stop = msg.indexOf(" ", eq + 1)
      from = eq + 1
      to = stop < 0 ? n : stop
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
          statusCode = numberAt(msg, from, to)
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
    status: statusCode === undefined ? 0 : Math.trunc(statusCode),
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

const MEMORY: Record<string, string> = {
  "sample#memory_total": "memoryTotal",
  "sample#memory_rss": "memoryRss",
  "sample#memory_cache": "memoryCache",
  "sample#memory_swap": "memorySwap",
  "sample#memory_pgpgin": "memoryPgpgin",
  "sample#memory_pgpgout": "memoryPgpgout",
  "sample#memory_quota": "memoryQuota",
}
const LOAD: Record<string, string> = {
  "sample#load_avg_1m": "loadAvg1m",
  "sample#load_avg_5m": "loadAvg5m",
  "sample#load_avg_15m": "loadAvg15m",
}

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
    if (k === "source") source = v
    else if (MEMORY[k] !== undefined) {
      const n = megabytes(v)
      if (n !== undefined) {
        memory[MEMORY[k]] = n
        memoryCount++
      }
    } else if (LOAD[k] !== undefined) {
      const n = num(v)
      if (n !== undefined) {
        load[LOAD[k]] = n
        loadCount++
      }
    }
  })
  const base = { processType: processTypeOf(source), dyno: source, timeUs }
  if (memoryCount > 0) out.push({ type: "DYNO_MEMORY", ...base, ...memory })
  if (loadCount > 0) out.push({ type: "DYNO_LOAD", ...base, ...load })
  return (memoryCount > 0 ? 1 : 0) + (loadCount > 0 ? 1 : 0)
}

const ERROR_CODE = /^Error ([HRL]\d\d) \(([^)]*)\)/
const DROPPED = /(?:^|\s)(\d+) messages dropped|dropped (\d+) messages/
const STATE = /^State changed from (\S+) to (\S+)/

const dynoLine = (msg: string, procId: string, timeUs: number, out: Array<Measurement>): number => {
  const base = { processType: processTypeOf(procId), dyno: procId, timeUs }
  const c0 = msg.charCodeAt(0)
  if (c0 === 0x73 /* s */ && msg.startsWith("source=")) return runtimeMetrics(msg, procId, timeUs, out)
  if (c0 === 0x45 /* E */) {
    const m = ERROR_CODE.exec(msg)
    if (m) {
      out.push({ type: "ERRORS", ...base, code: m[1]!, count: 1, description: m[2]! })
      return 1
    }
  }
  let kind: EventKind | undefined
  const state = STATE.exec(msg)
  if (state) kind = state[2] === "crashed" ? "crash" : "state"
  else if (msg.startsWith("Process exited with status") || msg.startsWith("Stopping all processes with SIG"))
    kind = "state"
  else if (msg.startsWith("Restarting") || msg.startsWith("Cycling")) kind = "restart"
  if (kind === undefined) return 0
  out.push({ type: "PLATFORM_EVENTS", ...base, kind, process: procId, description: msg, actor: "" })
  return 1
}

const logplexLine = (msg: string, procId: string, timeUs: number, out: Array<Measurement>): number => {
  const m = ERROR_CODE.exec(msg)
  const newer = m ? undefined : /^drain '[^']*' dropped (\d+) messages/.exec(msg)
  if (!m && !newer) return 0
  const dropped = DROPPED.exec(msg)
  const count = dropped ? Number(dropped[1] ?? dropped[2]) : 1
  const code = m ? m[1]! : "L10"
  out.push({
    type: "ERRORS",
    processType: procId === "logplex" ? "logplex" : processTypeOf(procId),
    dyno: "",
    timeUs,
    code,
    count,
    description: m ? m[2]! : "output buffer overflow",
  })
  return 1
}

const API_EVENTS: ReadonlyArray<readonly [RegExp, EventKind]> = [
  [/^(Release v\d+)(?: created)? by (?:user )?(.+)$/, "release"],
  [/^(Rollback to v\d+) by (?:user )?(.+)$/, "release"],
  [/^(Deploy \S+) by (?:user )?(.+)$/, "deploy"],
  [/^(Scaled? to .+?) by (?:user )?(.+)$/, "scale"],
  [/^((?:Set|Unset|Remove) .+? config vars?) by (?:user )?(.+)$/, "config"],
]

const apiLine = (msg: string, timeUs: number, out: Array<Measurement>): number => {
  for (const [pattern, kind] of API_EVENTS) {
    const m = pattern.exec(msg)
    if (!m) continue
    out.push({
      type: "PLATFORM_EVENTS",
      processType: "api",
      dyno: "",
      timeUs,
      kind,
      process: "api",
      description: m[1]!,
      actor: m[2]!.trim(),
    })
    return 1
  }
  return 0
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
