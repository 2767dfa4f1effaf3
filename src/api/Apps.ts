/**
 * The admin endpoints (admin bearer token):
 * POST /api/v1/apps: create an app; returns its drain URL and a read token.
 * GET /api/v1/apps: every app; GET /api/v1/apps/{owner}: one, with its process types.
 * POST /api/v1/apps/{owner}/read-token, /drain-secret: rotate a credential (the earlier ones are revoked).
 * DELETE /api/v1/apps/{owner}: remove an app and its credentials.
 * POST /api/v1/retention: drop the day schemas past TALLY_RETENTION_DAYS now.
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
import { BadRequest, Conflict, NotFound, Unauthorized, UnavailableWithRetryAfter } from "./Errors.ts"

export class Admin extends Context.Service<Admin, { readonly admin: true }>()("tally/api/Admin") {}

export class AdminAuth extends HttpApiMiddleware.Service<AdminAuth, { provides: Admin; requires: never }>()(
  "tally/api/AdminAuth",
  { security: { bearer: HttpApiSecurity.bearer }, error: Unauthorized },
) {}

export const CreatedApp = Schema.Struct({
  owner: Schema.String,
  name: Schema.String,
  drainUrl: Schema.String,
  readToken: Schema.String,
})

/** An app as the admin endpoints list it (its credentials are never shown again after they are issued). */
export const AppSummary = Schema.Struct({
  /** The app's id (a UUID): the `{owner}` of every path of the app. */
  owner: Schema.String,
  name: Schema.String,
  /** When it was created (ISO 8601). */
  createdAt: Schema.String,
})

export const AppList = Schema.Struct({ apps: Schema.Array(AppSummary) })

export const AppDetail = Schema.Struct({
  ...AppSummary.fields,
  /** Process types that have sent data (web, worker, …). */
  processTypes: Schema.Array(Schema.String),
})

export const RotatedReadToken = Schema.Struct({
  owner: Schema.String,
  name: Schema.String,
  /** The new read token; every earlier read token of the app is revoked. */
  readToken: Schema.String,
})

export const RotatedDrainSecret = Schema.Struct({
  owner: Schema.String,
  name: Schema.String,
  /** The new drain URL (its secret); the earlier one is revoked. */
  drainUrl: Schema.String,
})

const ownerParam = { owner: Schema.String }

/** How long other tally processes may still accept a revoked credential (their snapshot's refresh). */
const REVOCATION =
  "It is revoked at once by the process that answers, and by every other tally process within 30 s (their credential snapshot's refresh)."

/** The day schemas a retention pass dropped, as `shard N: tally_YYYYMMDD`. */
export const RetentionRun = Schema.Struct({ dropped: Schema.Array(Schema.String) })

export class AppsApi extends HttpApiGroup.make("apps")
  .add(
    HttpApiEndpoint.post("create", "/api/v1/apps", {
      payload: Schema.Struct({ name: Schema.String }),
      success: CreatedApp.pipe(HttpApiSchema.status(201)),
      error: [BadRequest, Conflict, Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Create an app",
        description:
          'Body `{"name": "my-app"}` (1-63 lowercase letters, digits and dashes, starting with a letter). The drain URL (with the app\'s secret) and the read token are shown this once; only their digests are kept. The drain URL\'s host is TALLY_PUBLIC_URL (default http://localhost:TALLY_PORT).',
      }),
    ),
  )
  .add(
    HttpApiEndpoint.get("list", "/api/v1/apps", {
      success: AppList,
      error: [Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(OpenApi.annotations({ summary: "Every app, by name" })),
  )
  .add(
    HttpApiEndpoint.get("show", "/api/v1/apps/:owner", {
      params: ownerParam,
      success: AppDetail,
      error: [NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(OpenApi.annotations({ summary: "One app, with the process types that sent data" })),
  )
  .add(
    HttpApiEndpoint.post("rotateReadToken", "/api/v1/apps/:owner/read-token", {
      params: ownerParam,
      success: RotatedReadToken.pipe(HttpApiSchema.status(201)),
      error: [NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(
      OpenApi.annotations({
        summary: "A new read token for the app; every earlier one is revoked",
        description: REVOCATION,
      }),
    ),
  )
  .add(
    HttpApiEndpoint.post("rotateDrainSecret", "/api/v1/apps/:owner/drain-secret", {
      params: ownerParam,
      success: RotatedDrainSecret.pipe(HttpApiSchema.status(201)),
      error: [NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(
      OpenApi.annotations({
        summary: "A new drain secret (drain URL) for the app; the earlier one is revoked",
        description: `${REVOCATION} Drains still posting with the old URL get 401, which Logplex does not retry: add the new drain URL to the app (\`heroku drains:add\`), then remove the old one.`,
      }),
    ),
  )
  .add(
    HttpApiEndpoint.delete("remove", "/api/v1/apps/:owner", {
      params: ownerParam,
      success: HttpApiSchema.NoContent,
      error: [NotFound, Unauthorized, UnavailableWithRetryAfter],
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Remove an app, its credentials, process types and alert rules",
        description: `${REVOCATION} Its stored rollups are no longer readable and are dropped by retention (TALLY_RETENTION_DAYS) with the rest.`,
      }),
    ),
  )
  // What `tally retention run` asks of the server that holds the data dir (admin token).
  .add(
    HttpApiEndpoint.post("retention", "/api/v1/retention", {
      success: RetentionRun,
      error: [Unauthorized, UnavailableWithRetryAfter],
    }),
  )
  .middleware(AdminAuth) {}
