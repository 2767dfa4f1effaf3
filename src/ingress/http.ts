/** Handlers of POST /logs and the drain's basic auth (the secret in either slot). */
import { Effect, Layer, Metric, Option, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { DrainAuth, DrainOwner, LOGPLEX } from "../api/Drains.ts"
import {
  BadFraming,
  BadRequest,
  messages,
  PayloadTooLarge,
  Unauthorized,
  Unavailable,
  UnsupportedMediaType,
} from "../api/Errors.ts"
import { Apps } from "../apps/Apps.ts"
import { catalogueUnavailable } from "../apps/http.ts"
import { type IngestError, Ingress } from "./Ingress.ts"
import * as M from "./IngressMetrics.ts"

export const DrainAuthLive = Layer.effect(
  DrainAuth,
  Effect.gen(function* () {
    const apps = yield* Apps
    return DrainAuth.of({
      basic: Effect.fn("DrainAuth.basic")(function* (httpEffect, { credential }) {
        // Logplex drops empty userinfo parts, so `https://:secret@host` arrives as the user name.
        const candidates = [Redacted.value(credential.password), credential.username].filter(
          (c) => c.length > 0,
        )
        for (const candidate of candidates) {
          const owner = yield* apps.ownerByDrainSecret(candidate).pipe(Effect.catch(catalogueUnavailable))
          if (Option.isSome(owner))
            return yield* Effect.provideService(httpEffect, DrainOwner, { owner: owner.value })
        }
        yield* Metric.update(Metric.withAttributes(M.requests, { status: "401" }), 1)
        return yield* new Unauthorized({ message: messages.drainCredentials })
      }),
    })
  }),
)

const status = (code: number) => Metric.update(Metric.withAttributes(M.requests, { status: String(code) }), 1)

const msgCount = (header: string | undefined) => {
  if (header === undefined) return undefined
  const n = Number(header)
  return Number.isInteger(n) && n >= 0 ? n : undefined
}

const toHttpError = (
  e: IngestError,
): readonly [number, BadFraming | BadRequest | PayloadTooLarge | Unavailable] => {
  switch (e.reason) {
    case "BadFraming":
      return [
        400,
        new BadFraming({ message: e.message, offset: e.offset ?? 0, framesAccepted: e.framesAccepted ?? 0 }),
      ]
    case "BadBody":
      return [400, new BadFraming({ message: e.message, offset: 0, framesAccepted: 0 })]
    case "BadHeader":
      return [400, new BadRequest({ message: e.message })]
    case "TooLarge":
      return [413, new PayloadTooLarge({ message: e.message })]
    case "Unavailable":
      return [503, new Unavailable({ message: e.message, retryAfterSeconds: 5 })]
  }
}

export const DrainsHandlers = HttpApiBuilder.group(
  TallyApi,
  "drains",
  Effect.fn(function* (handlers) {
    const ingress = yield* Ingress
    return handlers.handle("drain", ({ headers, payload }) =>
      Effect.gen(function* () {
        const started = performance.now()
        const contentType = headers["content-type"]?.split(";")[0]?.trim().toLowerCase()
        if (contentType !== LOGPLEX) {
          yield* status(415)
          return yield* new UnsupportedMediaType({
            message: `expected Content-Type ${LOGPLEX}, got ${contentType ?? "none"}`,
          })
        }
        const { owner } = yield* DrainOwner
        yield* ingress
          .ingest({
            owner,
            drainToken: headers["logplex-drain-token"],
            frameId: headers["logplex-frame-id"],
            msgCount: msgCount(headers["logplex-msg-count"]),
            contentLength: headers["content-length"],
            body: payload,
          })
          .pipe(
            Effect.catchTag("IngestError", (e) => {
              const [code, error] = toHttpError(e)
              return Effect.andThen(status(code), Effect.fail(error))
            }),
          )
        yield* status(204)
        yield* Metric.update(M.latency, (performance.now() - started) / 1000)
      }),
    )
  }),
)
