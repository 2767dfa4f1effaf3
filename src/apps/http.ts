/** Handlers of POST /api/v1/apps and /api/v1/retention, and the admin bearer auth. */
import { Effect, Layer, Option, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { Admin, AdminAuth } from "../api/Apps.ts"
import { BadRequest, Conflict, Unauthorized, Unavailable } from "../api/Errors.ts"
import { type Settings, TallyConfig } from "../config/TallyConfig.ts"
import { runRetention } from "../sink/Retention.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
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

const WILDCARDS = new Set(["0.0.0.0", "::", "::0", "0:0:0:0:0:0:0:0"])

/** TALLY_HOST when it names one address (not every interface), for URLs; undefined otherwise. */
export const specificHost = (host: Option.Option<string>): string | undefined => {
  if (Option.isNone(host) || WILDCARDS.has(host.value)) return undefined
  return host.value.includes(":") ? `[${host.value}]` : host.value
}

/**
 * The base of the drain URLs handed out: TALLY_PUBLIC_URL, else `http://<TALLY_HOST>:<port>` when the
 * server listens on one address, else `http://localhost:<port>` — never a request's Host header, which
 * any client sets as it likes (a drain URL made from it could send an app's logs elsewhere).
 */
export const publicBase = (settings: Settings, port: number) =>
  Option.getOrElse(settings.publicUrl, () => `http://${specificHost(settings.host) ?? "localhost"}:${port}`)

const LOCAL = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|\[::\]|0\.0\.0\.0)$/i

/** A line to print when drain URLs point at this machine only (Logplex could not reach them), else undefined. */
export const localDrainWarning = (base: string): string | undefined => {
  const host = URL.canParse(base) ? new URL(base).hostname : ""
  return LOCAL.test(host)
    ? `warning: drain URLs point at ${new URL(base).origin}, which Heroku cannot reach; set TALLY_PUBLIC_URL to this server's public address (e.g. https://tally.example.com)`
    : undefined
}

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
    // The port the server listens on (TALLY_PORT; the one picked when it is 0, in tests).
    const address = (yield* HttpServer.HttpServer).address
    const base = publicBase(settings, address._tag === "UnixPathAddress" ? settings.port : address.port)
    const store = yield* SummaryStore
    return handlers
      .handle("retention", () =>
        runRetention(settings.retentionDays).pipe(
          Effect.provideService(SummaryStore, store),
          Effect.map((dropped) => ({ dropped })),
          Effect.catchTag("StoreError", (e) =>
            Effect.fail(new Unavailable({ message: `retention: ${e.message}`, retryAfterSeconds: 5 })),
          ),
        ),
      )
      .handle("create", ({ payload }) =>
        Effect.gen(function* () {
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
