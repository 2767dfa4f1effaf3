/**
 * POST /api/v1/apps: create an app (admin bearer token); returns its drain URL and a read token.
 * POST /api/v1/retention: drop the day schemas past TALLY_RETENTION_DAYS now (admin bearer token).
 */
import { Context, Schema } from "effect"
import {
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
} from "effect/http-api"
import { BadRequest, Conflict, Unauthorized, UnavailableWithRetryAfter } from "./Errors.ts"

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

/** The day schemas a retention pass dropped, as `shard N: tally_YYYYMMDD`. */
export const RetentionRun = Schema.Struct({ dropped: Schema.Array(Schema.String) })

export class AppsApi extends HttpApiGroup.make("apps")
  .add(
    HttpApiEndpoint.post("create", "/api/v1/apps", {
      payload: Schema.Struct({ name: Schema.String }),
      success: CreatedApp.pipe(HttpApiSchema.status(201)),
      error: [BadRequest, Conflict, Unauthorized],
    }),
  )
  // What `tally retention run` asks of the server that holds the data dir (admin token).
  .add(
    HttpApiEndpoint.post("retention", "/api/v1/retention", {
      success: RetentionRun,
      error: [Unauthorized, UnavailableWithRetryAfter],
    }),
  )
  .middleware(AdminAuth) {}
