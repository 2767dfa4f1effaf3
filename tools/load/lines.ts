/**
 * Line writers, one per kind of Logplex line (formats: LOGPLEX.md and the shared fixtures). Each writes
 * its frame(s) into a BodyBuilder and records, as it writes them, the values the line must contribute:
 *   router line   -> router_status{status} 1, router_service_ms, router_connect_ms, router_bytes (when the
 *                    field has a value), errors{code} 1 when it has code=; process type = dyno= before the
 *                    dot, `router` when dyno= is empty
 *   memory sample -> memory_* in MB (pgpgin/pgpgout in pages), process type of source=
 *   load sample   -> load_avg_1m/5m/15m
 *   Error R1x     -> errors{R1x} 1 in the dyno's process type
 *   L10           -> errors{L10} = messages dropped, process type `logplex`
 * Values are drawn as integers (hundredths for decimals) and printed exactly, so a number parsed from the
 * line equals the value recorded here.
 */
import { type BodyBuilder, type PoisonReason, stamp } from "./body.ts"
import type { Dyno, RouterSeries, SimApp } from "./fleet.ts"
import type { EventKind } from "./metrics.ts"
import { cumulative, draw, type Random } from "./random.ts"

/** `<pri>1 <time> host <app-name> <procid> - ` (Shield: `d.<token>` as host and `- -`). */
const head = (app: SimApp, pri: string, time: string, appName: string, procId: string): string =>
  app.shield
    ? `<${pri}>1 ${time} ${app.drainToken} ${appName} ${procId} - - `
    : `<${pri}>1 ${time} host ${appName} ${procId} - `

/** Hundredths printed with two decimals: `cents(18043)` is `180.43`, and Number() of it is 18043 / 100. */
export const cents = (c: number): string => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`

const NO_STATUS = [200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 422, 500] as const
const STATUS_CUM = cumulative([80, 2, 2, 1, 3, 5, 1, 1, 0.5, 3, 0.5, 1])

const requestId = (app: SimApp) =>
  `${app.requestIdPrefix}${(app.requestCounter++).toString(16).padStart(12, "0")}`

const connectMs = (rng: Random) => {
  const u = rng.float()
  return u < 0.4 ? 0 : u < 0.8 ? 1 : u < 0.97 ? rng.int(2, 5) : rng.int(6, 250)
}

const serviceMs = (app: SimApp, rng: Random) =>
  Math.min(29_999, Math.round(Math.exp(app.serviceMu + app.serviceSigma * rng.normal())))

const bytes = (s: string) => Buffer.from(s, "latin1")
const PRI_158 = bytes("<158>1 ")
const AT_INFO = bytes("at=info ")
const MS_SERVICE = bytes("ms service=")
const MS_STATUS = bytes("ms status=")
const BYTES = bytes(" bytes=")
const PROTOCOL_HTTPS = bytes(" protocol=https\n")
const PROTOCOL_HTTP = bytes(" protocol=http\n")

/** An at=info router line of a web dyno, written piece by piece (the bulk of every load). */
export const routerInfo = (b: BodyBuilder, app: SimApp, rng: Random, us: number): void => {
  const dyno = app.web[rng.next() % app.web.length]!
  const status = NO_STATUS[draw(STATUS_CUM, rng.float())]!
  const connect = connectMs(rng)
  const service = serviceMs(app, rng)
  const size = status === 304 || status === 204 ? rng.int(0, 400) : Math.round(Math.exp(7.5 + rng.normal()))
  b.begin()
    .raw(PRI_158)
    .stamp(us)
    .raw(app.routerHead)
    .raw(AT_INFO)
    .raw(app.requestBytes[rng.next() % app.requestBytes.length]!)
    .raw(app.requestIdBytes)
    .padded(app.requestCounter++, 12, 16)
    .raw(app.fwdBytes[rng.next() % app.fwdBytes.length]!)
    .raw(dyno.dynoBytes)
    .int(connect)
    .raw(MS_SERVICE)
    .int(service)
    .raw(MS_STATUS)
    .int(status)
    .raw(BYTES)
    .int(size)
    .raw(rng.float() < 0.9 ? PROTOCOL_HTTPS : PROTOCOL_HTTP)
    .end(us)
  const r = dyno.router!
  b.sample(r.status.get(status)!, us, 1)
  b.sample(r.service, us, service)
  b.sample(r.connect, us, connect)
  b.sample(r.bytes, us, size)
}

interface RouterError {
  readonly code: string
  readonly prefix: string
  readonly desc: string
  readonly status: number
  /** No dyno, connect, service or bytes (H10, H14): process type `router`. */
  readonly empty: boolean
}

const ROUTER_ERRORS: ReadonlyArray<RouterError> = [
  { code: "H12", prefix: "at=error", desc: "Request timeout", status: 503, empty: false },
  { code: "H13", prefix: "at=error", desc: "Connection closed without response", status: 503, empty: false },
  {
    code: "H27",
    prefix: "sock=client at=warning",
    desc: "Client Request Interrupted",
    status: 499,
    empty: false,
  },
  {
    code: "H18",
    prefix: "sock=backend at=error",
    desc: "Server Request Interrupted",
    status: 503,
    empty: false,
  },
  { code: "H10", prefix: "at=error", desc: "App crashed", status: 503, empty: true },
  { code: "H14", prefix: "at=error", desc: "No web processes running", status: 503, empty: true },
]
const ROUTER_ERROR_CUM = cumulative([35, 15, 20, 10, 12, 8])

/** A router line with an error code: H12/H13/H18/H27 of a dyno, or H10/H14 with empty values. */
export const routerError = (b: BodyBuilder, app: SimApp, rng: Random, us: number): void => {
  const e = ROUTER_ERRORS[draw(ROUTER_ERROR_CUM, rng.float())]!
  const start = `${head(app, "158", stamp(us), "heroku", "router")}${e.prefix} code=${e.code} desc="${e.desc}" ${rng.pick(app.requests)} request_id=${requestId(app)} ${rng.pick(app.fwd)}`
  let r: RouterSeries
  if (e.empty) {
    r = app.routerless
    b.frame(`${start} dyno= connect= service= status=${e.status} bytes= protocol=https\n`, us)
  } else {
    const dyno = rng.pick(app.web)
    r = dyno.router!
    const connect = e.code === "H12" ? rng.int(0, 1) : connectMs(rng)
    const service = e.code === "H12" ? 30_000 + rng.int(0, 2) : serviceMs(app, rng)
    // Some error lines come without the ms unit (LOGPLEX.md).
    const unit = e.code === "H12" && rng.float() < 0.2 ? "" : "ms"
    b.frame(
      `${start} dyno=${dyno.name} connect=${connect}${unit} service=${service}${unit} status=${e.status} bytes=0 protocol=https\n`,
      us,
    )
    b.sample(r.service, us, service)
    b.sample(r.connect, us, connect)
    b.sample(r.bytes, us, 0)
  }
  b.sample(r.status.get(e.status)!, us, 1)
  b.sample(r.errors.get(e.code)!, us, 1)
}

const fractionDigits = (rng: Random): 3 | 6 => (rng.float() < 0.2 ? 3 : 6)
const truncate = (us: number, digits: 0 | 3 | 6) =>
  digits === 6 ? us : digits === 3 ? us - (us % 1000) : us - (us % 1_000_000)

/** A runtime-metric memory sample (`sample#memory_total=…MB …`) of a random dyno. */
export const memorySample = (b: BodyBuilder, app: SimApp, rng: Random, at: number): void => {
  const d = rng.pick(app.dynos)
  const digits = fractionDigits(rng)
  const us = truncate(at, digits)
  const quota = d.quotaMb * 100
  d.memoryCents = Math.max(2_000, Math.min(Math.round(quota * 1.2), d.memoryCents + rng.int(-400, 420)))
  d.pgpgin += rng.int(0, 500)
  d.pgpgout += rng.int(0, 400)
  const total = d.memoryCents
  const swap = Math.max(0, total - quota)
  const cache = Math.floor(total / 40)
  const rss = total - cache - swap
  const v = [total, rss, cache, swap]
  b.frame(
    `${head(app, "134", stamp(us, digits), "heroku", d.name)}${d.sourcePrefix}sample#memory_total=${cents(total)}MB sample#memory_rss=${cents(rss)}MB sample#memory_cache=${cents(cache)}MB sample#memory_swap=${cents(swap)}MB sample#memory_pgpgin=${d.pgpgin}pages sample#memory_pgpgout=${d.pgpgout}pages sample#memory_quota=${cents(quota)}MB\n`,
    us,
  )
  for (let i = 0; i < 4; i++) b.sample(d.memorySlots[i]!, us, v[i]! / 100)
  b.sample(d.memorySlots[4]!, us, d.pgpgin)
  b.sample(d.memorySlots[5]!, us, d.pgpgout)
  b.sample(d.memorySlots[6]!, us, quota / 100)
}

/** A runtime-metric load sample (`sample#load_avg_1m=… 5m 15m`) of a random dyno. */
export const loadSample = (b: BodyBuilder, app: SimApp, rng: Random, at: number): void => {
  const d: Dyno = rng.pick(app.dynos)
  const digits = fractionDigits(rng)
  const us = truncate(at, digits)
  d.loadCents = Math.max(0, Math.min(800, d.loadCents + rng.int(-20, 21)))
  const l1 = Math.max(0, d.loadCents + rng.int(-15, 15))
  const l5 = d.loadCents
  const l15 = Math.max(0, d.loadCents - 5)
  b.frame(
    `${head(app, "134", stamp(us, digits), "heroku", d.name)}${d.sourcePrefix}sample#load_avg_1m=${cents(l1)} sample#load_avg_5m=${cents(l5)} sample#load_avg_15m=${cents(l15)}\n`,
    us,
  )
  b.sample(d.loadSlots[0]!, us, l1 / 100)
  b.sample(d.loadSlots[1]!, us, l5 / 100)
  b.sample(d.loadSlots[2]!, us, l15 / 100)
}

const DYNO_ERRORS = [
  ["R14", "Error R14 (Memory quota exceeded)"],
  ["R14", "Error R14 (Memory quota exceeded)"],
  ["R14", "Error R14 (Memory quota exceeded)"],
  ["R15", "Error R15 (Memory quota vastly exceeded)"],
  ["R10", "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch"],
] as const

/** A dyno error: `Process running mem=…` (ignored) then `Error R14 (Memory quota exceeded)` and the like. */
export const dynoError = (b: BodyBuilder, app: SimApp, rng: Random, us: number): void => {
  const d = rng.pick(app.dynos)
  const [code, text] = rng.pick(DYNO_ERRORS)
  const time = stamp(us)
  if (code !== "R10") {
    const mb = Math.round(d.quotaMb * (1 + rng.float() * (code === "R15" ? 2 : 0.3)))
    b.frame(
      `${head(app, "45", time, "heroku", d.name)}Process running mem=${mb}M(${((mb / d.quotaMb) * 100).toFixed(1)}%)\n`,
      us,
    )
    b.ignored++
  }
  b.frame(`${head(app, "45", time, "heroku", d.name)}${text}\n`, us)
  b.sample(d.errorSlots.get(code)!, us, 1)
}

/** Logplex's in-band overflow report, first frame of a body, no trailing newline (glued to the next count). */
export const l10 = (
  b: BodyBuilder,
  app: SimApp,
  rng: Random,
  us: number,
  dropped: number,
  sinceUs: number,
) => {
  const at = truncate(us, 0)
  const text =
    rng.float() < 0.7
      ? `Error L10 (output buffer overflow): ${dropped} messages dropped since ${stamp(sinceUs, 0)}.`
      : `drain '${app.drainToken}' dropped ${dropped} messages since ${stamp(sinceUs, 0)}.`
  b.frame(`${head(app, "172", stamp(at, 0), "heroku", "logplex")}${text}`, at)
  b.sample(app.l10Slot, at, dropped)
}

const DYNO_EVENTS: ReadonlyArray<readonly [string, EventKind]> = [
  ["State changed from up to down", "state"],
  ["State changed from starting to up", "state"],
  ["State changed from up to crashed", "crash"],
  ["State changed from starting to crashed", "crash"],
  ["Process exited with status 137", "state"],
  ["Stopping all processes with SIGTERM", "state"],
  ["Restarting", "restart"],
  ["Cycling", "restart"],
]
const ACTORS = ["ops@example.com", "dev+deploy@example.org", "someuser@gmail.com"]

/** A distinct event time (ms) for the app: the events API keys events on (time, kind, process, description). */
const eventUs = (app: SimApp, us: number) => {
  const ms = Math.max(Math.floor(us / 1000), app.lastEventMs + 1)
  app.lastEventMs = ms
  return ms * 1000 + (us % 1000)
}

/** A platform event: a dyno's state change, crash or restart, or an API release/deploy/scale/config. */
export const platformEvent = (b: BodyBuilder, app: SimApp, rng: Random, at: number): void => {
  const us = eventUs(app, at)
  const timeMs = Math.floor(us / 1000)
  const time = stamp(us)
  if (rng.float() < 0.6) {
    const d = rng.pick(app.dynos)
    const [text, kind] = rng.pick(DYNO_EVENTS)
    b.frame(`${head(app, "45", time, "heroku", d.name)}${text}\n`, us)
    b.events.push({ timeMs, kind, process: d.name, description: text, actor: "" })
    return
  }
  const actor = rng.pick(ACTORS)
  const u = rng.float()
  let description: string
  let kind: EventKind
  let line: string
  if (u < 0.3) {
    description = `Release v${++app.releases}`
    kind = "release"
    line = `${description} created by user ${actor}`
  } else if (u < 0.55) {
    description = `Deploy ${rng.hex(7)}`
    kind = "deploy"
    line = `${description} by user ${actor}`
  } else if (u < 0.8) {
    description =
      rng.float() < 0.8
        ? `Scaled to web@${rng.int(1, 8)}:Standard-1X worker@${rng.int(1, 4)}:Standard-2X`
        : `Scale to web=${rng.int(1, 8)}`
    kind = "scale"
    line = description.startsWith("Scaled") ? `${description} by user ${actor}` : `${description} by ${actor}`
  } else {
    description = rng.float() < 0.5 ? "Set FEATURE_X, CACHE_TTL config vars" : "Unset LEGACY_MODE config vars"
    kind = "config"
    line = `${description} by user ${actor}`
  }
  b.frame(`${head(app, "134", time, "app", "api")}${line}\n`, us)
  b.events.push({ timeMs, kind, process: "api", description, actor })
}

/**
 * Lines that are neither measurements nor events: the app's own output — including text that looks like
 * platform lines (only APP-NAME `heroku` speaks for the platform) —, add-on metrics, and platform lines
 * that carry nothing (`Starting process with command`).
 */
export const ignoredLine = (b: BodyBuilder, app: SimApp, rng: Random, us: number): void => {
  const d = rng.pick(app.dynos)
  const time = stamp(us)
  const u = rng.float()
  let line: string
  if (u < 0.55)
    line = `${head(app, "190", time, "app", d.name)}Completed ${rng.pick(["200 OK", "302 Found", "404 Not Found"])} in ${rng.int(1, 900)}ms (Views: ${rng.int(0, 90)}.${rng.int(0, 9)}ms | ActiveRecord: ${rng.int(0, 90)}.${rng.int(0, 9)}ms)\n`
  else if (u < 0.65)
    line = `${head(app, "190", time, "app", d.name)}at=info method=GET path="/" host=${app.host} dyno=${d.name} connect=1ms service=12ms status=200 bytes=10\n`
  else if (u < 0.7) line = `${head(app, "190", time, "app", d.name)}State changed from starting to up\n`
  else if (u < 0.75) line = `${head(app, "190", time, "app", d.name)}Error R14 (Memory quota exceeded)\n`
  else if (u < 0.8)
    line = `${head(app, "190", time, "app", d.name)}source=${d.name} sample#memory_total=999.00MB sample#load_avg_1m=9.99\n`
  else if (u < 0.88)
    line = `${head(app, "134", stamp(us - (us % 1_000_000), 0), "app", "heroku-postgres")}source=HEROKU_POSTGRESQL_YELLOW addon=postgresql-load-${app.index} sample#current_transaction=${rng.int(1, 1e8)} sample#db_size=${rng.int(1e6, 1e10)}bytes sample#tables=${rng.int(1, 900)} sample#active-connections=${rng.int(0, 40)} sample#load-avg-1m=0.${rng.int(0, 99)} sample#memory-total=8036340kB sample#memory-free=${rng.int(1e4, 1e6)}kB\n`
  else if (u < 0.94)
    line = `${head(app, "134", time, "heroku", d.name)}Starting process with command \`bundle exec puma -C config/puma.rb\`\n`
  else
    line = `${head(app, "190", time, "app", d.name)}{"level":30,"msg":"GET /items","responseTime":${rng.int(1, 500)}}\n`
  b.frame(line, us)
  b.ignored++
}

/**
 * A poison router line: a NUL byte in the dyno, a 300-character process type, or an error code (a label)
 * with a control character. It must count nowhere; it is recorded in the body's poison list instead.
 */
export const poisonLine = (b: BodyBuilder, app: SimApp, rng: Random, us: number, reason: PoisonReason) => {
  const processType =
    reason === "nul-dyno" ? "web\u0000evil" : reason === "long-process-type" ? "p".repeat(300) : "web"
  const code = reason === "bad-label" ? "H\u001b[1m12" : ""
  const at = code ? `at=error code=${code} desc="Request timeout"` : "at=info"
  const line = `${head(app, "158", stamp(us), "heroku", "router")}${at} ${rng.pick(app.requests)} request_id=${requestId(app)} ${rng.pick(app.fwd)} dyno=${processType}.1 connect=1ms service=${serviceMs(app, rng)}ms status=${code ? 503 : 200} bytes=${rng.int(100, 9000)} protocol=https\n`
  b.frame(line, us)
  b.poison.push({
    app: app.index,
    reason,
    timeMs: Math.floor(us / 1000),
    processType,
    code,
    line: line.slice(0, -1),
  })
}
