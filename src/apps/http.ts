/** Handlers of the admin endpoints (apps, their credentials, retention), and the admin bearer auth. */
import { Effect, Layer, Option, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { Admin, AdminAuth } from "../api/Apps.ts"
import { BadRequest, Conflict, messages, NotFound, Unauthorized, Unavailable } from "../api/Errors.ts"
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
          message: messages.catalogueUnavailable,
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
          return yield* new Unauthorized({ message: messages.adminToken })
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

/** An AppsError of creating an app: 409, 400, or 503 (retry). */
const createFailed = (e: AppsError): Effect.Effect<never, Conflict | BadRequest | Unavailable> => {
  if (e.reason === "Conflict") return Effect.fail(new Conflict({ message: e.message }))
  if (e.reason === "Invalid") return Effect.fail(new BadRequest({ message: e.message }))
  if (e.reason === "Unavailable") return catalogueUnavailable(e)
  return Effect.die(e)
}

/** An AppsError of reading or changing one app: 404, or 503 (retry). */
const ownerFailed = (e: AppsError): Effect.Effect<never, NotFound | Unavailable> => {
  if (e.reason === "NotFound")
    return Effect.fail(new NotFound({ message: `${e.message}; GET /api/v1/apps lists the apps` }))
  if (e.reason === "Unavailable") return catalogueUnavailable(e)
  return Effect.die(e)
}

/** An AppsError of listing: 503 (retry). */
const listFailed = (e: AppsError): Effect.Effect<never, Unavailable> =>
  e.reason === "Unavailable" ? catalogueUnavailable(e) : Effect.die(e)

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
          const app = yield* apps.create(payload.name).pipe(Effect.catchTag("AppsError", createFailed))
          return {
            owner: app.owner,
            name: app.name,
            drainUrl: drainUrl(base, app.drainSecret),
            readToken: app.readToken,
          }
        }),
      )
      .handle("list", () =>
        apps.list.pipe(
          Effect.map((list) => ({ apps: list })),
          Effect.catchTag("AppsError", listFailed),
        ),
      )
      .handle("show", ({ params }) =>
        Effect.gen(function* () {
          const app = yield* apps.get(params.owner).pipe(Effect.catchTag("AppsError", ownerFailed))
          const processTypes = yield* store
            .processTypesOf(app.owner)
            .pipe(
              Effect.catchTag("StoreError", (e) =>
                Effect.fail(
                  new Unavailable({ message: `process types: ${e.message}`, retryAfterSeconds: 5 }),
                ),
              ),
            )
          return { ...app, processTypes }
        }),
      )
      .handle("rotateReadToken", ({ params }) =>
        Effect.gen(function* () {
          const app = yield* apps.get(params.owner)
          const readToken = yield* apps.rotateReadToken(app.owner)
          yield* Effect.logInfo(`app ${app.name} (${app.owner}): read token rotated`)
          return { owner: app.owner, name: app.name, readToken }
        }).pipe(Effect.catchTag("AppsError", ownerFailed)),
      )
      .handle("rotateDrainSecret", ({ params }) =>
        Effect.gen(function* () {
          const app = yield* apps.get(params.owner)
          const secret = yield* apps.rotateDrainSecret(app.owner)
          yield* Effect.logInfo(`app ${app.name} (${app.owner}): drain secret rotated`)
          return { owner: app.owner, name: app.name, drainUrl: drainUrl(base, secret) }
        }).pipe(Effect.catchTag("AppsError", ownerFailed)),
      )
      .handle("remove", ({ params }) =>
        Effect.gen(function* () {
          const app = yield* apps.remove(params.owner)
          yield* Effect.logInfo(`app ${app.name} (${app.owner}) removed`)
        }).pipe(Effect.catchTag("AppsError", ownerFailed)),
      )
  }),
)
