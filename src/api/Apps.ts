/** POST /api/v1/apps: create an app (admin bearer token); returns its drain URL and a read token. */
import { Context, Schema } from "effect"
import {
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
} from "effect/http-api"
import { BadRequest, Conflict, Unauthorized } from "./Errors.ts"

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

export class AppsApi extends HttpApiGroup.make("apps")
  .add(
    HttpApiEndpoint.post("create", "/api/v1/apps", {
      payload: Schema.Struct({ name: Schema.String }),
      success: CreatedApp.pipe(HttpApiSchema.status(201)),
      error: [BadRequest, Conflict, Unauthorized],
    }),
  )
  .middleware(AdminAuth) {}
