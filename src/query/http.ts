/** Handlers of the read API (metrics, events, me) and the read-token auth. */
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { BadRequest, messages, NotFound, Unauthorized } from "../api/Errors.ts"
import { ReadAuth, Reader } from "../api/Metrics.ts"
import { AdminToken } from "../apps/AdminToken.ts"
import { Apps } from "../apps/Apps.ts"
import { catalogueUnavailable } from "../apps/http.ts"
import { METRICS, metricInfo } from "../domain/Metrics.ts"
import { parseRange, type Range } from "./Downsample.ts"
import { Query } from "./Query.ts"

/** The Reader of the admin token: it reads every app (as remote read and the alerts list let it). */
const ANY_APP = "*"

export const ReadAuthLive = Layer.effect(
  ReadAuth,
  Effect.gen(function* () {
    const apps = yield* Apps
    const admin = yield* AdminToken
    return ReadAuth.of({
      bearer: Effect.fn("ReadAuth.bearer")(function* (httpEffect, { credential }) {
        const token = Redacted.value(credential)
        if (admin.matches(token)) return yield* Effect.provideService(httpEffect, Reader, { owner: ANY_APP })
        const owner = yield* apps.ownerByReadToken(token).pipe(Effect.catch(catalogueUnavailable))
        if (Option.isNone(owner)) return yield* new Unauthorized({ message: messages.readToken })
        return yield* Effect.provideService(httpEffect, Reader, { owner: owner.value })
      }),
    })
  }),
)

const isoRange = (range: Range) => ({
  from: new Date(range.fromMs).toISOString(),
  to: new Date(range.toMs).toISOString(),
})

/** Another app's data is indistinguishable from no app at all; the admin token reads any app there is. */
const sameApp = (apps: Apps["Service"], owner: string) =>
  Effect.flatMap(Effect.service(Reader), (reader) =>
    reader.owner === owner.toLowerCase()
      ? Effect.void
      : reader.owner === ANY_APP
        ? apps.nameOf(owner.toLowerCase()).pipe(
            Effect.catch(catalogueUnavailable),
            Effect.flatMap((name) =>
              Option.isSome(name) ? Effect.void : Effect.fail(new NotFound({ message: `no app ${owner}` })),
            ),
          )
        : Effect.fail(new NotFound({ message: `no app ${owner}` })),
  )

export const MetricsHandlers = HttpApiBuilder.group(
  TallyApi,
  "metrics",
  Effect.fn(function* (handlers) {
    const query = yield* Query
    const apps = yield* Apps
    return handlers
      .handle("series", ({ params, query: q }) =>
        Effect.gen(function* () {
          yield* sameApp(apps, params.owner)
          // Own names only: `constructor` or `__proto__` are not metrics.
          if (metricInfo(params.metric) === undefined)
            return yield* new NotFound({
              message: `no metric ${params.metric}; known: ${Object.keys(METRICS).join(", ")}`,
            })
          const range = parseRange(q.from, q.to, q.step, yield* Clock.currentTimeMillis)
          if (typeof range === "string") return yield* new BadRequest({ message: range })
          if (q.process_type !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(q.process_type))
            return yield* new BadRequest({
              message: "process_type is a dyno name before the dot, such as web",
            })
          const answer = yield* query.series(params.owner.toLowerCase(), params.metric, q.process_type, range)
          return {
            owner: params.owner.toLowerCase(),
            metric: params.metric,
            processType: q.process_type ?? null,
            step: range.step,
            ...isoRange(range),
            ...answer,
          }
        }),
      )
      .handle("events", ({ params, query: q }) =>
        Effect.gen(function* () {
          yield* sameApp(apps, params.owner)
          // Events: whole minutes (what a 1m step aligns to).
          const range = parseRange(q.from, q.to, "1m", yield* Clock.currentTimeMillis)
          if (typeof range === "string") return yield* new BadRequest({ message: range })
          const answer = yield* query.events(params.owner.toLowerCase(), range.fromMs, range.toMs)
          return { ...isoRange(range), ...answer }
        }),
      )
      .handle("me", () =>
        Effect.gen(function* () {
          const { owner } = yield* Reader
          if (owner === ANY_APP)
            return yield* new Unauthorized({
              message: `${messages.readToken}; the admin token has no app of its own: GET /api/v1/apps lists them`,
            })
          const name = yield* apps.nameOf(owner).pipe(Effect.catch(catalogueUnavailable))
          return {
            owner,
            name: Option.getOrElse(name, () => ""),
            processTypes: yield* query.processTypes(owner),
          }
        }),
      )
  }),
)
