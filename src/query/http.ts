/** Handlers of the read API (metrics, events, me) and the read-token auth. */
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { BadRequest, messages, NotFound, Unauthorized } from "../api/Errors.ts"
import { ReadAuth, Reader } from "../api/Metrics.ts"
import { Apps } from "../apps/Apps.ts"
import { catalogueUnavailable } from "../apps/http.ts"
import { METRICS, metricInfo } from "../domain/Metrics.ts"
import { parseRange, type Range } from "./Downsample.ts"
import { Query } from "./Query.ts"

export const ReadAuthLive = Layer.effect(
  ReadAuth,
  Effect.gen(function* () {
    const apps = yield* Apps
    return ReadAuth.of({
      bearer: Effect.fn("ReadAuth.bearer")(function* (httpEffect, { credential }) {
        const owner = yield* apps
          .ownerByReadToken(Redacted.value(credential))
          .pipe(Effect.catch(catalogueUnavailable))
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

/** Another app's data is indistinguishable from no app at all. */
const sameApp = (owner: string) =>
  Effect.flatMap(Effect.service(Reader), (reader) =>
    reader.owner === owner.toLowerCase()
      ? Effect.void
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
          yield* sameApp(params.owner)
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
          yield* sameApp(params.owner)
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
