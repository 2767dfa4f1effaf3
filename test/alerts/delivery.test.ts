/**
 * The deliverer's queue of one webhook receiver, under TestClock, with POSTs that take their time: bursts
 * of up to 64 POSTs at once, each rule's notifications strictly one after the other in the order written,
 * a burst's acknowledged notifications marked while the next burst is out, each marked one never sent
 * again; and the first failure stops the receiver (nothing new starts until its backoff is over), the
 * others of the page waiting in order for the next try.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { makeMemoryAlertStore, type NewDelivery } from "../../src/alerts/AlertStore.ts"
import { makeDeliverer, type PostResult } from "../../src/alerts/Delivery.ts"
import { selfSpec } from "../../src/alerts/WebhookUrl.ts"

const OWNER = "0b7a3f2e-0000-4a57-9c1e-2f0d8b4f1a01"
const T0 = Date.UTC(2026, 10, 28, 12, 0, 0)
const RULES = 150
const HOOK = "https://hooks.example.com"

const ruleId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`
const deliveryIdOf = (i: number, k: number) =>
  `00000000-0000-4000-9000-${String(i * 10 + k).padStart(12, "0")}`

/** A POST's duration (ms): varied, so that answers come back out of order. */
const durationOf = (url: string, id: string) =>
  20 + ((Number(url.split("/").pop()) * 7 + id.length) % 13) * 10

interface Try {
  readonly id: string
  readonly url: string
  readonly startMs: number
  endMs: number
  readonly status: number
}

/** A store with RULES rules, each with two notifications (firing, then resolved) for one receiver. */
const setup = Effect.gen(function* () {
  const store = makeMemoryAlertStore(new Map([[OWNER, "shop"]]), () => Effect.void)
  const deliveries: Array<NewDelivery> = []
  for (let i = 0; i < RULES; i++) {
    yield* Effect.orDie(
      store.create({
        id: ruleId(i),
        owner: OWNER,
        name: `rule ${i}`,
        metric: "router_p95_ms",
        processType: "web",
        threshold: 500,
        for: "1m",
        repeat: "1h",
        minRequests: 10,
        webhook: `${HOOK}/${i}`,
        secret: "tly_w_delivery",
        createdMs: T0,
      }),
    )
    for (const [k, status] of (["firing", "resolved"] as const).entries())
      deliveries.push({
        id: deliveryIdOf(i, k),
        ruleId: ruleId(i),
        partition: 0,
        kind: "webhook",
        receiver: HOOK,
        url: `${HOOK}/${i}`,
        body: JSON.stringify({ status, rule: i }),
        signature: "sha256=00",
        createdMs: T0,
      })
  }
  // Written as two rounds: every firing, then every resolve (each rule's resolve is written after its firing).
  const half = (k: number) => deliveries.filter((d) => d.id.endsWith(String(k)))
  yield* Effect.orDie(
    store.writeRound({ consumer: "c", evaluatedMinute: T0, states: [], events: [], deliveries: half(0) }),
  )
  yield* Effect.orDie(
    store.writeRound({ consumer: "c", evaluatedMinute: T0, states: [], events: [], deliveries: half(1) }),
  )
  assert.strictEqual(store.outbox().length, 2 * RULES)
  return store
})

/** A receiver whose POSTs take `durationOf` ms and answer `answer(try)`; it notes what is in flight. */
const receiver = (answer: (id: string, n: number) => number) => {
  const tries: Array<Try> = []
  let inFlight = 0
  let maxInFlight = 0
  const post = (url: string, _body: string, headers: Readonly<Record<string, string>>) =>
    Effect.gen(function* () {
      const id = headers["x-tally-delivery"]!
      const status = answer(id, tries.filter((t) => t.id === id).length)
      const t: Try = {
        id,
        url,
        startMs: yield* Effect.clockWith((c) => c.currentTimeMillis),
        endMs: 0,
        status,
      }
      tries.push(t)
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      yield* Effect.sleep(durationOf(url, id))
      inFlight--
      t.endMs = yield* Effect.clockWith((c) => c.currentTimeMillis)
      return {
        status,
        error: status < 300 ? undefined : `answered ${status}`,
        refused: false,
      } satisfies PostResult
    })
  return { tries, post, maxInFlight: () => maxInFlight }
}

const run = (ms: number) =>
  Effect.gen(function* () {
    for (let t = 0; t < ms; t += 10) {
      yield* TestClock.adjust(10)
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
    }
  })

/** Each rule's tries in order: its firing answered before its resolve was sent. */
const inOrderPerRule = (tries: ReadonlyArray<Try>) => {
  for (let i = 0; i < RULES; i++) {
    const mine = tries.filter((t) => t.url === `${HOOK}/${i}`)
    for (let k = 1; k < mine.length; k++) assert.isAtLeast(mine[k]!.startMs, mine[k - 1]!.endMs)
    const ok = mine.filter((t) => t.status === 200).map((t) => t.id)
    assert.deepStrictEqual(ok, [deliveryIdOf(i, 0), deliveryIdOf(i, 1)], `rule ${i}`)
  }
}

describe("delivery to one receiver", () => {
  it.effect("bursts of 64 POSTs, marked while the next burst is out; each rule in order; each once", () =>
    Effect.scoped(
      Effect.gen(function* () {
        yield* TestClock.setTime(T0 + 60_000)
        const store = yield* setup
        // Marks that take a while (a database's round trip).
        const marks: Array<{ startMs: number; endMs: number }> = []
        const now = Effect.clockWith((c) => c.currentTimeMillis)
        const slowMarks = {
          ...store,
          delivered: (ids: ReadonlyArray<string>) =>
            Effect.gen(function* () {
              const mark = { startMs: yield* now, endMs: Number.POSITIVE_INFINITY }
              marks.push(mark)
              yield* Effect.sleep(50)
              yield* store.delivered(ids)
              mark.endMs = yield* now
            }),
        }
        const hooks = receiver(() => 200)
        const deliverer = yield* makeDeliverer({
          store: slowMarks,
          self: selfSpec(8080, undefined, undefined),
          post: hooks.post,
        })
        const fiber = yield* Effect.forkScoped(deliverer.run)
        deliverer.owned = [0]
        deliverer.wake()
        yield* run(3_000)
        assert.strictEqual(store.outbox().length, 0)
        assert.strictEqual(hooks.tries.length, 2 * RULES)
        assert.strictEqual(hooks.maxInFlight(), 64)
        inOrderPerRule(hooks.tries)
        // The first burst: 64 POSTs at once; the next starts once all have answered, before their mark ends.
        const first = hooks.tries.slice(0, 64)
        assert.isTrue(first.every((t) => t.startMs === first[0]!.startMs))
        const answered = Math.max(...first.map((t) => t.endMs))
        const second = hooks.tries[64]!
        assert.isAtLeast(second.startMs, answered)
        assert.isBelow(second.startMs, marks[0]!.endMs)
        // Five full or partial bursts (300 notifications), one mark each.
        assert.strictEqual(marks.length, Math.ceil((2 * RULES) / 64))
        yield* Fiber.interrupt(fiber)
      }),
    ),
  )

  it.effect("the first failure stops the receiver until its backoff ends; the rest wait, in order", () =>
    Effect.scoped(
      Effect.gen(function* () {
        yield* TestClock.setTime(T0 + 60_000)
        const store = yield* setup
        // Rule 80's firing fails at its first try.
        const failing = deliveryIdOf(80, 0)
        const hooks = receiver((id, n) => (id === failing && n === 0 ? 503 : 200))
        const deliverer = yield* makeDeliverer({
          store,
          self: selfSpec(8080, undefined, undefined),
          post: hooks.post,
        })
        const fiber = yield* Effect.forkScoped(deliverer.run)
        deliverer.owned = [0]
        deliverer.wake()
        yield* run(500)
        const failed = hooks.tries.find((t) => t.id === failing)!
        assert.strictEqual(failed.status, 503)
        // Nothing started after the failure's answer, within its backoff (1 s).
        assert.isFalse(hooks.tries.some((t) => t.startMs > failed.endMs))
        assert.strictEqual(deliverer.failing().get(HOOK)?.failures, 1)
        const pending = store.outbox()
        assert.isTrue(pending.length > 0)
        assert.strictEqual(pending.find((d) => d.id === failing)?.attempts, 1)
        yield* run(3_000)
        assert.strictEqual(store.outbox().length, 0)
        assert.strictEqual(deliverer.failing().size, 0)
        inOrderPerRule(hooks.tries)
        // Every notification acknowledged exactly once.
        const acknowledged = hooks.tries.filter((t) => t.status === 200).map((t) => t.id)
        assert.strictEqual(new Set(acknowledged).size, acknowledged.length)
        assert.strictEqual(acknowledged.length, 2 * RULES)
        yield* Fiber.interrupt(fiber)
      }),
    ),
  )
})
