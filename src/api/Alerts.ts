/**
 * Alert rules of an app (DESIGN.md "Alerts"): POST /api/v1/apps/{owner}/alerts (admin token) creates one,
 * GET lists them with their live state (a read token of that app, or the admin token), DELETE
 * /api/v1/apps/{owner}/alerts/{id} (admin token) removes one.
 */
import { Context, Schema } from "effect"
import {
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi,
} from "effect/http-api"
import { AdminAuth } from "./Apps.ts"
import { BadRequest, Conflict, NotFound, Unauthorized, UnavailableWithRetryAfter } from "./Errors.ts"

/** Who lists: an app (its read token) or the admin (undefined: every app). */
export class AlertsViewer extends Context.Service<AlertsViewer, { readonly owner: string | undefined }>()(
  "tally/api/AlertsViewer",
) {}

/** A read token (of the app in the path) or the admin token. */
export class AlertsReadAuth extends HttpApiMiddleware.Service<
  AlertsReadAuth,
  { provides: AlertsViewer; requires: never }
>()("tally/api/AlertsReadAuth", {
  security: { bearer: HttpApiSecurity.bearer },
  error: [Unauthorized, UnavailableWithRetryAfter],
}) {}

const Metric = Schema.Literals(["router_p95_ms", "router_error_pct", "memory_quota_pct", "load_avg_1m"])
const State = Schema.Literals(["ok", "pending", "firing"])

const ruleFields = {
  id: Schema.String,
  name: Schema.String,
  metric: Metric,
  processType: Schema.String,
  threshold: Schema.Number,
  for: Schema.Literals(["1m", "5m", "10m"]),
  repeat: Schema.Literals(["5m", "1h", "1d"]),
  minRequests: Schema.Number,
  /** The unit of `value` and `threshold`: ms, % or load. */
  unit: Schema.String,
  state: State,
  /** When the rule entered `state` (ISO): the end of the minute whose evaluation moved it, or its creation. */
  since: Schema.String,
  /** The value of the last minute evaluated; null when that minute had no data. */
  value: Schema.NullOr(Schema.Number),
}

export const AlertRule = Schema.Struct({
  ...ruleFields,
  /** The webhook's origin (scheme, host and port; its path and query may hold secrets), or null. */
  webhook: Schema.NullOr(Schema.String),
  /** Notifications not yet acknowledged by their receiver. */
  pending: Schema.Number,
  /** Notifications given up (undelivered for a day, or refused). */
  abandoned: Schema.Number,
  /** The last delivery error of its pending or given-up notifications. */
  lastError: Schema.optional(Schema.String),
})

export const CreatedAlert = Schema.Struct({
  ...ruleFields,
  webhook: Schema.NullOr(Schema.String),
  /** The key of the webhook's `X-Tally-Signature` (HMAC-SHA256 of the body); shown once. */
  secret: Schema.String,
})

export const AlertList = Schema.Struct({ alerts: Schema.Array(AlertRule) })

/** The body of a create: each field is checked by the handler, so a 400 names the field that is wrong. */
export const NewAlert = Schema.Record(Schema.String, Schema.Unknown).annotate({
  description:
    '{"name": string (1-100 characters), "metric": "router_p95_ms" | "router_error_pct" | "memory_quota_pct" | "load_avg_1m", "processType": string (e.g. "web"), "threshold": number >= 0, "for": "1m" | "5m" | "10m", "repeat"?: "5m" | "1h" | "1d" (default "1h"), "minRequests"?: integer >= 0 (default 10), "webhook"?: http(s) URL}',
})

export class AlertsApi extends HttpApiGroup.make("alerts")
  .add(
    HttpApiEndpoint.post("create", "/api/v1/apps/:owner/alerts", {
      params: { owner: Schema.String },
      payload: NewAlert,
      success: CreatedAlert.pipe(HttpApiSchema.status(201)),
      error: [BadRequest, NotFound, Conflict, Unauthorized, UnavailableWithRetryAfter],
    })
      .middleware(AdminAuth)
      .annotateMerge(
        OpenApi.annotations({
          summary: "Create an alert rule (admin token)",
          description:
            "The rule fires when each of its last `for` completed minutes breaches (value >= threshold), is pending while fewer do, and resolves at the first completed minute that does not. Router metrics of a minute with fewer than `minRequests` requests do not breach. 400 names the field that is wrong; 409 when the app has a rule of that name.",
        }),
      ),
  )
  .add(
    HttpApiEndpoint.get("list", "/api/v1/apps/:owner/alerts", {
      params: { owner: Schema.String },
      success: AlertList,
      error: [NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).middleware(AlertsReadAuth),
  )
  .add(
    HttpApiEndpoint.delete("delete", "/api/v1/apps/:owner/alerts/:id", {
      params: { owner: Schema.String, id: Schema.String },
      success: HttpApiSchema.NoContent,
      error: [NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).middleware(AdminAuth),
  ) {}
