/**
 * `tally alerts create|list|delete OWNER …`: an app's alert rules from the shell. Like `tally apps
 * create`, on embedded parts it goes through the API of the server that holds the data dir when one does
 * (DataDir.ts, RunningServer.ts: the admin token), and opens the dir itself, under its lock, when none
 * does; with TALLY_PG_SHARDS it works on the catalogue shard directly. Either way a rule is checked the
 * same way (Rules.ts, WebhookUrl.ts): a bad field is named.
 */
import { randomBytes, randomUUID } from "node:crypto"
import { Clock, Console, Effect, Layer, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { AlertStore, type AlertStoreApi, type Listing, type StoredRule } from "../alerts/AlertStore.ts"
import { formatValue, METRIC_INFO, parseRule } from "../alerts/Rules.ts"
import { checkWebhook, checkWebhookSyntax, selfSpec } from "../alerts/WebhookUrl.ts"
import { type Settings, TallyConfig } from "../config/TallyConfig.ts"
import { Shards } from "../store/Shards.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { claim } from "./DataDir.ts"
import { postToServer } from "./RunningServer.ts"

export class AlertsError extends Schema.TaggedError<AlertsError>()("AlertsError", {
  reason: Schema.Literals(["Invalid", "NotFound", "Conflict", "Unavailable"]),
  message: Schema.String,
}) {}

/** A rule as the API answers it. */
interface RuleOut {
  readonly id: string
  readonly name: string
  readonly metric: string
  readonly processType: string
  readonly threshold: number
  readonly for: string
  readonly repeat: string
  readonly minRequests: number
  readonly unit: string
  readonly state: string
  readonly since: string
  readonly value: number | null
  readonly webhook: string | null
  readonly secret?: string
  readonly pending?: number
  readonly abandoned?: number
  readonly lastError?: string
}

const out = (r: StoredRule) => ({
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

const listed = (r: Listing): RuleOut => ({
  ...out(r),
  webhook: r.webhook === undefined ? null : new URL(r.webhook).origin,
  pending: r.pending,
  abandoned: r.abandoned,
  ...(r.lastError !== undefined ? { lastError: r.lastError } : {}),
})

const unavailable = (e: { readonly message: string }) =>
  new AlertsError({ reason: "Unavailable", message: `the alert rules cannot be reached: ${e.message}` })

/** On the catalogue shard itself: the data dir is this process's, or the shards are Postgres. */
const here = <A, E>(settings: Settings, f: (store: AlertStoreApi) => Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.service(AlertStore), f).pipe(
    Effect.provide(AlertStore.layer.pipe(Layer.provide(SummaryStore.layer), Layer.provide(Shards.layer))),
    Effect.provideService(TallyConfig, settings),
  )

/** Runs `local` when this process may open the catalogue, else `remote` through the running server. */
const either = <A>(
  what: string,
  local: (settings: Settings) => Effect.Effect<A, AlertsError>,
  remote: (
    ask: (
      path: string,
      body: unknown,
      method: "POST" | "GET" | "DELETE",
    ) => Effect.Effect<{ readonly status: number; readonly body: Record<string, unknown> }, unknown>,
  ) => Effect.Effect<A, AlertsError>,
) =>
  Effect.gen(function* () {
    const settings = yield* TallyConfig
    if (Option.isSome(settings.pgShards)) return yield* local(settings)
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const claimed = yield* claim(settings.dataDir, `alerts ${what}`)
        if (claimed._tag === "Owned") return yield* local(settings)
        return yield* remote((path, body, method) =>
          postToServer(settings, claimed.owner, `${what} alert rules`, path, body, method),
        )
      }),
    )
  })

/** The error an API answer other than success stands for. */
const answerError = (status: number, body: Record<string, unknown>) =>
  new AlertsError({
    reason:
      status === 400 ? "Invalid" : status === 404 ? "NotFound" : status === 409 ? "Conflict" : "Unavailable",
    message: typeof body.message === "string" ? body.message : `the running tally answered ${status}`,
  })

const ownerArg = Argument.String("owner").pipe(
  Argument.withDescription("the app's owner id (tally apps create prints it)"),
)
const json = Flag.Boolean("json").pipe(
  Flag.withDescription("print the result as JSON"),
  Flag.withDefault(false),
)

const create = Command.make(
  "create",
  {
    owner: ownerArg,
    name: Flag.String("name").pipe(Flag.withDescription("the rule's name (the alertname label)")),
    metric: Flag.String("metric").pipe(
      Flag.withDescription("router_p95_ms, router_error_pct, memory_quota_pct or load_avg_1m"),
    ),
    processType: Flag.String("process-type").pipe(Flag.withDescription("the process type, such as web")),
    threshold: Flag.String("threshold").pipe(Flag.withDescription("breaches at or above this value")),
    for: Flag.String("for").pipe(Flag.withDescription("1m, 5m or 10m of breaching minutes to fire")),
    repeat: Flag.String("repeat").pipe(
      Flag.withDescription("while firing, remind the webhook every 5m, 1h (default) or 1d"),
      Flag.optional,
    ),
    minRequests: Flag.String("min-requests").pipe(
      Flag.withDescription("router minutes with fewer requests do not breach (default 10)"),
      Flag.optional,
    ),
    webhook: Flag.String("webhook").pipe(
      Flag.withDescription("an http(s) URL to POST signed Alertmanager webhook payloads to"),
      Flag.optional,
    ),
    json,
  },
  Effect.fn("alerts.create")(function* (args) {
    const number = (text: string) =>
      text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text
    const body: Record<string, unknown> = {
      name: args.name,
      metric: args.metric,
      processType: args.processType,
      threshold: number(args.threshold),
      for: args.for,
      ...(Option.isSome(args.repeat) ? { repeat: args.repeat.value } : {}),
      ...(Option.isSome(args.minRequests) ? { minRequests: number(args.minRequests.value) } : {}),
      ...(Option.isSome(args.webhook) ? { webhook: args.webhook.value } : {}),
    }
    const owner = args.owner.toLowerCase()
    const rule = yield* either<RuleOut>(
      "create",
      (settings) =>
        Effect.gen(function* () {
          const self = selfSpec(
            settings.port,
            Option.getOrUndefined(settings.publicUrl),
            Option.getOrUndefined(settings.host),
          )
          const spec = parseRule(body, (url) => checkWebhookSyntax(url, self))
          if ("field" in spec) return yield* new AlertsError({ reason: "Invalid", message: spec.message })
          if (spec.webhook !== undefined) {
            const url = spec.webhook
            const why = yield* Effect.promise(() => checkWebhook(url, self))
            if (why !== undefined)
              return yield* new AlertsError({ reason: "Invalid", message: `webhook: ${why}` })
          }
          const now = yield* Clock.currentTimeMillis
          const created = yield* here(settings, (store) =>
            store.create({
              ...spec,
              id: randomUUID(),
              owner,
              secret: `tly_w_${randomBytes(24).toString("base64url")}`,
              createdMs: now,
            }),
          ).pipe(Effect.mapError(unavailable))
          if (created._tag === "NoApp")
            return yield* new AlertsError({ reason: "NotFound", message: `no app ${owner}` })
          if (created._tag === "Conflict")
            return yield* new AlertsError({
              reason: "Conflict",
              message: `app ${owner} has an alert rule named ${JSON.stringify(spec.name)}`,
            })
          return { ...out(created.rule), webhook: created.rule.webhook ?? null, secret: created.rule.secret }
        }),
      (ask) =>
        Effect.gen(function* () {
          const answer = yield* ask(`/api/v1/apps/${encodeURIComponent(owner)}/alerts`, body, "POST").pipe(
            Effect.mapError((e) => unavailable(e as { message: string })),
          )
          if (answer.status !== 201) return yield* answerError(answer.status, answer.body)
          return answer.body as unknown as RuleOut
        }),
    )
    if (args.json) return yield* Console.log(JSON.stringify(rule, null, 2))
    yield* Console.log(
      `created alert rule ${rule.name} (id ${rule.id}): ${rule.metric} of ${rule.processType} >= ${formatValue(rule.threshold)} ${rule.unit} for ${rule.for}`,
    )
    if (rule.webhook !== null) yield* Console.log(`webhook:    ${rule.webhook}`)
    yield* Console.log(
      `secret:     ${rule.secret} (X-Tally-Signature: sha256=HMAC-SHA256 of the body; shown once)`,
    )
  }),
).pipe(Command.withDescription("create an alert rule of an app"))

const list = Command.make(
  "list",
  { owner: ownerArg, json },
  Effect.fn("alerts.list")(function* (args) {
    const owner = args.owner.toLowerCase()
    const rules = yield* either<ReadonlyArray<RuleOut>>(
      "list",
      (settings) =>
        Effect.gen(function* () {
          const found = yield* here(settings, (store) => store.list(owner)).pipe(
            Effect.catch((e) =>
              e.reason === "Rejected" ? Effect.succeed(Option.none()) : Effect.fail(unavailable(e)),
            ),
          )
          if (Option.isNone(found))
            return yield* new AlertsError({ reason: "NotFound", message: `no app ${owner}` })
          return found.value.map(listed)
        }),
      (ask) =>
        Effect.gen(function* () {
          const answer = yield* ask(
            `/api/v1/apps/${encodeURIComponent(owner)}/alerts`,
            undefined,
            "GET",
          ).pipe(Effect.mapError((e) => unavailable(e as { message: string })))
          if (answer.status !== 200) return yield* answerError(answer.status, answer.body)
          return (answer.body as { alerts: ReadonlyArray<RuleOut> }).alerts
        }),
    )
    if (args.json) return yield* Console.log(JSON.stringify({ alerts: rules }, null, 2))
    if (rules.length === 0) return yield* Console.log(`app ${owner} has no alert rules`)
    for (const r of rules) {
      const value = r.value === null ? "no data" : `${formatValue(r.value)} ${r.unit}`
      const delivery =
        (r.pending ?? 0) > 0 || (r.abandoned ?? 0) > 0
          ? ` [${r.pending ?? 0} undelivered, ${r.abandoned ?? 0} given up${r.lastError ? `: ${r.lastError}` : ""}]`
          : ""
      yield* Console.log(
        `${r.id}  ${r.name}: ${r.state} since ${r.since} (${r.metric} of ${r.processType} = ${value}, threshold ${formatValue(r.threshold)} ${r.unit}, for ${r.for})${delivery}`,
      )
    }
  }),
).pipe(Command.withDescription("list an app's alert rules with their state"))

const remove = Command.make(
  "delete",
  { owner: ownerArg, id: Argument.String("id").pipe(Argument.withDescription("the rule's id")) },
  Effect.fn("alerts.delete")(function* (args) {
    const owner = args.owner.toLowerCase()
    const id = args.id.toLowerCase()
    const notFound = new AlertsError({ reason: "NotFound", message: `no alert rule ${id} of app ${owner}` })
    yield* either<void>(
      "delete",
      (settings) =>
        Effect.gen(function* () {
          const gone = yield* here(settings, (store) => store.remove(owner, id)).pipe(
            Effect.catch((e) =>
              e.reason === "Rejected" ? Effect.succeed(false) : Effect.fail(unavailable(e)),
            ),
          )
          if (!gone) return yield* notFound
        }),
      (ask) =>
        Effect.gen(function* () {
          const answer = yield* ask(
            `/api/v1/apps/${encodeURIComponent(owner)}/alerts/${encodeURIComponent(id)}`,
            undefined,
            "DELETE",
          ).pipe(Effect.mapError((e) => unavailable(e as { message: string })))
          if (answer.status === 404) return yield* notFound
          if (answer.status !== 204) return yield* answerError(answer.status, answer.body)
        }),
    )
    yield* Console.log(`deleted alert rule ${id}`)
  }),
).pipe(Command.withDescription("delete an alert rule"))

export const alerts = Command.make("alerts").pipe(
  Command.withDescription("an app's alert rules: create, list, delete"),
  Command.withSubcommands([create, list, remove]),
)
