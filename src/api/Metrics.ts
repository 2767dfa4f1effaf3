/**
 * GET /api/v1/apps/{owner}/metrics/{metric}, GET /api/v1/apps/{owner}/events (a read token of the app, or the
 * admin token: any app), GET /api/v1/me (a read token).
 */
import { Context, Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSecurity, OpenApi } from "effect/http-api"
import { BadRequest, NotFound, Unauthorized, UnavailableWithRetryAfter } from "./Errors.ts"

/** The app a read token belongs to. */
export class Reader extends Context.Service<Reader, { readonly owner: string }>()("tally/api/Reader") {}

export class ReadAuth extends HttpApiMiddleware.Service<ReadAuth, { provides: Reader; requires: never }>()(
  "tally/api/ReadAuth",
  {
    security: { bearer: HttpApiSecurity.bearer },
    // 503 when the catalogue of apps cannot be read (its shard is down) and the token is not cached.
    error: [Unauthorized, UnavailableWithRetryAfter],
  },
) {}

export const Steps = ["1m", "5m", "10m", "15m", "1h", "1d"] as const
export type Step = (typeof Steps)[number]

export const Point = Schema.Struct({
  time: Schema.String,
  count: Schema.Number,
  sum: Schema.Number,
  sumsq: Schema.Number,
  min: Schema.Number,
  max: Schema.Number,
  mean: Schema.Number,
  stddev: Schema.Number,
  p50: Schema.optional(Schema.Number),
  p95: Schema.optional(Schema.Number),
  p99: Schema.optional(Schema.Number),
})

export const Series = Schema.Struct({
  label: Schema.String,
  /** Set when the query spans every process type: each series is one process type's. */
  processType: Schema.optional(Schema.String),
  points: Schema.Array(Point),
})

/** Present only when the answer reached one of its caps (DESIGN.md "Tenants"); the answer is then partial. */
export const Truncated = Schema.Struct({
  /** Which cap: "series" (500 series), "points" (100,000 stored points), "events" (10,000 events). */
  reason: Schema.Literals(["series", "points", "events"]),
  /** The cap's number. */
  limit: Schema.Number,
  /** What the answer holds and how to ask for the rest. */
  message: Schema.String,
}).annotate({
  description:
    "Present only when the answer reached a cap: at most 500 series and 100,000 stored points per metrics answer (whole series only), at most 10,000 events per events answer. The answer is then partial: ask for one process type, a shorter range or a coarser step.",
})

/** The range an answer covers: the one asked, completed and aligned to the step (see RANGE). */
const RangeFields = {
  from: Schema.String.annotate({
    description: "the first instant covered (ISO 8601, UTC), aligned to the step",
  }),
  to: Schema.String.annotate({
    description: "the end of the range (exclusive; ISO 8601, UTC), aligned to the step",
  }),
}

/** What the read endpoints do with `from` and `to` (OpenAPI and the README say the same). */
export const RANGE =
  "`from` and `to` are ISO 8601 instants (e.g. 2026-11-28T12:00:00Z); `to` defaults to now and `from` to 2 hours before `to`. Both are aligned to the step for you, outward in UTC (`from` down to the start of its step, `to` up to the end of its step), and the answer says which range it covers (`from`, `to`). They may be at most 31 days apart."

export const MetricResponse = Schema.Struct({
  owner: Schema.String,
  metric: Schema.String,
  processType: Schema.NullOr(Schema.String),
  step: Schema.String,
  ...RangeFields,
  unit: Schema.String,
  /** Process types whose shard did not answer: the series are partial without them. */
  missing: Schema.Array(Schema.String),
  series: Schema.Array(Series),
  truncated: Schema.optional(Truncated),
})

export const Event = Schema.Struct({
  time: Schema.String,
  kind: Schema.String,
  process: Schema.String,
  description: Schema.String,
  actor: Schema.String,
})

export const EventsResponse = Schema.Struct({
  ...RangeFields,
  events: Schema.Array(Event),
  missing: Schema.Array(Schema.String),
  truncated: Schema.optional(Truncated),
})

export const Me = Schema.Struct({
  /** The app's id (a UUID): the `{owner}` of the read paths. */
  owner: Schema.String,
  /** The app's name, as created. */
  name: Schema.String,
  /** Process types that have sent data (web, worker, …). */
  processTypes: Schema.Array(Schema.String),
})

export class MetricsApi extends HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("series", "/api/v1/apps/:owner/metrics/:metric", {
      params: { owner: Schema.String, metric: Schema.String },
      query: {
        process_type: Schema.optional(Schema.String),
        from: Schema.optional(Schema.String),
        to: Schema.optional(Schema.String),
        step: Schema.optional(Schema.String),
      },
      success: MetricResponse,
      error: [BadRequest, NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(
      OpenApi.annotations({
        summary: "A metric's rollups, downsampled to `step` (1m, 5m, 10m, 15m, 1h, 1d; default 1m)",
        description: `Points are merged from stored rollups: counts, sums and sums of squares add, min/max fold, sketches merge (p50/p95/p99 for latencies). ${RANGE} An answer holds at most 500 series and 100,000 stored points; past either, it holds whole series up to the cap and says so in \`truncated\`.`,
      }),
    ),
  )
  .add(
    HttpApiEndpoint.get("events", "/api/v1/apps/:owner/events", {
      params: { owner: Schema.String },
      query: { from: Schema.optional(Schema.String), to: Schema.optional(Schema.String) },
      success: EventsResponse,
      error: [BadRequest, NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(
      OpenApi.annotations({
        summary: "The app's platform events (deploys, releases, restarts, crashes, scaling, config changes)",
        description: `${RANGE.replace("aligned to the step", "aligned to whole minutes").replace("start of its step", "start of its minute").replace("end of its step", "end of its minute")} At most 10,000 events an answer (\`truncated\` says when).`,
      }),
    ),
  )
  .add(
    HttpApiEndpoint.get("me", "/api/v1/me", {
      success: Me,
      error: [Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(
      OpenApi.annotations({ summary: "The app a read token belongs to: its id, name and process types" }),
    ),
  )
  .middleware(ReadAuth) {}
