/**
 * Durability in the deterministic harness (in-memory bus and stores, TestClock): the alerter killed at
 * random moments (its topology and its deliverer interrupted, nothing flushed) and restarted from its
 * commits and the durable state, with its receivers failing now and then, ends with the same transitions
 * and the same webhook notifications as a run without a kill — none lost, none acknowledged twice — and
 * a firing whose delivery could not be made before the kill is delivered once after the restart.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { AlertStore, makeMemoryAlertStore } from "../../src/alerts/AlertStore.ts"
import { makeDeliverer } from "../../src/alerts/Delivery.ts"
import { type AlerterOptions, alerterTopics, alerterTopology } from "../../src/alerts/Topology.ts"
import { selfSpec } from "../../src/alerts/WebhookUrl.ts"
import { Bus } from "../../src/bus/Bus.ts"
import { makeLocalBus } from "../../src/bus/local.ts"
import { makeMemoryStore } from "../../src/store/SummaryStore.ts"
import { makeLog } from "../../src/testing/Harness.ts"
import { MemoryReceiver, MINUTE, requests, routerMinute, signedBy } from "./support.ts"

const OWNER = "0b7a3f2e-0000-4a57-9c1e-2f0d8b4f1a01"
const T0 = Date.UTC(2026, 10, 28, 12, 0, 0)
const FLUSH = 10_000
const SECRET = "tly_w_durability"
const HOOKS = ["https://a.example.com/hook", "https://b.example.com/hook", "https://c.example.com/hook"]

const options: AlerterOptions = {
  group: "alerter-durability",
  prefix: "",
  partitions: Array.from({ length: 32 }, (_, p) => p),
  flushAfterMs: FLUSH,
  alertmanagerUrl: "http://am.example.com/api/v2/alerts",
  publicBase: "http://tally.example.com",
  commitIntervalMs: 1000,
  rulesEveryMs: 1000,
  barrierMaxMs: 30_000,
}

/** A small deterministic generator (mulberry32). */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const world = () => {
  const log = makeLog()
  const bus = makeLocalBus(log)
  const summaries = makeMemoryStore(1)
  const alerts = makeMemoryAlertStore(new Map([[OWNER, "shop"]]), (rows) => summaries.writeEvents(0, rows))
  return { log, bus, summaries, alerts, receiver: new MemoryReceiver() }
}
type World = ReturnType<typeof world>

const start = (w: World) =>
  Effect.gen(function* () {
    const deliverer = yield* makeDeliverer({
      store: w.alerts,
      self: selfSpec(8080, undefined, undefined),
      post: (url, body, headers) => w.receiver.post(url, body, headers),
    })
    const delivering = yield* Effect.forkScoped(deliverer.run)
    const source = w.bus.consume({
      group: options.group,
      topics: alerterTopics(""),
      partitions: options.partitions,
    })
    const evaluating = yield* alerterTopology(options, source, deliverer, Effect.never, 500).pipe(
      Stream.runDrain,
      Effect.provide(Layer.mergeAll(Layer.succeed(Bus, w.bus), Layer.succeed(AlertStore, w.alerts))),
      Effect.forkScoped,
    )
    return Effect.andThen(Fiber.interrupt(evaluating), Fiber.interrupt(delivering))
  })

const step = Effect.gen(function* () {
  yield* TestClock.adjust(500)
  for (let i = 0; i < 30; i++) yield* Effect.yieldNow
})

const now = Effect.clockWith((c) => c.currentTimeMillis)

const rules = (w: World) =>
  Effect.forEach(
    [
      {
        name: "p95 1m",
        metric: "router_p95_ms",
        threshold: 500,
        for: "1m",
        processType: "web",
        webhook: HOOKS[0],
      },
      {
        name: "p95 5m",
        metric: "router_p95_ms",
        threshold: 500,
        for: "5m",
        processType: "web",
        webhook: HOOKS[1],
      },
      {
        name: "errors",
        metric: "router_error_pct",
        threshold: 20,
        for: "1m",
        processType: "api",
        webhook: HOOKS[2],
      },
    ],
    (r, i) =>
      Effect.orDie(
        w.alerts.create({
          id: `00000000-0000-4000-8000-00000000000${i}`,
          owner: OWNER,
          repeat: "5m",
          minRequests: 10,
          secret: SECRET,
          createdMs: T0 - 30_000,
          ...r,
        } as never),
      ),
  )

/** Minute i's traffic: web slow in minutes 0-6 and 9-15, api erroring in 3-5 and 12-13. */
const traffic = (i: number) => [
  ...requests(OWNER, "web", T0 + i * MINUTE, 20, i <= 6 || (i >= 9 && i <= 15) ? 1000 : 100),
  ...routerMinute(
    OWNER,
    "api",
    T0 + i * MINUTE,
    Array(20).fill(50),
    (i >= 3 && i <= 5) || (i >= 12 && i <= 13) ? { 200: 10, 503: 10 } : { 200: 20 },
  ),
]

const MINUTES = 18
const END = T0 + (MINUTES + 2) * MINUTE + FLUSH + 5_000

/**
 * Runs the scenario; `chaos` (a seed) kills the alerter at random moments, keeps it down for up to
 * 2 minutes, and makes receivers refuse now and then. Returns what the receivers acknowledged and the
 * events written.
 */
const run = (chaos: number | undefined) =>
  Effect.scoped(
    Effect.gen(function* () {
      const w = world()
      const rng = random(chaos ?? 1)
      yield* TestClock.setTime(T0 - 30_000)
      yield* rules(w)
      let kill: Effect.Effect<void> | undefined = yield* start(w)
      let restartAt = 0
      let produced = 0
      let kills = 0
      let refusing = new Set<string>()
      w.receiver.status = (url) => (refusing.has(url) ? 503 : 200)
      while ((yield* now) < END) {
        // Half a second, the kill (if any) after a random number of the fibers' steps: in the middle of
        // a round, a delivery, a commit.
        yield* TestClock.adjust(500)
        const t = yield* now
        if (produced < MINUTES && t >= T0 + produced * MINUTE + 30_000)
          yield* Effect.orDie(w.bus.produce(traffic(produced++)))
        const at = chaos === undefined ? 30 : Math.floor(rng() * 30)
        for (let i = 0; i < at; i++) yield* Effect.yieldNow
        if (chaos === undefined) continue
        if (kill && rng() < 1 / 90) {
          yield* kill
          kill = undefined
          kills++
          restartAt = t + Math.floor(rng() * 240) * 500
        } else if (!kill && t >= restartAt) kill = yield* start(w)
        if (rng() < 1 / 60) refusing = new Set(HOOKS.filter(() => rng() < 0.5))
        for (let i = at; i < 30; i++) yield* Effect.yieldNow
      }
      refusing = new Set()
      if (!kill) kill = yield* start(w)
      // Everything delivered once the receivers answer (backoff at most 5 minutes).
      for (let i = 0; i < 12 * 60 * 2; i++) yield* step
      const events = yield* Effect.orDie(
        w.summaries.readEvents(0, { owner: OWNER, fromMs: T0 - MINUTE, toMs: END + 20 * MINUTE }),
      )
      return {
        kills,
        tries: w.receiver.tries,
        hooks: w.receiver.acknowledged((r) => HOOKS.includes(r.url)),
        events: events.map((e) => `${e.timeMs - T0} ${e.description}`),
        pending:
          w.receiver.tries.length === 0
            ? 0
            : (yield* Effect.orDie(w.alerts.backlog(options.partitions))).length,
      }
    }),
  )

/** What a webhook notification says (its id aside): rule, status, start, end. */
const said = (h: {
  url: string
  json: { status: string; alerts: Array<{ startsAt: string; endsAt: string }> }
}) => `${h.url} ${h.json.status} ${h.json.alerts[0]!.startsAt} ${h.json.alerts[0]!.endsAt}`

describe("alerter durability (in-memory bus and stores, TestClock)", () => {
  it.effect(
    "killed at random moments with flaky receivers: the same transitions and notifications, each acknowledged once",
    () =>
      Effect.gen(function* () {
        const reference = yield* run(undefined)
        // The scenario has transitions of every kind.
        assert.includeMembers(
          reference.hooks.map((h) => h.json.status),
          ["firing", "resolved"],
        )
        assert.isAtLeast(reference.hooks.length, 8)
        assert.isTrue(reference.hooks.every((h) => signedBy(SECRET, h)))
        for (const seed of [7, 42, 1234]) {
          const chaos = yield* run(seed)
          assert.isAtLeast(chaos.kills, 3, `seed ${seed}`)
          assert.deepStrictEqual(chaos.events, reference.events, `seed ${seed}: the timeline`)
          // Per webhook, the same notifications in the same order, each once.
          for (const hook of HOOKS)
            assert.deepStrictEqual(
              chaos.hooks.filter((h) => h.url === hook).map(said),
              reference.hooks.filter((h) => h.url === hook).map(said),
              `seed ${seed}: ${hook}`,
            )
          assert.isTrue(chaos.hooks.every((h) => signedBy(SECRET, h)))
          assert.strictEqual(chaos.pending, 0, `seed ${seed}: nothing left undelivered`)
        }
      }),
    { timeout: 240_000 },
  )

  it.effect(
    "a firing written but not delivered when the alerter is killed is delivered once after the restart",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const w = world()
          yield* TestClock.setTime(T0 - 30_000)
          yield* rules(w)
          let down = true
          w.receiver.status = (url) => (url === HOOKS[0] && down ? undefined : 200)
          const kill = yield* start(w)
          for (let i = 0; i < 2 * 60 * 2; i++) {
            yield* step
            if ((yield* now) === T0 + 30_000) yield* Effect.orDie(w.bus.produce(traffic(0)))
          }
          // Minute 0 was evaluated at 12:01:12: the firing is in the outbox, its receiver down.
          const before = w.receiver.tries.filter((t) => t.url === HOOKS[0])
          assert.isAtLeast(before.length, 1)
          yield* kill
          down = false
          yield* start(w)
          for (let i = 0; i < 30 * 2; i++) yield* step
          const hooks = w.receiver.acknowledged((r) => r.url === HOOKS[0])
          assert.deepStrictEqual(
            hooks.map((h) => h.json.status),
            ["firing"],
          )
          // The same delivery id before and after the restart: a receiver can tell a repeat.
          assert.deepStrictEqual(
            [
              ...new Set(
                w.receiver.tries.filter((t) => t.url === HOOKS[0]).map((t) => t.headers["x-tally-delivery"]),
              ),
            ],
            [hooks[0]!.headers["x-tally-delivery"]],
          )
        }),
      ),
  )
})
