/**
 * Alert rules (DESIGN.md "Alerts"): what a rule is, how a request body becomes one (each field checked
 * with Schema; a bad field is named), which summaries each alert metric is computed from, and the state
 * a rule is in given its breach history. Plain TypeScript, no Effect: the evaluator calls it per rule
 * and minute.
 */
import { Option, Schema } from "effect"

/** The alert metrics, and the rollups each is computed from (see `Family`). */
export const ALERT_METRICS = ["router_p95_ms", "router_error_pct", "memory_quota_pct", "load_avg_1m"] as const
export type AlertMetric = (typeof ALERT_METRICS)[number]

export const FOR = { "1m": 1, "5m": 5, "10m": 10 } as const
export type For = keyof typeof FOR
export const REPEAT = { "5m": 5, "1h": 60, "1d": 1440 } as const
export type Repeat = keyof typeof REPEAT

export const STATES = ["ok", "pending", "firing"] as const
export type AlertState = (typeof STATES)[number]

/** What a request asks for, validated. */
export interface RuleSpec {
  readonly name: string
  readonly metric: AlertMetric
  readonly processType: string
  readonly threshold: number
  readonly for: For
  readonly repeat: Repeat
  readonly minRequests: number
  readonly webhook: string | undefined
}

/** A stored rule. */
export interface Rule extends RuleSpec {
  readonly id: string
  readonly owner: string
  /** The app's name (the `app` label). */
  readonly app: string
  readonly secret: string
  readonly createdMs: number
}

/** A rule's evaluation state, as the alerter keeps it durably. */
export interface RuleState {
  readonly state: AlertState
  /** When the rule entered `state` (the end of the minute whose evaluation moved it; creation for "ok"). */
  readonly sinceMs: number
  /** The value of the last minute evaluated (null: no data that minute). */
  readonly value: number | null
  /** The minute (start, ms) bit 0 of `breaches` stands for; undefined before the first evaluation. */
  readonly historyMinute: number | undefined
  /** Bit k: the minute k minutes before `historyMinute` breached. */
  readonly breaches: number
  /** When the current firing began (Alertmanager's startsAt). */
  readonly firedMs: number | undefined
  /** When the webhook was last notified of the current firing (for `repeat`). */
  readonly notifiedMs: number | undefined
  /** Notifications made so far: numbers the next one's delivery id. */
  readonly notices: number
}

export const initialState = (createdMs: number): RuleState => ({
  state: "ok",
  sinceMs: createdMs,
  value: null,
  historyMinute: undefined,
  breaches: 0,
  firedMs: undefined,
  notifiedMs: undefined,
  notices: 0,
})

/** How each alert metric reads the summaries, and its unit. */
export const METRIC_INFO: Readonly<
  Record<
    AlertMetric,
    {
      readonly unit: string
      /** The summary metrics it reads (1-minute rollups of the rule's process type). */
      readonly sources: ReadonlyArray<string>
      /** Whether `minRequests` applies (router metrics). */
      readonly router: boolean
      readonly describe: string
    }
  >
> = {
  router_p95_ms: {
    unit: "ms",
    sources: ["router_service_ms"],
    router: true,
    describe: "p95 of the router's service time (router_service_ms sketch)",
  },
  router_error_pct: {
    unit: "%",
    sources: ["router_status"],
    router: true,
    describe: "percent of router requests with status >= 500 (router_status counts)",
  },
  memory_quota_pct: {
    unit: "%",
    sources: ["memory_total", "memory_quota"],
    router: false,
    describe: "max(memory_total) / max(memory_quota) x 100",
  },
  load_avg_1m: {
    unit: "load",
    sources: ["load_avg_1m"],
    router: false,
    describe: "max(load_avg_1m)",
  },
}

/** A field the request got wrong: 400 names it. */
export interface FieldError {
  readonly field: string
  readonly message: string
}

const show = (value: unknown) => {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text
}

const PROCESS_TYPE = /^[A-Za-z0-9_-]{1,64}$/
// Printable, no control characters (it becomes an Alertmanager label and an event's text).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
const NAME = /^[^\u0000-\u001f\u007f]{1,100}$/

const Name = Schema.String.check(Schema.isPattern(NAME))
const Metric = Schema.Literals(ALERT_METRICS)
const ProcessType = Schema.String.check(Schema.isPattern(PROCESS_TYPE))
const Threshold = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const ForSchema = Schema.Literals(["1m", "5m", "10m"])
const RepeatSchema = Schema.Literals(["5m", "1h", "1d"])
const MinRequests = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 }))
const Url = Schema.String.check(Schema.isMaxLength(2048))

/** One field: decoded with its schema, or an error naming it and what it expects. */
const field = <A>(
  body: Record<string, unknown>,
  name: string,
  schema: Schema.Codec<A, unknown>,
  expects: string,
  fallback?: A,
): A | FieldError => {
  const raw = body[name]
  if (raw === undefined && fallback !== undefined) return fallback
  const decoded = Schema.decodeUnknownOption(schema)(raw)
  if (Option.isSome(decoded)) return decoded.value
  return {
    field: name,
    message: `${name}: expected ${expects}; got ${raw === undefined ? "nothing" : show(raw)}`,
  }
}

const isError = (x: unknown): x is FieldError =>
  typeof x === "object" && x !== null && "field" in x && "message" in x

/**
 * A rule from a request body, or the first field that is wrong. `checkWebhook` says why a webhook URL
 * may not be used (http/https only, not tally's own API: WebhookUrl.ts), or undefined when it may.
 */
export const parseRule = (
  body: unknown,
  checkWebhook: (url: string) => string | undefined,
): RuleSpec | FieldError => {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return {
      field: "body",
      message: "body: expected a JSON object with name, metric, processType, threshold, for",
    }
  const b = body as Record<string, unknown>
  const name = field(b, "name", Name, "a name of 1 to 100 characters without control characters")
  if (isError(name)) return name
  const metric = field(b, "metric", Metric, `one of ${ALERT_METRICS.join(", ")}`)
  if (isError(metric)) return metric
  const processType = field(
    b,
    "processType",
    ProcessType,
    "a process type such as web (letters, digits, _ and -)",
  )
  if (isError(processType)) return processType
  const threshold = field(b, "threshold", Threshold, "a finite number >= 0")
  if (isError(threshold)) return threshold
  const forValue = field(b, "for", ForSchema, "one of 1m, 5m, 10m")
  if (isError(forValue)) return forValue
  const repeat = field(b, "repeat", RepeatSchema, "one of 5m, 1h, 1d", "1h" as const)
  if (isError(repeat)) return repeat
  const minRequests = field(b, "minRequests", MinRequests, "an integer between 0 and 1000000000", 10)
  if (isError(minRequests)) return minRequests
  let webhook: string | undefined
  if (b.webhook !== undefined && b.webhook !== null) {
    const url = field(b, "webhook", Url, "an http(s) URL of at most 2048 characters")
    if (isError(url)) return url
    const why = checkWebhook(url)
    if (why !== undefined) return { field: "webhook", message: `webhook: ${why}` }
    webhook = url
  }
  return { name, metric, processType, threshold, for: forValue, repeat, minRequests, webhook }
}

/** The number of consecutive breaching minutes ending at bit 0. */
export const breachRun = (breaches: number): number => {
  let run = 0
  while (run < 31 && (breaches >>> run) & 1) run++
  return run
}

/**
 * The state a rule is in after an evaluation: a firing rule stays firing while its latest minute
 * breaches and resolves at the first that does not; otherwise it fires when its last `forMinutes`
 * minutes all breached, is pending while its latest minute breaches but fewer consecutive minutes do,
 * and is ok when its latest minute does not breach.
 */
export const nextState = (current: AlertState, breaches: number, forMinutes: number): AlertState => {
  const latest = (breaches & 1) === 1
  if (current === "firing") return latest ? "firing" : "ok"
  const run = breachRun(breaches)
  return run >= forMinutes ? "firing" : run >= 1 ? "pending" : "ok"
}

/** Bits of `breaches` (relative to `fromMinute`) moved to be relative to `toMinute` (a later minute). */
export const shiftTo = (breaches: number, fromMinute: number | undefined, toMinute: number): number => {
  if (fromMinute === undefined) return 0
  const by = Math.round((toMinute - fromMinute) / 60_000)
  if (by <= 0) return breaches
  return by >= 31 ? 0 : (breaches << by) & 0x7fffffff
}

/** A number as annotations and event texts show it: at most 3 decimals. */
export const formatValue = (value: number | null): string =>
  value === null ? "no data" : String(Math.round(value * 1000) / 1000)
