/**
 * `POST /api/v1/read`: Prometheus' remote-read protocol over tally's rollups (DESIGN.md "Reading tally
 * from Prometheus and Grafana"). A snappy-compressed protobuf `prometheus.ReadRequest` in, a
 * snappy-compressed `prometheus.ReadResponse` (the SAMPLES response type) out. Prometheus 2.42's client
 * asks for nothing else (it sends no `accepted_response_types`, which means SAMPLES); a request that
 * accepts only STREAMED_XOR_CHUNKS gets 400, as Prometheus' own server answers a type it lacks.
 *
 * A query's matchers select series (PromLabels.ts): the names and apps (the token's app, or every app
 * for the admin token) and process types from the catalogue, then the series keys of the range from the
 * summary tables (SeriesIndex.ts: two index probes a series). More than MAX_READ_SERIES series is
 * refused (400, a message Prometheus shows) before any sample is read. The samples come from the
 * Query service, the JSON API's own: per app and metric one answer, so a sample's value is the JSON
 * API's value of that point (same merge, same floats). A step hint of 10m or more reads the answer
 * downsampled to the largest API step not above it (10m, 15m, 1h, 1d), each sample at its bucket's
 * start; below 10m, the 1-minute points. More than MAX_READ_SAMPLES samples, or a Query answer that hit
 * its own cap (500 series, 100,000 stored points per app and metric), is refused, never cut; a shard
 * that cannot be read makes the read fail (503) naming it, never a silently partial answer.
 */
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import * as ByteSize from "effect/ByteSize"
import { HttpIncomingMessage, HttpRouter, HttpServerResponse } from "effect/http"
import snappy from "snappyjs"
import type { Step } from "../api/Metrics.ts"
import { AdminToken } from "../apps/AdminToken.ts"
import { Apps } from "../apps/Apps.ts"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { METRICS } from "../domain/Metrics.ts"
import { DAY_MS } from "../domain/Time.ts"
import { type PromQuery, ReadRequest, ReadResponse, type TimeSeries } from "../proto/Prometheus.ts"
import { Shards } from "../store/Shards.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { periodFor, STEP_MS } from "./Downsample.ts"
import {
  LABEL_NAME,
  labelsOf,
  type Matcher,
  type MatchType,
  needsForeignLabel,
  SERIES_NAMES,
  type Stat,
  selects,
  toMatcher,
} from "./PromLabels.ts"
import { Query } from "./Query.ts"
import { type AppEntry, makeSeriesIndex, type SeriesKey } from "./SeriesIndex.ts"

/** Series one remote-read query may select; more is refused with a message. */
export const MAX_READ_SERIES = 10_000
/** Samples one remote-read query may return; more is refused with a message. */
export const MAX_READ_SAMPLES = 500_000
/** Largest request body taken (compressed), and its largest uncompressed size. */
const MAX_BODY_BYTES = 1024 * 1024
const MAX_DECODED_BYTES = 8 * 1024 * 1024
/** How far back a read looks at most (rollups are kept TALLY_RETENTION_DAYS, 7 by default). */
const MAX_LOOKBACK_MS = 32 * DAY_MS
/** Step hints from 10 minutes up read downsampled answers: the largest API step not above the hint. */
const COARSE_STEPS: ReadonlyArray<Step> = ["1d", "1h", "15m", "10m"]
/** Answers (app, metric) read at once for one remote-read query. */
const READ_CONCURRENCY = 4

export class RemoteReadError extends Schema.TaggedError<RemoteReadError>()("RemoteReadError", {
  reason: Schema.Literals(["BadRequest", "TooManySeries", "TooManySamples", "Unavailable"]),
  message: Schema.String,
}) {}

const bad = (message: string) => new RemoteReadError({ reason: "BadRequest", message })
const unavailable = (message: string) => new RemoteReadError({ reason: "Unavailable", message })

/** The step a read's hint asks for: 1m below 10m, else the largest API step not above the hint. */
export const stepForHint = (hintMs: number): Step => {
  for (const step of COARSE_STEPS) if (hintMs >= STEP_MS[step]) return step
  return "1m"
}

const MATCH_TYPES: ReadonlyArray<MatchType> = ["=", "!=", "=~", "!~"]

/** Who reads: one app (its read token) or every app (the admin token). */
export interface Reader {
  readonly owner: string | undefined
}

interface Selected {
  readonly key: SeriesKey
  readonly app: AppEntry
  readonly stats: ReadonlyArray<{ readonly name: string; readonly stat: Stat }>
}

export class RemoteRead extends Context.Service<
  RemoteRead,
  {
    /** Answers a decoded ReadRequest for `reader`: the encoded (uncompressed) ReadResponse. */
    readonly read: (reader: Reader, request: ReadRequest) => Effect.Effect<Uint8Array, RemoteReadError>
  }
>()("tally/query/RemoteRead") {
  static readonly layer = Layer.effect(
    RemoteRead,
    Effect.gen(function* () {
      const query = yield* Query
      const index = makeSeriesIndex(yield* Shards, yield* SummaryStore)

      const storeFailed = (e: { readonly message: string }) =>
        unavailable(`tally could not read its store (${e.message}); try again`)

      /** The series one query selects, with the stats wanted of each; refused past MAX_READ_SERIES. */
      const select = Effect.fn("RemoteRead.select")(function* (
        reader: Reader,
        matchers: ReadonlyArray<Matcher>,
        range: { readonly fromMs: number; readonly toMs: number; readonly step: Step },
      ) {
        if (needsForeignLabel(matchers)) return []
        // Names: which metrics, and which of their stats.
        const statsOf = new Map<string, Array<{ name: string; stat: Stat }>>()
        for (const s of SERIES_NAMES) {
          if (!selects(matchers, "__name__", s.name)) continue
          const labelName = LABEL_NAME[s.metric]
          // A label the metric does not have is "" to the matchers: status= on memory selects nothing.
          if (labelName !== "status" && !selects(matchers, "status", "")) continue
          if (labelName !== "code" && !selects(matchers, "code", "")) continue
          const list = statsOf.get(s.metric)
          if (list) list.push({ name: s.name, stat: s.stat })
          else statsOf.set(s.metric, [{ name: s.name, stat: s.stat }])
        }
        if (statsOf.size === 0) return []
        // Apps and process types from the catalogue.
        const apps = (yield* index.apps(reader.owner).pipe(Effect.mapError(storeFailed))).filter(
          (a) => selects(matchers, "app", a.name) && selects(matchers, "owner", a.owner),
        )
        const byShard = new Map<number, Array<{ owner: string; processType: string }>>()
        for (const a of apps)
          for (const pt of a.processTypes)
            if (selects(matchers, "process_type", pt)) {
              const shard = index.shardOf(a.owner, pt)
              const list = byShard.get(shard)
              if (list) list.push({ owner: a.owner, processType: pt })
              else byShard.set(shard, [{ owner: a.owner, processType: pt }])
            }
        if (byShard.size === 0) return []
        const metrics = new Map<RolledUpType, Array<string>>()
        for (const metric of statsOf.keys()) {
          const type = METRICS[metric]!.type
          const list = metrics.get(type)
          if (list) list.push(metric)
          else metrics.set(type, [metric])
        }
        // An equality matcher on status or code is one label to look for (the others filter below).
        // (Not `status=""`: every series but router_status' has that status, so it narrows nothing.)
        const equal = matchers.find(
          (m) => m.type === "=" && m.value !== "" && (m.name === "status" || m.name === "code"),
        )
        // Each key is at least `perKey` series (its metric's stats selected): past MAX_READ_SERIES / perKey
        // keys the read is refused, so the scan stops there — unless a status/code matcher filters keys
        // after it (then every key may be dropped, and the scan may go on to MAX_READ_SERIES + 1).
        const perKey = Math.min(...[...statsOf.values()].map((l) => l.length))
        const filtered = matchers.some((m) => (m.name === "status" || m.name === "code") && m !== equal)
        const limit = filtered ? MAX_READ_SERIES + 1 : Math.floor(MAX_READ_SERIES / perKey) + 1
        const found = yield* Effect.forEach(
          byShard,
          ([shard, pairs]) =>
            index
              .keys(shard, {
                pairs,
                metrics,
                label: equal?.value,
                period: periodFor(range.step),
                fromMs: range.fromMs,
                toMs: range.toMs,
                limit,
              })
              .pipe(Effect.mapError(storeFailed)),
          { concurrency: "unbounded" },
        )
        const appOf = new Map(apps.map((a) => [a.owner, a]))
        const out: Array<Selected> = []
        let series = 0
        let examinedAll = true
        for (const keys of found) {
          if (keys.length >= limit) examinedAll = false
          for (const key of keys) {
            const labelName = LABEL_NAME[key.metric]
            if (labelName !== undefined && !selects(matchers, labelName, key.label)) continue
            const stats = statsOf.get(key.metric)!
            out.push({ key, app: appOf.get(key.owner)!, stats })
            series += stats.length
          }
        }
        if (series > MAX_READ_SERIES || !examinedAll)
          return yield* new RemoteReadError({
            reason: "TooManySeries",
            message: `tally: this read selects more than ${MAX_READ_SERIES} series (tally's limit for one remote read${reader.owner === undefined ? `, over ${apps.length} apps` : ""}); add matchers that narrow it, e.g. app="...", process_type="..." or one metric name (__name__)`,
          })
        return out
      })

      /** The samples of the selected series, from the Query service: one answer per app and metric. */
      const samples = Effect.fn("RemoteRead.samples")(function* (
        selected: ReadonlyArray<Selected>,
        range: {
          readonly fromMs: number
          readonly toMs: number
          readonly step: Step
          readonly stepMs: number
        },
      ) {
        const groups = new Map<string, Array<Selected>>()
        for (const s of selected) {
          const g = `${s.key.owner}\0${s.key.metric}`
          const list = groups.get(g)
          if (list) list.push(s)
          else groups.set(g, [s])
        }
        let total = 0
        const answers = yield* Effect.forEach(
          groups.values(),
          (group) =>
            Effect.gen(function* () {
              const { owner, metric } = group[0]!.key
              const types = new Set(group.map((s) => s.key.processType))
              const only = types.size === 1 ? group[0]!.key.processType : undefined
              const answer = yield* query.series(owner, metric, only, range)
              if (answer.missing.length > 0)
                return yield* unavailable(
                  `tally could not read ${answer.missing.join(", ")} of app ${group[0]!.app.name} now (a shard is down); try again`,
                )
              if (answer.truncated !== undefined)
                return yield* new RemoteReadError({
                  reason: "TooManySamples",
                  message: `tally: ${metric} of app ${group[0]!.app.name}: ${answer.truncated.message}`,
                })
              const wanted = new Map(group.map((s) => [`${s.key.processType}\0${s.key.label}`, s]))
              const out: Array<TimeSeries> = []
              for (const series of answer.series) {
                const s = wanted.get(`${series.processType ?? only}\0${series.label}`)
                if (s === undefined || series.points.length === 0) continue
                const times = series.points.map((p) => Date.parse(p.time))
                for (const { name, stat } of s.stats) {
                  const values: Array<{ value: number; timestamp: number }> = []
                  for (let i = 0; i < series.points.length; i++) {
                    const value = series.points[i]![stat]
                    if (value !== undefined) values.push({ value, timestamp: times[i]! })
                  }
                  if (values.length === 0) continue
                  total += values.length
                  if (total > MAX_READ_SAMPLES)
                    return yield* new RemoteReadError({
                      reason: "TooManySamples",
                      message: `tally: this read returns more than ${MAX_READ_SAMPLES} samples (tally's limit for one remote read); narrow the matchers or the time range, or use a step of 10m or more`,
                    })
                  out.push({
                    labels: labelsOf(
                      name,
                      s.app.name,
                      s.key.owner,
                      s.key.processType,
                      LABEL_NAME[s.key.metric],
                      s.key.label,
                    ),
                    samples: values,
                  })
                }
              }
              return out
            }),
          { concurrency: READ_CONCURRENCY },
        )
        return answers.flat()
      })

      const one = Effect.fn("RemoteRead.query")(function* (reader: Reader, q: PromQuery) {
        const matchers: Array<Matcher> = []
        for (const m of q.matchers) {
          const type = MATCH_TYPES[m.type]
          if (type === undefined) return yield* bad(`unknown matcher type ${m.type}`)
          const matcher = toMatcher(m.name, type, m.value)
          if (typeof matcher === "string") return yield* bad(matcher)
          matchers.push(matcher)
        }
        const hints = q.hints
        const step = stepForHint(hints?.stepMs ?? 0)
        const stepMs = STEP_MS[step]
        const now = yield* Clock.currentTimeMillis
        // Samples at start..end inclusive; whole buckets (a bucket's sample is at its start).
        const start = Math.max(q.startTimestampMs, now - MAX_LOOKBACK_MS)
        const end = Math.min(q.endTimestampMs, now + DAY_MS)
        if (!(start <= end)) return []
        const fromMs = Math.floor(start / stepMs) * stepMs
        const toMs = Math.floor(end / stepMs) * stepMs + stepMs
        const range = { fromMs, toMs, step, stepMs }
        const selected = yield* select(reader, matchers, range)
        // Prometheus' series API (/api/v1/series) wants labels only.
        if (hints?.func === "series")
          return selected.flatMap((s) =>
            s.stats.map(
              ({ name }): TimeSeries => ({
                labels: labelsOf(
                  name,
                  s.app.name,
                  s.key.owner,
                  s.key.processType,
                  LABEL_NAME[s.key.metric],
                  s.key.label,
                ),
                samples: [],
              }),
            ),
          )
        return yield* samples(selected, range)
      })

      const read = Effect.fn("RemoteRead.read")(function* (reader: Reader, request: ReadRequest) {
        const accepted = request.acceptedResponseTypes
        if (accepted.length > 0 && !accepted.includes(ReadRequest.ResponseType.SAMPLES))
          return yield* bad(
            `tally answers remote reads with the SAMPLES response type only; the request accepts ${accepted.map((t) => ReadRequest.ResponseType[t]).join(", ")}`,
          )
        const results = yield* Effect.forEach(request.queries, (q) =>
          Effect.map(one(reader, q), (timeseries) => ({ timeseries })),
        )
        return ReadResponse.encode({ results }).finish()
      })

      return RemoteRead.of({ read })
    }),
  )
}

/** The error codes of the HTTP surface's `{error, message}` bodies, by status. */
const CODES: Readonly<Record<number, string>> = {
  400: "bad_request",
  401: "unauthorized",
  413: "payload_too_large",
  503: "unavailable",
}

/**
 * A refusal: `{"error", "message"}` as every 4xx/5xx of the HTTP surface; Prometheus shows the body as
 * it is (`remote server ... returned HTTP status 400 Bad Request: {"error":...,"message":"tally: ..."}`).
 */
const refusal = (status: number, message: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe({ error: CODES[status] ?? "bad_request", message }, { status, headers })

/**
 * The route, beside the HttpApi (its body is binary protobuf; its refusals are the surface's
 * `{error, message}`, which Prometheus shows as they are). Auth as the JSON API's: `Authorization: Bearer` with an app's read token (that app) or the admin
 * token (every app); 401 otherwise, 503 + Retry-After while the catalogue of tokens cannot be read.
 */
export const RemoteReadRoutes = Layer.unwrap(
  Effect.gen(function* () {
    const remote = yield* RemoteRead
    const apps = yield* Apps
    const admin = yield* AdminToken
    const reader = (authorization: string | undefined) =>
      Effect.gen(function* () {
        const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? "")
        if (match === null) return Option.none<Reader>()
        const token = match[1]!
        if (admin.matches(token)) return Option.some<Reader>({ owner: undefined })
        const owner = yield* apps.ownerByReadToken(token)
        return Option.map(owner, (o): Reader => ({ owner: o }))
      })
    return HttpRouter.add("POST", "/api/v1/read", (request) =>
      Effect.gen(function* () {
        const who = yield* reader(request.headers.authorization)
        if (Option.isNone(who))
          return refusal(
            401,
            "tally: a read token of an app or the admin token is required (Authorization: Bearer)",
          )
        const length = Number(request.headers["content-length"] ?? 0)
        if (length > MAX_BODY_BYTES)
          return refusal(413, `tally: a remote-read request is at most ${MAX_BODY_BYTES} bytes`)
        const body = yield* request.arrayBuffer.pipe(
          Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_BODY_BYTES)),
          Effect.option,
        )
        if (Option.isNone(body)) return refusal(400, "tally: the request body could not be read")
        let decoded: ReadRequest
        try {
          decoded = ReadRequest.decode(snappy.uncompress(new Uint8Array(body.value), MAX_DECODED_BYTES))
        } catch (e) {
          return refusal(
            400,
            `tally: the body is not a snappy-compressed prometheus.ReadRequest: ${(e as Error).message}`,
          )
        }
        const encoded = yield* remote.read(who.value, decoded)
        return HttpServerResponse.uint8Array(snappy.compress(encoded), {
          contentType: "application/x-protobuf",
          headers: { "content-encoding": "snappy" },
        })
      }).pipe(
        Effect.catchTags({
          RemoteReadError: (e) =>
            Effect.succeed(
              e.reason === "Unavailable"
                ? refusal(503, e.message, { "retry-after": "5" })
                : refusal(400, e.message),
            ),
          AppsError: (e) =>
            Effect.as(
              Effect.logWarning(`remote read: credentials: ${e.message}`),
              refusal(503, "tally: the app catalogue cannot be read now; retry shortly", {
                "retry-after": "5",
              }),
            ),
        }),
      ),
    )
  }),
).pipe(Layer.provide(RemoteRead.layer))
