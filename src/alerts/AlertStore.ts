/**
 * Where alert rules and the alerter's durable state live: the catalogue shard (shard 0) through its
 * SqlClient (`layer`: Postgres or PGlite), or memory (`layerMemory`, for the deterministic tests).
 *
 * - rules (alert_rules) with their state (alert_state), created and deleted by the API;
 * - each alerter worker's progress (alert_progress): the last minute it evaluated;
 * - the outbox (alert_outbox): notifications written in the same transaction as the evaluation that
 *   made them (`writeRound`), and deleted once their receiver answered 2xx (`delivered`).
 *
 * `writeRound` is one transaction: states, the transitions' events (kind "alert", on shard 0's day
 * schema: the events API reads every shard), the new deliveries (a rule's pending Alertmanager
 * notification is replaced by a newer one: Alertmanager wants the latest state), and the progress. Rows
 * of a rule deleted meanwhile are left out. Every statement is idempotent, so a retried write is
 * harmless.
 */
import { Context, Effect, Layer, Option, Schema, SchemaGetter } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { dayOf, schemaOf } from "../store/Schema.ts"
import { Shards, type ShardsApi, type StoreError } from "../store/Shards.ts"
import { sqlStateOf } from "../store/StoreError.ts"
import { type EventRow, SummaryStore } from "../store/SummaryStore.ts"
import {
  type AlertMetric,
  type AlertState,
  FOR,
  type For,
  initialState,
  REPEAT,
  type Repeat,
  type Rule,
  type RuleState,
} from "./Rules.ts"

/** A rule with its state. */
export interface StoredRule extends Rule, RuleState {}

/** A rule as the API lists it: with its state and its undelivered notifications. */
export interface Listing extends StoredRule {
  /** Notifications not yet acknowledged by their receiver. */
  readonly pending: number
  /** Notifications given up (undelivered for a day, or refused). */
  readonly abandoned: number
  /** The last delivery error of its pending or abandoned notifications. */
  readonly lastError: string | undefined
}

export type DeliveryKind = "alertmanager" | "webhook"

export interface NewDelivery {
  readonly id: string
  readonly ruleId: string
  /** The summary partition of the rule's owner:process_type: which alerter worker delivers it. */
  readonly partition: number
  readonly kind: DeliveryKind
  /** What deliveries queue by: "alertmanager", or the webhook's origin. */
  readonly receiver: string
  readonly url: string
  readonly body: string
  readonly signature: string | undefined
  readonly createdMs: number
}

export interface PendingDelivery extends NewDelivery {
  readonly seq: number
  readonly attempts: number
}

export interface RoundWrite {
  /** The alerter worker (its consumer group). */
  readonly consumer: string
  readonly evaluatedMinute: number
  readonly states: ReadonlyArray<{ readonly ruleId: string; readonly state: RuleState }>
  readonly events: ReadonlyArray<EventRow>
  readonly deliveries: ReadonlyArray<NewDelivery>
}

export type Created =
  | { readonly _tag: "Created"; readonly rule: StoredRule }
  | { readonly _tag: "NoApp" }
  | { readonly _tag: "Conflict" }

export interface Abandoned {
  readonly id: string
  readonly ruleId: string
  readonly kind: DeliveryKind
  readonly receiver: string
}

export interface AlertStoreApi {
  readonly create: (rule: Omit<Rule, "app">) => Effect.Effect<Created, StoreError>
  /** The app's rules; None when there is no such app. */
  readonly list: (owner: string) => Effect.Effect<Option.Option<ReadonlyArray<Listing>>, StoreError>
  readonly remove: (owner: string, id: string) => Effect.Effect<boolean, StoreError>
  /** Grows with every rule created or deleted. */
  readonly version: Effect.Effect<number, StoreError>
  /** Every rule with its state. */
  readonly load: Effect.Effect<ReadonlyArray<StoredRule>, StoreError>
  readonly progress: (consumer: string) => Effect.Effect<number | undefined, StoreError>
  readonly writeRound: (round: RoundWrite) => Effect.Effect<void, StoreError>
  /** Pending deliveries of these partitions, in the order they were made, but those of `exclude` receivers. */
  readonly due: (
    partitions: ReadonlyArray<number>,
    exclude: ReadonlyArray<string>,
    limit: number,
  ) => Effect.Effect<ReadonlyArray<PendingDelivery>, StoreError>
  /** Acknowledged by their receivers: gone from the outbox. */
  readonly delivered: (ids: ReadonlyArray<string>) => Effect.Effect<void, StoreError>
  readonly failed: (ids: ReadonlyArray<string>, error: string) => Effect.Effect<void, StoreError>
  readonly abandon: (ids: ReadonlyArray<string>, reason: string) => Effect.Effect<void, StoreError>
  /** Gives up the pending deliveries of these partitions made before `beforeMs`. */
  readonly abandonOlder: (
    beforeMs: number,
    partitions: ReadonlyArray<number>,
  ) => Effect.Effect<ReadonlyArray<Abandoned>, StoreError>
  readonly backlog: (
    partitions: ReadonlyArray<number>,
  ) => Effect.Effect<ReadonlyArray<{ readonly kind: DeliveryKind; readonly pending: number }>, StoreError>
  /** Deletes abandoned deliveries given up before `beforeMs`. */
  readonly purge: (beforeMs: number) => Effect.Effect<number, StoreError>
}

const forOf = (minutes: number): For =>
  (Object.keys(FOR) as Array<For>).find((k) => FOR[k] === minutes) ?? "5m"
const repeatOf = (minutes: number): Repeat =>
  (Object.keys(REPEAT) as Array<Repeat>).find((k) => REPEAT[k] === minutes) ?? "1h"

// --- SQL ------------------------------------------------------------------------------------------------

/** int8 arrives as bigint from sql-pg and as number from PGlite. */
const Int8 = Schema.Union([
  Schema.Number,
  Schema.BigInt.pipe(
    Schema.decodeTo(Schema.Number, {
      decode: SchemaGetter.transform((n: bigint) => Number(n)),
      encode: SchemaGetter.transform((n: number) => BigInt(n)),
    }),
  ),
])
const Millis = Schema.Date.pipe(
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((d: Date) => d.getTime()),
    encode: SchemaGetter.transform((ms: number) => new Date(ms)),
  }),
)
const NullMillis = Schema.NullOr(Millis)

const RuleRowDb = Schema.Struct({
  id: Schema.String,
  owner: Schema.String,
  app: Schema.String,
  name: Schema.String,
  metric: Schema.String,
  process_type: Schema.String,
  threshold: Schema.Number,
  for_minutes: Int8,
  repeat_minutes: Int8,
  min_requests: Int8,
  webhook: Schema.NullOr(Schema.String),
  secret: Schema.String,
  created_at: Millis,
  state: Schema.String,
  since: Millis,
  value: Schema.NullOr(Schema.Number),
  history_minute: NullMillis,
  breaches: Int8,
  fired_at: NullMillis,
  notified_at: NullMillis,
  notices: Int8,
})
const ListingRowDb = Schema.Struct({
  ...RuleRowDb.fields,
  pending: Int8,
  abandoned: Int8,
  last_error: Schema.NullOr(Schema.String),
})
const PendingRowDb = Schema.Struct({
  seq: Int8,
  id: Schema.String,
  rule_id: Schema.String,
  partition: Int8,
  kind: Schema.String,
  receiver: Schema.String,
  url: Schema.String,
  body: Schema.String,
  signature: Schema.NullOr(Schema.String),
  created_at: Millis,
  attempts: Int8,
})
const AbandonedRowDb = Schema.Struct({
  id: Schema.String,
  rule_id: Schema.String,
  kind: Schema.String,
  receiver: Schema.String,
})

const toStored = (r: typeof RuleRowDb.Type): StoredRule => ({
  id: r.id,
  owner: r.owner,
  app: r.app,
  name: r.name,
  metric: r.metric as AlertMetric,
  processType: r.process_type,
  threshold: r.threshold,
  for: forOf(r.for_minutes),
  repeat: repeatOf(r.repeat_minutes),
  minRequests: r.min_requests,
  webhook: r.webhook ?? undefined,
  secret: r.secret,
  createdMs: r.created_at,
  state: r.state as AlertState,
  sinceMs: r.since,
  value: r.value,
  historyMinute: r.history_minute ?? undefined,
  breaches: r.breaches,
  firedMs: r.fired_at ?? undefined,
  notifiedMs: r.notified_at ?? undefined,
  notices: r.notices,
})

/** SQL of the instant `column` holds in epoch milliseconds (null stays null): rows travel as numbers, not dates. */
const instant = (column: string) => `to_timestamp(${column} / 1000.0)`

const RULE_COLUMNS = `r.id::text AS id, r.owner::text AS owner, a.name AS app, r.name, r.metric,
  r.process_type, r.threshold, r.for_minutes, r.repeat_minutes, r.min_requests, r.webhook, r.secret,
  r.created_at, s.state, s.since, s.value, s.history_minute, s.breaches, s.fired_at, s.notified_at, s.notices`

const decode =
  <S extends Schema.Top>(schema: S) =>
  (rows: ReadonlyArray<unknown>) =>
    Schema.decodeUnknownEffect(Schema.Array(schema))(rows).pipe(Effect.orDie) as Effect.Effect<
      ReadonlyArray<S["Type"]>
    >

const UNIQUE_VIOLATION = "23505"
const NO_SUCH_OWNER = new Set(["23503", "22P02"])

const bump = (sql: SqlClient) => sql`UPDATE alert_catalogue SET version = version + 1 WHERE id = 1`

export const makeSqlAlertStore = (
  shards: ShardsApi,
  ensureDays: (instants: ReadonlyArray<number>) => Effect.Effect<void, StoreError>,
): AlertStoreApi => {
  const use = <A>(what: string, f: (sql: SqlClient) => Effect.Effect<A, SqlError | StoreError>) =>
    shards.use(0, what, f)

  const create = (rule: Omit<Rule, "app">) =>
    use("create alert rule", (sql) =>
      sql
        .withTransaction(
          Effect.gen(function* () {
            const apps = yield* sql<{ name: string }>`SELECT name FROM apps WHERE owner = ${rule.owner}`
            if (apps.length === 0) return { _tag: "NoApp" } as const
            yield* sql`INSERT INTO alert_rules ${sql.insert({
              id: rule.id,
              owner: rule.owner,
              name: rule.name,
              metric: rule.metric,
              process_type: rule.processType,
              threshold: rule.threshold,
              for_minutes: FOR[rule.for],
              repeat_minutes: REPEAT[rule.repeat],
              min_requests: rule.minRequests,
              webhook: rule.webhook ?? null,
              secret: rule.secret,
              created_at: new Date(rule.createdMs),
            })}`
            yield* sql`INSERT INTO alert_state ${sql.insert({
              rule_id: rule.id,
              state: "ok",
              since: new Date(rule.createdMs),
            })}`
            yield* bump(sql)
            const created: StoredRule = { ...rule, app: apps[0]!.name, ...initialState(rule.createdMs) }
            return { _tag: "Created", rule: created } as const
          }),
        )
        .pipe(
          Effect.catchIf(
            (e) => e._tag === "SqlError" && sqlStateOf(e) === UNIQUE_VIOLATION,
            () => Effect.succeed({ _tag: "Conflict" } as const),
          ),
          Effect.catchIf(
            (e) => e._tag === "SqlError" && NO_SUCH_OWNER.has(sqlStateOf(e) ?? ""),
            () => Effect.succeed({ _tag: "NoApp" } as const),
          ),
        ),
    ) as Effect.Effect<Created, StoreError>

  const list = (owner: string) =>
    use("list alert rules", (sql) =>
      Effect.gen(function* () {
        const apps = yield* sql`SELECT 1 FROM apps WHERE owner = ${owner}`
        if (apps.length === 0) return Option.none()
        const rows = yield* sql`SELECT ${sql.literal(RULE_COLUMNS)},
  coalesce(d.pending, 0) AS pending, coalesce(d.abandoned, 0) AS abandoned, d.last_error
FROM alert_rules r JOIN apps a ON a.owner = r.owner JOIN alert_state s ON s.rule_id = r.id
LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE o.status = 'pending') AS pending,
         count(*) FILTER (WHERE o.status = 'abandoned') AS abandoned,
         (array_agg(o.last_error ORDER BY o.seq DESC) FILTER (WHERE o.last_error IS NOT NULL))[1] AS last_error
  FROM alert_outbox o WHERE o.rule_id = r.id) d ON true
WHERE r.owner = ${owner} ORDER BY r.created_at, r.name`
        const decoded = yield* decode(ListingRowDb)(rows)
        return Option.some(
          decoded.map(
            (r): Listing => ({
              ...toStored(r),
              pending: r.pending,
              abandoned: r.abandoned,
              lastError: r.last_error ?? undefined,
            }),
          ),
        )
      }).pipe(
        Effect.catchIf(
          (e) => e._tag === "SqlError" && sqlStateOf(e) === "22P02",
          () => Effect.succeed(Option.none()),
        ),
      ),
    ) as Effect.Effect<Option.Option<ReadonlyArray<Listing>>, StoreError>

  const remove = (owner: string, id: string) =>
    use("delete alert rule", (sql) =>
      sql
        .withTransaction(
          Effect.gen(function* () {
            const rows = yield* sql`DELETE FROM alert_rules WHERE owner = ${owner} AND id = ${id} RETURNING 1`
            if (rows.length > 0) yield* bump(sql)
            return rows.length > 0
          }),
        )
        .pipe(
          Effect.catchIf(
            (e) => e._tag === "SqlError" && sqlStateOf(e) === "22P02",
            () => Effect.succeed(false),
          ),
        ),
    ) as Effect.Effect<boolean, StoreError>

  const version = use("alert catalogue version", (sql) =>
    Effect.map(sql<{ version: unknown }>`SELECT version FROM alert_catalogue WHERE id = 1`, (rows) =>
      Number(rows[0]?.version ?? 0),
    ),
  ) as Effect.Effect<number, StoreError>

  const load = use("load alert rules", (sql) =>
    Effect.flatMap(
      sql`SELECT ${sql.literal(RULE_COLUMNS)}
FROM alert_rules r JOIN apps a ON a.owner = r.owner JOIN alert_state s ON s.rule_id = r.id ORDER BY r.id`,
      (rows) => Effect.map(decode(RuleRowDb)(rows), (rs) => rs.map(toStored)),
    ),
  ) as Effect.Effect<ReadonlyArray<StoredRule>, StoreError>

  const progress = (consumer: string) =>
    use("alerter progress", (sql) =>
      Effect.map(
        sql<{ m: unknown }>`SELECT evaluated_minute AS m FROM alert_progress WHERE consumer = ${consumer}`,
        (rows) => (rows[0] ? new Date(rows[0].m as Date | string).getTime() : undefined),
      ),
    ) as Effect.Effect<number | undefined, StoreError>

  const writeRound = (round: RoundWrite) =>
    Effect.gen(function* () {
      if (round.events.length > 0) yield* ensureDays(round.events.map((e) => e.timeMs))
      yield* use("write alert evaluation", (sql) =>
        sql.withTransaction(
          Effect.gen(function* () {
            if (round.states.length > 0) {
              const states = JSON.stringify(
                round.states.map(({ ruleId, state: s }) => ({
                  rule_id: ruleId,
                  state: s.state,
                  since: s.sinceMs,
                  value: s.value,
                  history_minute: s.historyMinute ?? null,
                  breaches: s.breaches,
                  fired_at: s.firedMs ?? null,
                  notified_at: s.notifiedMs ?? null,
                  notices: s.notices,
                })),
              )
              yield* sql`UPDATE alert_state AS s SET state = x.state, since = ${sql.literal(instant("x.since"))},
  value = x.value, history_minute = ${sql.literal(instant("x.history_minute"))}, breaches = x.breaches,
  fired_at = ${sql.literal(instant("x.fired_at"))}, notified_at = ${sql.literal(instant("x.notified_at"))},
  notices = x.notices
FROM jsonb_to_recordset(${states}::jsonb) AS x(rule_id uuid, state text, since bigint,
  value double precision, history_minute bigint, breaches bigint, fired_at bigint,
  notified_at bigint, notices bigint)
WHERE s.rule_id = x.rule_id`
            }
            const byDay = new Map<number, Array<EventRow>>()
            for (const e of round.events) {
              const d = dayOf(e.timeMs)
              const list = byDay.get(d)
              if (list) list.push(e)
              else byDay.set(d, [e])
            }
            for (const [day, events] of byDay) {
              const json = JSON.stringify(
                events.map((e) => ({
                  owner: e.owner,
                  time: e.timeMs,
                  kind: e.kind,
                  process: e.process,
                  description: e.description,
                  actor: e.actor,
                })),
              )
              yield* sql`INSERT INTO ${sql(schemaOf(day))}.events (owner, time, kind, process, description, actor)
SELECT owner, ${sql.literal(instant("time"))}, kind, process, description, actor FROM jsonb_to_recordset(${json}::jsonb)
  AS x(owner uuid, time bigint, kind text, process text, description text, actor text)
ON CONFLICT DO NOTHING`
            }
            if (round.deliveries.length > 0) {
              const replaced = JSON.stringify([
                ...new Set(round.deliveries.filter((d) => d.kind === "alertmanager").map((d) => d.ruleId)),
              ])
              yield* sql`DELETE FROM alert_outbox WHERE status = 'pending' AND kind = 'alertmanager'
  AND rule_id IN (SELECT (jsonb_array_elements_text(${replaced}::jsonb))::uuid)`
              const json = JSON.stringify(
                round.deliveries.map((d) => ({
                  id: d.id,
                  rule_id: d.ruleId,
                  partition: d.partition,
                  kind: d.kind,
                  receiver: d.receiver,
                  url: d.url,
                  body: d.body,
                  signature: d.signature ?? null,
                  created_at: d.createdMs,
                })),
              )
              yield* sql`INSERT INTO alert_outbox (id, rule_id, partition, kind, receiver, url, body, signature, created_at)
SELECT x.id, x.rule_id, x.partition, x.kind, x.receiver, x.url, x.body, x.signature,
  ${sql.literal(instant("x.created_at"))}
FROM jsonb_to_recordset(${json}::jsonb) AS x(id uuid, rule_id uuid, partition integer, kind text,
  receiver text, url text, body text, signature text, created_at bigint)
WHERE EXISTS (SELECT 1 FROM alert_rules r WHERE r.id = x.rule_id)
ON CONFLICT (id) DO NOTHING`
            }
            yield* sql`INSERT INTO alert_progress ${sql.insert({
              consumer: round.consumer,
              evaluated_minute: new Date(round.evaluatedMinute),
            })} ON CONFLICT (consumer) DO UPDATE SET evaluated_minute = EXCLUDED.evaluated_minute`
          }),
        ),
      )
    })

  const due = (partitions: ReadonlyArray<number>, exclude: ReadonlyArray<string>, limit: number) =>
    use("pending alert deliveries", (sql) =>
      Effect.flatMap(
        sql`SELECT seq, id::text AS id, rule_id::text AS rule_id, partition, kind, receiver, url, body,
  signature, created_at, attempts
FROM alert_outbox
WHERE status = 'pending'
  AND partition IN (SELECT (jsonb_array_elements_text(${JSON.stringify(partitions)}::jsonb))::integer)
  AND receiver NOT IN (SELECT jsonb_array_elements_text(${JSON.stringify(exclude)}::jsonb))
ORDER BY seq LIMIT ${limit}`,
        (rows) =>
          Effect.map(decode(PendingRowDb)(rows), (rs) =>
            rs.map(
              (r): PendingDelivery => ({
                seq: r.seq,
                id: r.id,
                ruleId: r.rule_id,
                partition: r.partition,
                kind: r.kind as DeliveryKind,
                receiver: r.receiver,
                url: r.url,
                body: r.body,
                signature: r.signature ?? undefined,
                createdMs: r.created_at,
                attempts: r.attempts,
              }),
            ),
          ),
      ),
    ) as Effect.Effect<ReadonlyArray<PendingDelivery>, StoreError>

  const ids = (list: ReadonlyArray<string>) => JSON.stringify(list)

  const delivered = (list: ReadonlyArray<string>) =>
    list.length === 0
      ? Effect.void
      : (use(
          "alert delivered",
          (sql) =>
            sql`DELETE FROM alert_outbox WHERE id IN (SELECT (jsonb_array_elements_text(${ids(list)}::jsonb))::uuid)`,
        ).pipe(Effect.asVoid) as Effect.Effect<void, StoreError>)

  const failed = (list: ReadonlyArray<string>, error: string) =>
    list.length === 0
      ? Effect.void
      : (use(
          "alert delivery failed",
          (sql) =>
            sql`UPDATE alert_outbox SET attempts = attempts + 1, last_error = ${error.slice(0, 500)}
WHERE status = 'pending' AND id IN (SELECT (jsonb_array_elements_text(${ids(list)}::jsonb))::uuid)`,
        ).pipe(Effect.asVoid) as Effect.Effect<void, StoreError>)

  const abandon = (list: ReadonlyArray<string>, reason: string) =>
    list.length === 0
      ? Effect.void
      : (use(
          "alert delivery abandoned",
          (sql) =>
            sql`UPDATE alert_outbox SET status = 'abandoned', done_at = now(), last_error = ${reason.slice(0, 500)}
WHERE status = 'pending' AND id IN (SELECT (jsonb_array_elements_text(${ids(list)}::jsonb))::uuid)`,
        ).pipe(Effect.asVoid) as Effect.Effect<void, StoreError>)

  const abandonOlder = (beforeMs: number, partitions: ReadonlyArray<number>) =>
    use("abandon old alert deliveries", (sql) =>
      Effect.flatMap(
        sql`UPDATE alert_outbox SET status = 'abandoned', done_at = now(),
  last_error = coalesce(last_error, 'no answer') || ' (undelivered for a day: given up)'
WHERE status = 'pending' AND created_at < ${new Date(beforeMs)}
  AND partition IN (SELECT (jsonb_array_elements_text(${JSON.stringify(partitions)}::jsonb))::integer)
RETURNING id::text AS id, rule_id::text AS rule_id, kind, receiver`,
        (rows) =>
          Effect.map(decode(AbandonedRowDb)(rows), (rs) =>
            rs.map(
              (r): Abandoned => ({
                id: r.id,
                ruleId: r.rule_id,
                kind: r.kind as DeliveryKind,
                receiver: r.receiver,
              }),
            ),
          ),
      ),
    ) as Effect.Effect<ReadonlyArray<Abandoned>, StoreError>

  const backlog = (partitions: ReadonlyArray<number>) =>
    use("alert backlog", (sql) =>
      Effect.map(
        sql<{ kind: string; n: unknown }>`SELECT kind, count(*) AS n FROM alert_outbox
WHERE status = 'pending'
  AND partition IN (SELECT (jsonb_array_elements_text(${JSON.stringify(partitions)}::jsonb))::integer)
GROUP BY kind`,
        (rows) => rows.map((r) => ({ kind: r.kind as DeliveryKind, pending: Number(r.n) })),
      ),
    ) as Effect.Effect<ReadonlyArray<{ kind: DeliveryKind; pending: number }>, StoreError>

  const purge = (beforeMs: number) =>
    use("purge alert deliveries", (sql) =>
      Effect.map(
        sql`DELETE FROM alert_outbox WHERE status = 'abandoned' AND done_at < ${new Date(beforeMs)} RETURNING 1`,
        (rows) => rows.length,
      ),
    ) as Effect.Effect<number, StoreError>

  return {
    create,
    list,
    remove,
    version,
    load,
    progress,
    writeRound,
    due,
    delivered,
    failed,
    abandon,
    abandonOlder,
    backlog,
    purge,
  }
}

// --- memory ---------------------------------------------------------------------------------------------

interface MemoryDelivery extends PendingDelivery {
  status: "pending" | "abandoned"
  lastError: string | undefined
  doneMs: number | undefined
}

/**
 * The same store in memory (for the deterministic tests): `apps` names the apps that exist (owner ->
 * name); events go to the SummaryStore's shard 0.
 */
export const makeMemoryAlertStore = (
  apps: ReadonlyMap<string, string>,
  writeEvents: (rows: ReadonlyArray<EventRow>) => Effect.Effect<void, StoreError>,
): AlertStoreApi & { readonly outbox: () => ReadonlyArray<PendingDelivery> } => {
  const rules = new Map<string, Rule>()
  const states = new Map<string, RuleState>()
  const progressOf = new Map<string, number>()
  let outbox: Array<MemoryDelivery> = []
  let seq = 0
  let version = 0

  const stored = (id: string): StoredRule => ({ ...rules.get(id)!, ...states.get(id)! })
  const inPartitions = (partitions: ReadonlyArray<number>) => {
    const set = new Set(partitions)
    return (d: MemoryDelivery) => set.has(d.partition)
  }

  return {
    outbox: () => outbox.filter((d) => d.status === "pending"),
    create: (rule) =>
      Effect.sync((): Created => {
        const app = apps.get(rule.owner)
        if (app === undefined) return { _tag: "NoApp" }
        for (const r of rules.values())
          if (r.owner === rule.owner && r.name === rule.name) return { _tag: "Conflict" }
        rules.set(rule.id, { ...rule, app })
        states.set(rule.id, initialState(rule.createdMs))
        version++
        return { _tag: "Created", rule: stored(rule.id) }
      }),
    list: (owner) =>
      Effect.sync(() => {
        if (!apps.has(owner)) return Option.none()
        const out: Array<Listing> = []
        for (const r of rules.values()) {
          if (r.owner !== owner) continue
          const mine = outbox.filter((d) => d.ruleId === r.id)
          const errors = mine.filter((d) => d.lastError !== undefined)
          out.push({
            ...stored(r.id),
            pending: mine.filter((d) => d.status === "pending").length,
            abandoned: mine.filter((d) => d.status === "abandoned").length,
            lastError: errors[errors.length - 1]?.lastError,
          })
        }
        return Option.some(out.sort((a, b) => a.createdMs - b.createdMs || a.name.localeCompare(b.name)))
      }),
    remove: (owner, id) =>
      Effect.sync(() => {
        const r = rules.get(id)
        if (!r || r.owner !== owner) return false
        rules.delete(id)
        states.delete(id)
        outbox = outbox.filter((d) => d.ruleId !== id)
        version++
        return true
      }),
    version: Effect.sync(() => version),
    load: Effect.sync(() => [...rules.keys()].sort().map(stored)),
    progress: (consumer) => Effect.sync(() => progressOf.get(consumer)),
    writeRound: (round) =>
      Effect.gen(function* () {
        yield* writeEvents(round.events)
        for (const { ruleId, state } of round.states) if (rules.has(ruleId)) states.set(ruleId, state)
        const replaced = new Set(
          round.deliveries.filter((d) => d.kind === "alertmanager").map((d) => d.ruleId),
        )
        outbox = outbox.filter(
          (d) => !(d.status === "pending" && d.kind === "alertmanager" && replaced.has(d.ruleId)),
        )
        const known = new Set(outbox.map((d) => d.id))
        for (const d of round.deliveries)
          if (rules.has(d.ruleId) && !known.has(d.id))
            outbox.push({
              ...d,
              seq: ++seq,
              attempts: 0,
              status: "pending",
              lastError: undefined,
              doneMs: undefined,
            })
        progressOf.set(round.consumer, round.evaluatedMinute)
      }),
    due: (partitions, exclude, limit) =>
      Effect.sync(() => {
        const ex = new Set(exclude)
        const mine = inPartitions(partitions)
        return outbox
          .filter((d) => d.status === "pending" && mine(d) && !ex.has(d.receiver))
          .slice(0, limit)
          .map(({ status: _, lastError: __, doneMs: ___, ...d }) => d)
      }),
    delivered: (ids) =>
      Effect.sync(() => {
        const set = new Set(ids)
        outbox = outbox.filter((d) => !set.has(d.id))
      }),
    failed: (ids, error) =>
      Effect.sync(() => {
        const set = new Set(ids)
        outbox = outbox.map((d) =>
          set.has(d.id) && d.status === "pending" ? { ...d, attempts: d.attempts + 1, lastError: error } : d,
        )
      }),
    abandon: (ids, reason) =>
      Effect.sync(() => {
        const set = new Set(ids)
        outbox = outbox.map((d) =>
          set.has(d.id) && d.status === "pending"
            ? { ...d, status: "abandoned", lastError: reason, doneMs: Number.POSITIVE_INFINITY }
            : d,
        )
      }),
    abandonOlder: (beforeMs, partitions) =>
      Effect.sync(() => {
        const mine = inPartitions(partitions)
        const out: Array<Abandoned> = []
        outbox = outbox.map((d) => {
          if (d.status !== "pending" || !mine(d) || d.createdMs >= beforeMs) return d
          out.push({ id: d.id, ruleId: d.ruleId, kind: d.kind, receiver: d.receiver })
          return {
            ...d,
            status: "abandoned",
            lastError: `${d.lastError ?? "no answer"} (undelivered for a day: given up)`,
            doneMs: beforeMs,
          }
        })
        return out
      }),
    backlog: (partitions) =>
      Effect.sync(() => {
        const mine = inPartitions(partitions)
        const counts = new Map<DeliveryKind, number>()
        for (const d of outbox)
          if (d.status === "pending" && mine(d)) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1)
        return [...counts].map(([kind, pending]) => ({ kind, pending }))
      }),
    purge: (beforeMs) =>
      Effect.sync(() => {
        const before = outbox.length
        outbox = outbox.filter((d) => !(d.status === "abandoned" && (d.doneMs ?? 0) < beforeMs))
        return before - outbox.length
      }),
  }
}

export class AlertStore extends Context.Service<AlertStore, AlertStoreApi>()("tally/alerts/AlertStore") {
  /** On the catalogue shard of the Shards layer (Postgres or PGlite). */
  static readonly layer = Layer.effect(
    AlertStore,
    Effect.gen(function* () {
      const shards = yield* Shards
      const store = yield* SummaryStore
      return AlertStore.of(makeSqlAlertStore(shards, (instants) => store.ensureDays(0, instants)))
    }),
  )

  /** In memory: the apps that exist (owner -> name); events into the SummaryStore's shard 0. */
  static readonly layerMemory = (apps: ReadonlyMap<string, string>) =>
    Layer.effect(
      AlertStore,
      Effect.map(Effect.service(SummaryStore), (store) =>
        AlertStore.of(makeMemoryAlertStore(apps, (rows) => store.writeEvents(0, rows))),
      ),
    )
}
