/**
 * Every setting of tally, read once from the environment. A bad value fails with one line naming the
 * variable and what it expects, e.g. `TALLY_FLUSH_AFTER expects a duration such as 500ms, 10s or 2m; got "fast"`.
 */
import { Config, Context, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"

export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  variable: Schema.String,
  expects: Schema.String,
  got: Schema.String,
}) {
  override get message(): string {
    return `${this.variable} expects ${this.expects}; got ${JSON.stringify(this.got)}`
  }
}

export interface Settings {
  /** TALLY_KAFKA_BROKERS: real Kafka when set, else the in-process bus. */
  readonly kafkaBrokers: Option.Option<ReadonlyArray<string>>
  /** TALLY_PG_SHARDS: real Postgres shards when set, else embedded PGlite under dataDir. */
  readonly pgShards: Option.Option<ReadonlyArray<string>>
  readonly port: number
  /** TALLY_METRICS_PORT: where an aggregator, sink, retrier or alerter serves /metrics and health (unset: its default port, observability/SystemServer.ts). */
  readonly metricsPort: Option.Option<number>
  readonly dataDir: string
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  readonly flushAfter: Duration.Duration
  readonly replicationFactor: number
  readonly workerIndex: number
  readonly workers: number
  readonly retentionDays: number
  readonly maxBodyBytes: number
  readonly logLevel: "Trace" | "Debug" | "Info" | "Warn" | "Error"
  /** TALLY_LOG_FORMAT: pretty (default) or json (one JSON object a line). */
  readonly logFormat: "pretty" | "json"
  readonly kafkaClientId: string
  /** TALLY_PUBLIC_URL: the base of drain URLs handed out; else the Host the request came to. */
  readonly publicUrl: Option.Option<string>
  /** TALLY_TOPIC_PREFIX: prepended to every topic name (default none). */
  readonly topicPrefix: string
  /** TALLY_MAX_LAG: how far behind the aggregators may fall before drains get 503 (backpressure). */
  readonly maxLag: Duration.Duration
  /** TALLY_STALL_TIMEOUT: a stage with work waiting and no progress for this long fails "Stalled" (see stream/Stage.ts). */
  readonly stallTimeout: Duration.Duration
  /** TALLY_HOST: the address the HTTP servers listen on; None = every interface (Node's default). */
  readonly host: Option.Option<string>
  /** TALLY_MAX_PROCESS_TYPES: process types one app may have (lines of further ones are refused, counted). */
  readonly maxProcessTypes: number
  /** TALLY_MAX_LABELS: labels (status codes, error codes) one app may have per metric per UTC day. */
  readonly maxLabels: number
  /** TALLY_APP_MAX_INFLIGHT: drain bytes of one app being read or processed at once, before its further bodies get 503. */
  readonly appMaxInflightBytes: number
  /** TALLY_APP_MAX_FRAME_IDS: acknowledged Frame-Ids one app may have remembered by an ingress at once. */
  readonly appMaxFrameIds: number
  /** TALLY_MIN_BODY_RATE: bytes per second a drain body must arrive at (after a 5 s grace), or it is cut off with 503. */
  readonly minBodyRate: number
  /** TALLY_ALERTMANAGER_URL: the Alertmanager the alerter pushes alerts to (no trailing slash); None = none. */
  readonly alertmanagerUrl: Option.Option<string>
}

/** Each variable with its default, what it expects and what it means (the README's table comes from here). */
export const variables = {
  TALLY_KAFKA_BROKERS: {
    default: "",
    expects: "comma-separated host:port list",
    means: "real Kafka brokers; unset = in-process bus",
  },
  TALLY_PG_SHARDS: {
    default: "",
    expects: "comma-separated postgres:// URLs",
    means: "Postgres shards; unset = embedded PGlite",
  },
  TALLY_PORT: {
    default: "8080",
    expects: "a TCP port (1-65535)",
    means: "port of ingress, API and dashboard",
  },
  TALLY_METRICS_PORT: {
    default: "",
    expects: "a TCP port (1-65535)",
    means:
      "port of /metrics, /livez, /readyz and /healthz of an aggregator, sink, retrier or alerter process; unset = its default (sink 8081, retrier 8082, alerter 8083, aggregator 8090 + TALLY_WORKER_INDEX)",
  },
  TALLY_DATA_DIR: {
    default: "./.tally",
    expects: "a directory path",
    means: "where embedded mode keeps its data",
  },
  TALLY_ADMIN_TOKEN: {
    default: "",
    expects: "a token of at least 16 characters",
    means:
      "guards the admin endpoints (apps, retention); the same for every process; required by ingress and api with TALLY_PG_SHARDS, else generated into the data dir when unset",
    secret: true,
  },
  TALLY_FLUSH_AFTER: {
    default: "10s",
    expects: "a duration such as 500ms, 10s or 2m",
    means: "emit a changed window after this long",
  },
  TALLY_KAFKA_REPLICATION: {
    default: "1",
    expects: "an integer >= 1",
    means: "replication factor of created topics",
  },
  TALLY_WORKER_INDEX: {
    default: "0",
    expects: "an integer in [0, TALLY_WORKERS)",
    means: "this aggregator worker's index i",
  },
  TALLY_WORKERS: {
    default: "1",
    expects: "an integer between 1 and 32",
    means: "number N of aggregator workers",
  },
  TALLY_RETENTION_DAYS: { default: "7", expects: "an integer >= 1", means: "days of rollups kept" },
  TALLY_MAX_BODY: {
    default: "1048576",
    expects: "a byte count >= 1024",
    means: "largest drain body accepted",
  },
  TALLY_LOG_LEVEL: { default: "Info", expects: "one of Trace, Debug, Info, Warn, Error", means: "log level" },
  TALLY_KAFKA_CLIENT_ID: { default: "tally", expects: "a non-empty string", means: "Kafka client id" },
  TALLY_LOG_FORMAT: {
    default: "pretty",
    expects: "pretty or json",
    means: "log format: pretty lines or one JSON object a line",
  },
  TALLY_TOPIC_PREFIX: {
    default: "",
    expects: "letters, digits, '.', '_' or '-'",
    means: "prefix of every topic name, to share a Kafka cluster",
  },
  TALLY_MAX_LAG: {
    default: "2m",
    expects: "a duration such as 30s or 2m",
    means: "drains get 503 + Retry-After while the aggregators are further behind than this",
  },
  TALLY_STALL_TIMEOUT: {
    default: "2m",
    expects: "a duration of at least 1s, such as 30s or 2m",
    means:
      "a stage with records waiting and no progress for this long fails (exit 1, the supervisor restarts it)",
  },
  TALLY_PUBLIC_URL: {
    default: "",
    expects: "an http(s) URL such as https://tally.example.com",
    means:
      "base of the drain URLs handed out; default: http://localhost:TALLY_PORT (never the request's Host)",
  },
  TALLY_HOST: {
    default: "",
    expects: "an IP address or host name to listen on, such as 127.0.0.1 or 0.0.0.0",
    means: "listen address of every HTTP server of the process; unset = every interface",
  },
  TALLY_MAX_PROCESS_TYPES: {
    default: "1000",
    expects: "an integer between 1 and 1000000",
    means: "process types one app may have; lines of further ones are refused and counted",
  },
  TALLY_MAX_LABELS: {
    default: "200",
    expects: "an integer between 1 and 100000",
    means: "labels (status codes, error codes) one app may have per metric per UTC day",
  },
  TALLY_APP_MAX_INFLIGHT: {
    default: "8388608",
    expects: "a byte count >= 1024",
    means: "drain bytes of one app in flight at once; its further bodies get 503",
  },
  TALLY_APP_MAX_FRAME_IDS: {
    default: "50000",
    expects: "an integer >= 100",
    means: "acknowledged Frame-Ids one app may have remembered by an ingress at once",
  },
  TALLY_MIN_BODY_RATE: {
    default: "10240",
    expects: "bytes per second, an integer >= 1",
    means: "a drain body slower than this (after a 5 s grace) is cut off with 503",
  },
  TALLY_ALERTMANAGER_URL: {
    default: "",
    expects: "an http(s) URL such as http://alertmanager:9093",
    means: "the Alertmanager alerts are pushed to (POST /api/v2/alerts); unset = webhooks only",
  },
} as const
type Variable = keyof typeof variables

const invalid = (name: Variable, raw: string) =>
  new ConfigInvalid({
    variable: name,
    expects: variables[name].expects,
    got: "secret" in variables[name] ? `(${raw.length} characters, not shown)` : raw,
  })

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/

export const parseDuration = (text: string): Duration.Duration | undefined => {
  const m = DURATION.exec(text.trim())
  if (!m) return undefined
  const n = Number(m[1])
  const unit = m[2] as "ms" | "s" | "m" | "h"
  return Duration.millis(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit])
}

const integer = (min: number, max: number) => (text: string) => {
  if (!/^\d+$/.test(text.trim())) return undefined
  const n = Number(text)
  return n >= min && n <= max ? n : undefined
}

const list = (text: string) => {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  return items.length > 0 ? items : undefined
}

/** Reads one variable (default when unset or empty) and parses it, or fails naming it. */
const setting = <A>(name: Variable, parse: (text: string) => A | undefined) =>
  Effect.gen(function* () {
    const raw = Option.getOrElse(yield* Config.option(Config.String(name)), () => "")
    const text = raw.trim() === "" ? variables[name].default : raw
    const value = parse(text)
    if (value === undefined) return yield* invalid(name, raw)
    return value
  })

const optional = <A>(name: Variable, parse: (text: string) => A | undefined) =>
  Effect.gen(function* () {
    const raw = Option.getOrElse(yield* Config.option(Config.String(name)), () => "")
    if (raw.trim() === "") return Option.none<A>()
    const value = parse(raw)
    if (value === undefined) return yield* invalid(name, raw)
    return Option.some(value)
  })

const LOG_LEVELS = ["Trace", "Debug", "Info", "Warn", "Error"] as const

export const loadSettings = Effect.gen(function* () {
  const workers = yield* setting("TALLY_WORKERS", integer(1, 32))
  return {
    kafkaBrokers: yield* optional("TALLY_KAFKA_BROKERS", list),
    pgShards: yield* optional("TALLY_PG_SHARDS", (t) => {
      const urls = list(t)
      return urls?.every((u) => /^postgres(ql)?:\/\//.test(u)) ? urls : undefined
    }),
    port: yield* setting("TALLY_PORT", integer(1, 65535)),
    metricsPort: yield* optional("TALLY_METRICS_PORT", integer(1, 65535)),
    dataDir: yield* setting("TALLY_DATA_DIR", (t) => t.trim() || undefined),
    adminToken: yield* optional("TALLY_ADMIN_TOKEN", (t) =>
      t.trim().length >= 16 ? Redacted.make(t.trim()) : undefined,
    ),
    flushAfter: yield* setting("TALLY_FLUSH_AFTER", parseDuration),
    replicationFactor: yield* setting("TALLY_KAFKA_REPLICATION", integer(1, 16)),
    workerIndex: yield* setting("TALLY_WORKER_INDEX", integer(0, workers - 1)),
    workers,
    retentionDays: yield* setting("TALLY_RETENTION_DAYS", integer(1, 3650)),
    maxBodyBytes: yield* setting("TALLY_MAX_BODY", integer(1024, 1024 * 1024 * 1024)),
    logLevel: yield* setting("TALLY_LOG_LEVEL", (t) =>
      LOG_LEVELS.find((l) => l.toLowerCase() === t.trim().toLowerCase()),
    ),
    kafkaClientId: yield* setting("TALLY_KAFKA_CLIENT_ID", (t) => t.trim() || undefined),
    logFormat: yield* setting("TALLY_LOG_FORMAT", (t) =>
      t.trim() === "json" ? "json" : t.trim() === "pretty" ? "pretty" : undefined,
    ),
    topicPrefix: Option.getOrElse(
      yield* optional("TALLY_TOPIC_PREFIX", (t) =>
        /^[A-Za-z0-9._-]+$/.test(t.trim()) ? t.trim() : undefined,
      ),
      () => "",
    ),
    maxLag: yield* setting("TALLY_MAX_LAG", parseDuration),
    stallTimeout: yield* setting("TALLY_STALL_TIMEOUT", (t) => {
      const d = parseDuration(t)
      return d && Duration.toMillis(d) >= 1000 ? d : undefined
    }),
    publicUrl: yield* optional("TALLY_PUBLIC_URL", (t) =>
      /^https?:\/\/[^\s/]+/.test(t.trim()) ? t.trim().replace(/\/+$/, "") : undefined,
    ),
    host: yield* optional("TALLY_HOST", (t) => (/^[A-Za-z0-9.:_-]+$/.test(t.trim()) ? t.trim() : undefined)),
    maxProcessTypes: yield* setting("TALLY_MAX_PROCESS_TYPES", integer(1, 1_000_000)),
    maxLabels: yield* setting("TALLY_MAX_LABELS", integer(1, 100_000)),
    appMaxInflightBytes: yield* setting("TALLY_APP_MAX_INFLIGHT", integer(1024, 1024 * 1024 * 1024)),
    appMaxFrameIds: yield* setting("TALLY_APP_MAX_FRAME_IDS", integer(100, 100_000_000)),
    minBodyRate: yield* setting("TALLY_MIN_BODY_RATE", integer(1, 1024 * 1024 * 1024)),
    alertmanagerUrl: yield* optional("TALLY_ALERTMANAGER_URL", (t) =>
      /^https?:\/\/[^\s/]+/.test(t.trim()) && URL.canParse(t.trim())
        ? t.trim().replace(/\/+$/, "")
        : undefined,
    ),
  } satisfies Settings
})

export class TallyConfig extends Context.Service<TallyConfig, Settings>()("tally/config/TallyConfig") {
  /** Reads the environment (through the current ConfigProvider) once. */
  static readonly layer = Layer.effect(TallyConfig, Effect.map(loadSettings, TallyConfig.of)).pipe(
    Layer.catchTag("ConfigError", (e) =>
      Layer.effect(
        TallyConfig,
        new ConfigInvalid({ variable: "(environment)", expects: "readable settings", got: e.message }),
      ),
    ),
  )

  /** Fixed settings for tests: defaults overridden by `overrides`. */
  static readonly layerWith = (overrides: Partial<Settings>) =>
    Layer.effect(
      TallyConfig,
      Effect.map(loadSettings, (s) => TallyConfig.of({ ...s, ...overrides })),
    )
}
