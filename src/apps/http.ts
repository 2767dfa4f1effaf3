/** Handlers of POST /api/v1/apps and the admin bearer auth. */
import { Effect, Layer, Option, Redacted } from "effect"
import { HttpServerRequest } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { Admin, AdminAuth } from "../api/Apps.ts"
import { BadRequest, Conflict, Unauthorized, Unavailable } from "../api/Errors.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { AdminToken } from "./AdminToken.ts"
import { Apps, type AppsError } from "./Apps.ts"

/** A credential lookup that could not read the catalogue: 503, so Logplex (or the reader) tries again. */
export const catalogueUnavailable = (e: AppsError) =>
  Effect.logWarning(`credentials: ${e.message}`).pipe(
    Effect.andThen(
      Effect.fail(
        new Unavailable({
          message: "the app catalogue cannot be read now; retry shortly",
          retryAfterSeconds: 5,
        }),
      ),
    ),
  )

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.gen(function* () {
    const token = yield* AdminToken
    return AdminAuth.of({
      bearer: Effect.fn("AdminAuth.bearer")(function* (httpEffect, { credential }) {
        if (!token.matches(Redacted.value(credential)))
          return yield* new Unauthorized({ message: "admin token required" })
        return yield* Effect.provideService(httpEffect, Admin, { admin: true })
      }),
    })
  }),
)

/** The drain URL for a secret: `http://tally:<secret>@host/logs` (the secret is accepted in either slot). */
export const drainUrl = (base: string, secret: string) => {
  const url = new URL("/logs", base)
  url.username = "tally"
  url.password = secret
  return url.toString()
}

export const AppsHandlers = HttpApiBuilder.group(
  TallyApi,
  "apps",
  Effect.fn(function* (handlers) {
    const apps = yield* Apps
    const settings = yield* TallyConfig
    return handlers.handle("create", ({ payload }) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const host = request.headers.host
        const base = Option.getOrElse(settings.publicUrl, () =>
          host ? `http://${host}` : `http://localhost:${settings.port}`,
        )
        const app = yield* apps.create(payload.name).pipe(
          Effect.catchTag("AppsError", (e): Effect.Effect<never, Conflict | BadRequest> => {
            if (e.reason === "Conflict") return Effect.fail(new Conflict({ message: e.message }))
            if (e.reason === "Invalid") return Effect.fail(new BadRequest({ message: e.message }))
            return Effect.die(e)
          }),
        )
        return {
          owner: app.owner,
          name: app.name,
          drainUrl: drainUrl(base, app.drainSecret),
          readToken: app.readToken,
        }
      }),
    )
  }),
)
