/**
 * One conformance suite for the alert store on every layer: memory, embedded PGlite and real Postgres.
 * Rules with their state, an evaluation written in one go (states, events, deliveries — a rule's pending
 * Alertmanager notification replaced by a newer one — and progress), idempotent when written twice, the
 * outbox in order per partition with receivers left out, marks, give-ups, and a deleted rule's
 * notifications gone with it.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import {
  AlertStore,
  makeMemoryAlertStore,
  type NewDelivery,
  type RoundWrite,
} from "../../src/alerts/AlertStore.ts"
import { initialState } from "../../src/alerts/Rules.ts"
import { Apps } from "../../src/apps/Apps.ts"
import type { CopyWriter } from "../../src/store/CopyWriter.ts"
import type { Shards } from "../../src/store/Shards.ts"
import { makeMemoryStore, SummaryStore } from "../../src/store/SummaryStore.ts"
import { pgliteShards, realShards } from "../support/layers.ts"

const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const MINUTE = 60_000

/** How a suite makes an app (its owner) on its layer. */
class SetupService extends Context.Service<
  SetupService,
  { readonly app: (name: string) => Effect.Effect<string> }
>()("test/alerts/Setup") {}

const rule = (id: string, owner: string, name: string) => ({
  id,
  owner,
  name,
  metric: "router_p95_ms" as const,
  processType: "web",
  threshold: 500,
  for: "5m" as const,
  repeat: "1h" as const,
  minRequests: 10,
  webhook: "https://hooks.example.com/x" as string | undefined,
  secret: "tly_w_secret",
  createdMs: T,
})

const delivery = (
  id: string,
  ruleId: string,
  kind: "alertmanager" | "webhook",
  partition = 3,
): NewDelivery => ({
  id,
  ruleId,
  partition,
  kind,
  receiver: kind === "alertmanager" ? "alertmanager" : "https://hooks.example.com",
  url: kind === "alertmanager" ? "http://am:9093/api/v2/alerts" : "https://hooks.example.com/x",
  body: `{"n":"${id}"}`,
  signature: kind === "webhook" ? "sha256=00" : undefined,
  // The round's clock, to the millisecond (instants travel to SQL as epoch milliseconds).
  createdMs: T + MINUTE + 12_345,
})

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`

const conformance = (name: string, stores: Layer.Layer<AlertStore | SummaryStore | SetupService, unknown>) =>
  layer(stores, { excludeTestServices: true, timeout: "120 seconds" })(`AlertStore: ${name}`, (it) => {
    it.effect("create, list with state, a conflicting name, an unknown app, remove", () =>
      Effect.gen(function* () {
        const store = yield* AlertStore
        const owner = yield* (yield* SetupService).app("store-crud")
        const created = yield* store.create(rule(id(1), owner, "slow"))
        assert.strictEqual(created._tag, "Created")
        if (created._tag !== "Created") return
        assert.deepInclude(created.rule, {
          app: "store-crud",
          state: "ok",
          sinceMs: T,
          value: null,
          notices: 0,
        })
        assert.strictEqual((yield* store.create(rule(id(2), owner, "slow")))._tag, "Conflict")
        assert.strictEqual(
          (yield* store.create(rule(id(3), "00000000-0000-4000-8000-00000000dead", "x")))._tag,
          "NoApp",
        )
        const listed = Option.getOrThrow(yield* store.list(owner))
        assert.deepStrictEqual(
          listed.map((r) => [r.id, r.name, r.state, r.pending, r.abandoned, r.lastError]),
          [[id(1), "slow", "ok", 0, 0, undefined]],
        )
        assert.isTrue(Option.isNone(yield* store.list("00000000-0000-4000-8000-00000000dead")))
        const v = yield* store.version
        assert.isFalse(yield* store.remove(owner, id(9)))
        assert.isTrue(yield* store.remove(owner, id(1)))
        assert.isAbove(yield* store.version, v)
        assert.deepStrictEqual(Option.getOrThrow(yield* store.list(owner)), [])
      }),
    )

    it.effect("an evaluation in one write; twice is once; the outbox in order; marks and give-ups", () =>
      Effect.gen(function* () {
        const store = yield* AlertStore
        const summaries = yield* SummaryStore
        const owner = yield* (yield* SetupService).app("store-round")
        for (const [n, name] of [
          [11, "a"],
          [12, "b"],
        ] as const)
          assert.strictEqual((yield* store.create(rule(id(n), owner, name)))._tag, "Created")
        const state = {
          ...initialState(T),
          state: "firing" as const,
          sinceMs: T + MINUTE,
          value: 812.5,
          historyMinute: T,
          breaches: 0b11111,
          firedMs: T + MINUTE,
          notifiedMs: T + MINUTE,
          notices: 2,
        }
        const round: RoundWrite = {
          consumer: "tally-alerter.w0of1",
          evaluatedMinute: T,
          states: [{ ruleId: id(11), state }],
          events: [
            {
              owner,
              timeMs: T + MINUTE,
              kind: "alert",
              process: "web",
              description: "a firing: router_p95_ms of web 812.5 ms",
              actor: "tally",
            },
          ],
          deliveries: [delivery(id(101), id(11), "webhook"), delivery(id(102), id(11), "alertmanager")],
        }
        yield* store.writeRound(round)
        yield* store.writeRound(round)
        assert.strictEqual(yield* store.progress("tally-alerter.w0of1"), T)
        assert.isUndefined(yield* store.progress("tally-alerter.w1of2"))
        const loaded = (yield* store.load).find((r) => r.id === id(11))!
        assert.deepInclude(loaded, { ...state, app: "store-round", name: "a" })
        const events = yield* summaries.readEvents(0, { owner, fromMs: T, toMs: T + 10 * MINUTE })
        assert.deepStrictEqual(
          events.map((e) => [e.kind, e.timeMs - T, e.description]),
          [["alert", MINUTE, "a firing: router_p95_ms of web 812.5 ms"]],
        )
        // A newer Alertmanager notification of the rule replaces the pending one; the webhook's stay.
        yield* store.writeRound({
          ...round,
          evaluatedMinute: T + MINUTE,
          states: [],
          events: [],
          deliveries: [
            delivery(id(103), id(11), "alertmanager"),
            delivery(id(104), id(12), "webhook"),
            delivery(id(105), id(12), "webhook", 4),
          ],
        })
        const due = yield* store.due([3], [], 100)
        assert.deepStrictEqual(
          due.map((d) => [d.id, d.kind, d.attempts]),
          [
            [id(101), "webhook", 0],
            [id(103), "alertmanager", 0],
            [id(104), "webhook", 0],
          ],
        )
        assert.deepStrictEqual(due[0]!.signature, "sha256=00")
        assert.deepStrictEqual(due[0]!.createdMs, T + MINUTE + 12_345)
        assert.deepStrictEqual(
          (yield* store.due([3], ["alertmanager"], 100)).map((d) => d.id),
          [id(101), id(104)],
        )
        assert.deepStrictEqual(
          (yield* store.due([4], [], 100)).map((d) => d.id),
          [id(105)],
        )
        yield* store.failed([id(101)], "answered 503")
        const listed = Option.getOrThrow(yield* store.list(owner)).find((r) => r.id === id(11))!
        assert.deepInclude(listed, { pending: 2, abandoned: 0, lastError: "answered 503" })
        assert.strictEqual((yield* store.due([3], [], 100))[0]!.attempts, 1)
        yield* store.delivered([id(103)])
        assert.deepStrictEqual(
          (yield* store.backlog([3])).slice().sort((a, b) => a.kind.localeCompare(b.kind)),
          [{ kind: "webhook", pending: 2 }],
        )
        const abandoned = yield* store.abandonOlder(T + 2 * MINUTE, [3])
        assert.deepStrictEqual(abandoned.map((a) => a.id).sort(), [id(101), id(104)])
        assert.deepStrictEqual(yield* store.due([3], [], 100), [])
        const after = Option.getOrThrow(yield* store.list(owner)).find((r) => r.id === id(11))!
        assert.strictEqual(after.abandoned, 1)
        assert.match(after.lastError ?? "", /answered 503.*given up/)
        // Deliveries of a rule deleted meanwhile are not written; deleting a rule takes its outbox along.
        assert.isTrue(yield* store.remove(owner, id(12)))
        yield* store.writeRound({
          ...round,
          states: [{ ruleId: id(12), state }],
          events: [],
          deliveries: [delivery(id(106), id(12), "webhook")],
        })
        assert.deepStrictEqual(yield* store.due([3, 4], [], 100), [])
      }),
    )
  })

const memory = Layer.unwrap(
  Effect.sync(() => {
    const apps = new Map<string, string>()
    const summaries = makeMemoryStore(1)
    return Layer.mergeAll(
      Layer.succeed(SummaryStore, summaries),
      Layer.succeed(
        AlertStore,
        makeMemoryAlertStore(apps, (rows) => summaries.writeEvents(0, rows)),
      ),
      Layer.succeed(SetupService, {
        app: (name) =>
          Effect.sync(() => {
            const owner = crypto.randomUUID()
            apps.set(owner, name)
            return owner
          }),
      }),
    )
  }),
)

const sql = (shards: Layer.Layer<Shards | CopyWriter, unknown>) =>
  Layer.mergeAll(
    AlertStore.layer,
    Layer.effect(
      SetupService,
      Effect.map(Effect.service(Apps), (apps) => ({
        app: (name: string) => Effect.map(Effect.orDie(apps.create(name)), (a) => a.owner),
      })),
    ),
  ).pipe(Layer.provideMerge(SummaryStore.layer), Layer.provideMerge(Apps.layer), Layer.provide(shards))

describe("alert store conformance", () => {
  conformance("memory", memory)
  conformance("PGlite", sql(pgliteShards))
  conformance("Postgres", sql(realShards("alerts_store", 1)))
})
