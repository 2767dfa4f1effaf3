/**
 * Handlers of the alert rules API (src/api/Alerts.ts) and its read auth: a read token of the app in the
 * path, or the admin token. Another app's rules are answered like no app at all (404).
 */
import { randomBytes, randomUUID } from "node:crypto"
import { Clock, Effect, Layer, Option, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { AlertsReadAuth, AlertsViewer } from "../api/Alerts.ts"
import { TallyApi } from "../api/Api.ts"
import { BadRequest, Conflict, NotFound, Unauthorized, Unavailable } from "../api/Errors.ts"
import { AdminToken } from "../apps/AdminToken.ts"
import { Apps } from "../apps/Apps.ts"
import { catalogueUnavailable } from "../apps/http.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import type { StoreError } from "../store/StoreError.ts"
import { AlertStore, type StoredRule } from "./AlertStore.ts"
import { METRIC_INFO, parseRule } from "./Rules.ts"
import { checkWebhook, checkWebhookSyntax, selfSpec } from "./WebhookUrl.ts"

export const AlertsReadAuthLive = Layer.effect(
  AlertsReadAuth,
  Effect.gen(function* () {
    const apps = yield* Apps
    const admin = yield* AdminToken
    return AlertsReadAuth.of({
      bearer: Effect.fn("AlertsReadAuth.bearer")(function* (httpEffect, { credential }) {
        const token = Redacted.value(credential)
        if (admin.matches(token))
          return yield* Effect.provideService(httpEffect, AlertsViewer, { owner: undefined })
        const owner = yield* apps.ownerByReadToken(token).pipe(Effect.catch(catalogueUnavailable))
        if (Option.isNone(owner))
          return yield* new Unauthorized({
            message: "a read token of the app (Authorization: Bearer tly_r_…) or the admin token is required",
          })
        return yield* Effect.provideService(httpEffect, AlertsViewer, { owner: owner.value })
      }),
    })
  }),
)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const noApp = (owner: string) => new NotFound({ message: `no app ${owner}` })

/** The catalogue shard does not answer: 503, retry; a statement it refused is a defect. */
const storeFailed = (e: StoreError) =>
  e.reason === "Unavailable"
    ? Effect.fail(
        new Unavailable({
          message:
            "the alert rules cannot be read or written now (the catalogue shard does not answer); retry shortly",
          retryAfterSeconds: 5,
        }),
      )
    : Effect.die(e)

const ruleOut = (r: StoredRule) => ({
  id: r.id,
  name: r.name,
  metric: r.metric,
  processType: r.processType,
  threshold: r.threshold,
  for: r.for,
  repeat: r.repeat,
  minRequests: r.minRequests,
  unit: METRIC_INFO[r.metric].unit,
  state: r.state,
  since: new Date(r.sinceMs).toISOString(),
  value: r.value,
})

const origin = (url: string | undefined) => (url === undefined ? null : new URL(url).origin)

export const AlertsHandlers = HttpApiBuilder.group(
  TallyApi,
  "alerts",
  Effect.fn(function* (handlers) {
    const store = yield* AlertStore
    const settings = yield* TallyConfig
    const address = (yield* HttpServer.HttpServer).address
    const self = selfSpec(
      address._tag === "UnixPathAddress" ? settings.port : address.port,
      Option.getOrUndefined(settings.publicUrl),
      Option.getOrUndefined(settings.host),
    )
    return handlers
      .handle("create", ({ params, payload }) =>
        Effect.gen(function* () {
          const owner = params.owner.toLowerCase()
          if (!UUID.test(owner)) return yield* noApp(params.owner)
          const spec = parseRule(payload, (url) => checkWebhookSyntax(url, self))
          if ("field" in spec) return yield* new BadRequest({ message: spec.message })
          if (spec.webhook !== undefined) {
            const url = spec.webhook
            const why = yield* Effect.promise(() => checkWebhook(url, self))
            if (why !== undefined) return yield* new BadRequest({ message: `webhook: ${why}` })
          }
          const created = yield* store
            .create({
              ...spec,
              id: randomUUID(),
              owner,
              secret: `tly_w_${randomBytes(24).toString("base64url")}`,
              createdMs: yield* Clock.currentTimeMillis,
            })
            .pipe(Effect.catchTag("StoreError", storeFailed))
          if (created._tag === "NoApp") return yield* noApp(params.owner)
          if (created._tag === "Conflict")
            return yield* new Conflict({
              message: `app ${owner} has an alert rule named ${JSON.stringify(spec.name)}`,
            })
          return {
            ...ruleOut(created.rule),
            webhook: created.rule.webhook ?? null,
            secret: created.rule.secret,
          }
        }),
      )
      .handle("list", ({ params }) =>
        Effect.gen(function* () {
          const owner = params.owner.toLowerCase()
          const viewer = yield* AlertsViewer
          if (!UUID.test(owner) || (viewer.owner !== undefined && viewer.owner !== owner))
            return yield* noApp(params.owner)
          const rules = yield* store.list(owner).pipe(Effect.catchTag("StoreError", storeFailed))
          if (Option.isNone(rules)) return yield* noApp(params.owner)
          return {
            alerts: rules.value.map((r) => ({
              ...ruleOut(r),
              webhook: origin(r.webhook),
              pending: r.pending,
              abandoned: r.abandoned,
              ...(r.lastError !== undefined ? { lastError: r.lastError } : {}),
            })),
          }
        }),
      )
      .handle("delete", ({ params }) =>
        Effect.gen(function* () {
          const owner = params.owner.toLowerCase()
          const id = params.id.toLowerCase()
          if (!UUID.test(owner)) return yield* noApp(params.owner)
          const gone =
            UUID.test(id) && (yield* store.remove(owner, id).pipe(Effect.catchTag("StoreError", storeFailed)))
          if (!gone)
            return yield* new NotFound({ message: `no alert rule ${params.id} of app ${params.owner}` })
        }),
      )
  }),
)
