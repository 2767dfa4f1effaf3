/**
 * Delivery of the outbox (AlertStore): notifications go out in the order they were written, queued per
 * receiver (Alertmanager, or a webhook's origin), each receiver in a fiber of its own, so a receiver
 * that is down or hangs holds back only its own notifications.
 *
 * - A notification is deleted from the outbox right after its receiver's 2xx (notifications sent
 *   together, a burst of up to 64 concurrent POSTs to one webhook receiver — each rule's one after the
 *   other — or one Alertmanager POST of up to 64 alerts, are marked together once all have answered,
 *   while the next burst is out). Every POST carries `X-Tally-Delivery: <id>`,
 *   the same on every try: a process killed after the receiver's 2xx and before the mark sends it again
 *   after its restart, and a receiver that keeps the ids it has seen for a while drops the repeat.
 * - A try that fails (no connection, a timeout of 10 s, any status but 2xx — redirects are not
 *   followed) puts its receiver into backoff (1 s doubling, at most 5 minutes apart); its notifications
 *   wait, in order (one rule's firing never overtakes its earlier resolve). The outbox, not memory, holds
 *   them: at most a page of one receiver's notifications is in memory at a time.
 * - A notification still undelivered a day after it was written is given up ("abandoned": counted,
 *   logged, and listed with the rule), and so is a webhook that turns out to point at tally itself
 *   (WebhookUrl.ts; checked again at connection time).
 */
import { lookup as dnsLookup } from "node:dns"
import { request as httpRequest, type IncomingMessage } from "node:http"
import { request as httpsRequest } from "node:https"
import type { LookupFunction } from "node:net"
import { Clock, Effect, Fiber, Metric, Queue, type Scope } from "effect"
import type { StoreError } from "../store/StoreError.ts"
import * as M from "./AlertMetrics.ts"
import type { AlertStoreApi, PendingDelivery } from "./AlertStore.ts"
import { checkWebhookSyntax, refusedAddress, type SelfSpec } from "./WebhookUrl.ts"

export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000
const REQUEST_TIMEOUT_MS = 10_000
const WEBHOOK_CONCURRENCY = 64
const ALERTMANAGER_BATCH = 64
const PAGE = 1000
const MAX_BACKOFF_MS = 5 * 60_000

export interface PostResult {
  /** The HTTP status, or undefined when there was none (the `error` says why). */
  readonly status: number | undefined
  readonly error: string | undefined
  /** The URL points at tally itself: never to be retried. */
  readonly refused: boolean
}

/**
 * POSTs `body` to `url`. For webhooks (`self` given) every address the name resolves to is checked at
 * connection time (a URL that would reach tally itself is refused).
 */
export const post = (
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  self: SelfSpec | undefined,
): Effect.Effect<PostResult> =>
  Effect.callback<PostResult>((resume) => {
    const target = new URL(url)
    if (self !== undefined) {
      const why = checkWebhookSyntax(url, self)
      if (why !== undefined) return resume(Effect.succeed({ status: undefined, error: why, refused: true }))
    }
    let refusal: string | undefined
    const lookup: LookupFunction = (hostname, options, callback) =>
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return (callback as (e: Error | null) => void)(err)
        const list = addresses as unknown as Array<{ address: string; family: number }>
        for (const a of list) {
          const why = self === undefined ? undefined : refusedAddress(target, a.address, self)
          if (why !== undefined) {
            refusal = why
            return (callback as (e: Error | null) => void)(new Error(why))
          }
        }
        if (options.all) return (callback as (e: null, a: typeof list) => void)(null, list)
        const first = list[0]!
        ;(callback as (e: null, a: string, f: number) => void)(null, first.address, first.family)
      })
    const payload = Buffer.from(body, "utf8")
    let done = false
    const finish = (result: PostResult) => {
      if (done) return
      done = true
      resume(Effect.succeed(result))
    }
    const req = (target.protocol === "https:" ? httpsRequest : httpRequest)(
      target,
      {
        method: "POST",
        lookup,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          "content-type": "application/json",
          "content-length": String(payload.length),
          "user-agent": "tally-alerter",
          ...headers,
        },
      },
      (res: IncomingMessage) => {
        res.resume()
        res.on("end", () => {
          const status = res.statusCode ?? 0
          finish({
            status,
            error: status >= 200 && status < 300 ? undefined : `answered ${status}`,
            refused: false,
          })
        })
        res.on("error", (e) => finish({ status: undefined, error: e.message, refused: false }))
      },
    )
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)))
    req.on("error", (e) =>
      finish({ status: undefined, error: refusal ?? e.message, refused: refusal !== undefined }),
    )
    req.end(payload)
    return Effect.sync(() => {
      done = true
      req.destroy()
    })
  })

interface ReceiverState {
  failures: number
  since: number
  until: number
  lastError: string
}

const ok = (r: PostResult) => r.status !== undefined && r.status >= 200 && r.status < 300

export interface Deliverer {
  /** Which partitions' notifications to deliver (the worker's assignment); undefined or empty: none. */
  owned: ReadonlyArray<number> | undefined
  /** New notifications were written: look now. */
  readonly wake: () => void
  /** Runs for ever (fork it in the stage's scope). */
  readonly run: Effect.Effect<never>
  /** Receivers in backoff, with their state (for tests and logs). */
  readonly failing: () => ReadonlyMap<string, Readonly<ReceiverState>>
}

export interface DelivererOptions {
  readonly store: AlertStoreApi
  readonly self: SelfSpec
  /** How long a notification may stay undelivered before it is given up (default a day). */
  readonly giveUpAfterMs?: number
  /** POSTs one notification or batch (tests may replace it). */
  readonly post?: typeof post
}

/** A deliverer whose receiver fibers live in the current scope. */
export const makeDeliverer = (options: DelivererOptions): Effect.Effect<Deliverer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const store = options.store
    const send = options.post ?? post
    const giveUpAfter = options.giveUpAfterMs ?? GIVE_UP_AFTER_MS
    const signal = yield* Queue.dropping<void>(1)
    const receivers = new Map<string, ReceiverState>()
    const busy = new Set<string>()
    const wake = () => void Queue.offerUnsafe(signal, undefined)
    let lastSweep = Number.NEGATIVE_INFINITY
    let lastBacklog = Number.NEGATIVE_INFINITY

    const self: Deliverer = {
      owned: undefined,
      wake,
      failing: () => receivers,
      run: undefined as unknown as Effect.Effect<never>,
    }

    const gaugeFailing = Effect.suspend(() => Metric.update(M.failingReceivers, receivers.size))

    const succeeded = Effect.fnUntraced(function* (receiver: string, rows: ReadonlyArray<PendingDelivery>) {
      if (rows.length === 0) return
      yield* store.delivered(rows.map((r) => r.id))
      const now = yield* Clock.currentTimeMillis
      const kind = rows[0]!.kind
      const latency = Metric.withAttributes(M.latency, { receiver: kind })
      for (const r of rows) yield* Metric.update(latency, (now - r.createdMs) / 1000)
      yield* Metric.update(
        Metric.withAttributes(M.deliveries, { receiver: kind, outcome: "delivered" }),
        rows.length,
      )
      const state = receivers.get(receiver)
      if (state !== undefined) {
        receivers.delete(receiver)
        yield* Effect.logInfo(
          `alert receiver ${receiver} answers again after ${state.failures} failed tries over ${Math.round((now - state.since) / 1000)} s`,
        )
      }
    })

    const failed = Effect.fnUntraced(function* (
      receiver: string,
      rows: ReadonlyArray<PendingDelivery>,
      error: string,
    ) {
      yield* store.failed(
        rows.map((r) => r.id),
        error,
      )
      const now = yield* Clock.currentTimeMillis
      const state = receivers.get(receiver) ?? { failures: 0, since: now, until: now, lastError: error }
      state.failures++
      state.lastError = error
      state.until = now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(20, state.failures - 1))
      receivers.set(receiver, state)
      yield* Metric.update(
        Metric.withAttributes(M.deliveries, { receiver: rows[0]!.kind, outcome: "failed" }),
        rows.length,
      )
      if (state.failures === 1 || state.failures % 10 === 0)
        yield* Effect.logWarning(
          `alert receiver ${receiver} failing (${state.failures} tries over ${Math.round((now - state.since) / 1000)} s): ${error}; its notifications wait, retried with backoff`,
        )
    })

    const refused = Effect.fnUntraced(function* (row: PendingDelivery, why: string) {
      yield* store.abandon([row.id], `refused: ${why}`)
      yield* Metric.update(Metric.withAttributes(M.deliveries, { receiver: row.kind, outcome: "refused" }), 1)
      yield* Effect.logError(`alert notification ${row.id} of rule ${row.ruleId} refused: ${why}`)
    })

    const headersOf = (row: PendingDelivery): Record<string, string> => ({
      "x-tally-delivery": row.id,
      ...(row.signature !== undefined ? { "x-tally-signature": row.signature } : {}),
    })

    /** Alertmanager: batches of alerts in one POST each, in order; a failure stops the receiver. */
    const toAlertmanager = Effect.fnUntraced(function* (rows: ReadonlyArray<PendingDelivery>) {
      for (let i = 0; i < rows.length; i += ALERTMANAGER_BATCH) {
        const batch = rows.slice(i, i + ALERTMANAGER_BATCH)
        const body = `[${batch.map((r) => r.body).join(",")}]`
        const result = yield* send(batch[0]!.url, body, { "x-tally-delivery": batch[0]!.id }, undefined)
        if (!ok(result)) return yield* failed("alertmanager", batch, result.error ?? "failed")
        yield* succeeded("alertmanager", batch)
      }
    })

    /**
     * A webhook receiver: each rule's notifications in order, up to 64 rules at a time, sent together (a
     * burst of POSTs and their answers cost less CPU on both ends than one POST per answer); the first
     * failure stops the receiver (the notifications after it wait for the next try). A burst's
     * acknowledged notifications are marked while the next burst is out.
     */
    const toWebhook = Effect.fnUntraced(function* (receiver: string, rows: ReadonlyArray<PendingDelivery>) {
      let queue: ReadonlyArray<PendingDelivery> = rows
      let marking: Fiber.Fiber<void, StoreError> | undefined
      const mark = Effect.fnUntraced(function* (acknowledged: ReadonlyArray<PendingDelivery>) {
        if (marking !== undefined) yield* Fiber.join(marking)
        marking =
          acknowledged.length === 0 ? undefined : yield* Effect.forkChild(succeeded(receiver, acknowledged))
      })
      while (queue.length > 0) {
        const chunk: Array<PendingDelivery> = []
        const later: Array<PendingDelivery> = []
        const rules = new Set<string>()
        for (const row of queue) {
          if (chunk.length < WEBHOOK_CONCURRENCY && !rules.has(row.ruleId)) chunk.push(row)
          else later.push(row)
          rules.add(row.ruleId)
        }
        queue = later
        const results = yield* Effect.forEach(
          chunk,
          (row) =>
            Effect.map(send(row.url, row.body, headersOf(row), options.self), (result) => ({ row, result })),
          { concurrency: "unbounded" },
        )
        yield* mark(results.filter((r) => ok(r.result)).map((r) => r.row))
        for (const r of results) if (r.result.refused) yield* refused(r.row, r.result.error ?? "refused")
        const failures = results.filter((r) => !ok(r.result) && !r.result.refused)
        if (failures.length > 0) {
          yield* mark([])
          return yield* failed(
            receiver,
            failures.map((r) => r.row),
            failures[0]!.result.error ?? "failed",
          )
        }
      }
      yield* mark([])
    })

    const deliverGroup = (receiver: string, rows: ReadonlyArray<PendingDelivery>) =>
      (rows[0]!.kind === "alertmanager" ? toAlertmanager(rows) : toWebhook(receiver, rows)).pipe(
        Effect.catch((e) => Effect.logWarning(`alert delivery to ${receiver}: ${e.message}`)),
        Effect.ensuring(
          Effect.sync(() => {
            busy.delete(receiver)
            wake()
          }),
        ),
        Effect.andThen(gaugeFailing),
      )

    /** Once a minute: give up what waited a day, forget what was given up a week ago. */
    const sweep = Effect.fnUntraced(function* (owned: ReadonlyArray<number>, now: number) {
      if (now - lastSweep < 60_000) return
      lastSweep = now
      const abandoned = yield* store.abandonOlder(now - giveUpAfter, owned)
      for (const a of abandoned)
        yield* Metric.update(
          Metric.withAttributes(M.deliveries, { receiver: a.kind, outcome: "abandoned" }),
          1,
        )
      if (abandoned.length > 0)
        yield* Effect.logError(
          `gave up ${abandoned.length} alert notifications undelivered for a day (receivers: ${[...new Set(abandoned.map((a) => a.receiver))].join(", ")}); they are listed with their rules`,
        )
      yield* store.purge(now - 7 * giveUpAfter)
    })

    const reportBacklog = Effect.fnUntraced(function* (owned: ReadonlyArray<number>, now: number) {
      if (now - lastBacklog < 5_000) return
      lastBacklog = now
      const counts = yield* store.backlog(owned)
      for (const receiver of ["alertmanager", "webhook"] as const)
        yield* Metric.update(
          Metric.withAttributes(M.backlog, { receiver }),
          counts.find((c) => c.kind === receiver)?.pending ?? 0,
        )
    })

    /** One look: starts a fiber for each receiver with due notifications; how long to wait before the next. */
    const look = Effect.gen(function* () {
      const owned = self.owned
      const now = yield* Clock.currentTimeMillis
      if (owned === undefined || owned.length === 0) return 30_000
      yield* sweep(owned, now)
      yield* reportBacklog(owned, now)
      const waiting = [...receivers].filter(([, s]) => s.until > now).map(([r]) => r)
      const rows = yield* store.due(owned, [...busy, ...waiting], PAGE)
      const groups = new Map<string, Array<PendingDelivery>>()
      for (const row of rows) {
        const g = groups.get(row.receiver)
        if (g) g.push(row)
        else groups.set(row.receiver, [row])
      }
      for (const [receiver, group] of groups) {
        busy.add(receiver)
        yield* Effect.forkIn(deliverGroup(receiver, group), scope)
      }
      // A full page: look again at once (the receivers just started are left out of it).
      if (rows.length === PAGE) return 0
      return Math.min(30_000, ...[...receivers.values()].map((s) => Math.max(10, s.until - now)))
    }).pipe(Effect.catch((e) => Effect.logWarning(`alert delivery: ${e.message}`).pipe(Effect.as(1_000))))

    const run = Effect.gen(function* () {
      while (true) {
        const waitMs = yield* look
        if (waitMs > 0) yield* Queue.take(signal).pipe(Effect.timeoutOption(waitMs))
      }
    }) as Effect.Effect<never>
    ;(self as { run: Effect.Effect<never> }).run = run
    return self
  })
