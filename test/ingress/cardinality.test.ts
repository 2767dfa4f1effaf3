/**
 * The cardinality caps (Cardinality.ts, issue 24): the same suite on the catalogue-backed layer and the
 * in-memory twin (caps, counting, apps apart, labels per UTC day of the event, what passes untouched),
 * then what only the catalogue-backed layer does: loading an app's process types once, registering new
 * ones before the batch is admitted, last_seen at most once a UTC day, another process's types, a
 * catalogue that is down or hangs, and retention making room again. Under TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import type { Measurement } from "../../src/domain/Measurement.ts"
import {
  type Admission,
  CATALOGUE_COOLDOWN_MS,
  CATALOGUE_TIMEOUT_MS,
  Cardinality,
  makeCardinality,
  RELOAD_MS,
  STALE_RELOAD_MS,
} from "../../src/ingress/Cardinality.ts"
import { runRetention } from "../../src/sink/Retention.ts"
import { makeMemoryStore, type StoreApi, SummaryStore } from "../../src/store/SummaryStore.ts"

const DAY = 86_400_000
/** 2026-11-28 12:00 UTC. */
const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const A = "0b7a3f2e-aaaa-4a57-9c1e-2f0d8b4f1a01"
const B = "0b7a3f2e-bbbb-4a57-9c1e-2f0d8b4f1a01"
const MAX_TYPES = 5
const MAX_LABELS = 3
const RETENTION_DAYS = 7
const window = (now: number) => ({ fromMs: now - RETENTION_DAYS * DAY, toMs: now + 120_000 })

const base = (processType: string, timeMs: number) => ({
  processType,
  dyno: `${processType}.1`,
  timeUs: timeMs * 1000,
})
const memory = (processType: string, timeMs = T): Measurement => ({
  type: "DYNO_MEMORY",
  ...base(processType, timeMs),
  memoryTotal: 100,
})
const router = (status: number, timeMs = T, processType = "web"): Measurement => ({
  type: "ROUTER_REQUESTS",
  ...base(processType, timeMs),
  at: "info",
  method: "GET",
  path: "/",
  host: "h",
  requestId: "r",
  fwd: "",
  status,
  serviceMs: 1,
  protocol: "https",
  code: "",
  desc: "",
})
const error = (code: string, timeMs = T, processType = "web"): Measurement => ({
  type: "ERRORS",
  ...base(processType, timeMs),
  code,
  count: 1,
  description: "",
})
const event = (processType: string, timeMs = T): Measurement => ({
  type: "PLATFORM_EVENTS",
  ...base(processType, timeMs),
  kind: "restart",
  process: `${processType}.1`,
  description: "Restarting",
  actor: "",
})

const settings = TallyConfig.layerWith({
  maxProcessTypes: MAX_TYPES,
  maxLabels: MAX_LABELS,
  retentionDays: RETENTION_DAYS,
})

/** A memory store whose catalogue calls are counted (and can be made to fail or hang). */
const countedStore = () => {
  const store = makeMemoryStore(1)
  const calls = { loads: 0, registers: [] as Array<ReadonlyArray<string>> }
  const api: StoreApi = {
    ...store,
    processTypesOf: (owner) =>
      Effect.suspend(() => {
        calls.loads++
        return store.processTypesOf(owner)
      }),
    registerProcessTypes: (owner, types, seenMs) =>
      Effect.suspend(() => {
        calls.registers.push([...types].sort())
        return store.registerProcessTypes(owner, types, seenMs)
      }),
  }
  return { store, api, calls }
}

const admit = (owner: string, measurements: ReadonlyArray<Measurement>) =>
  Effect.gen(function* () {
    const cardinality = yield* Cardinality
    const now = yield* Clock.currentTimeMillis
    return yield* cardinality.admit(owner, measurements, window(now))
  })

const refused = (a: Admission) => Object.fromEntries(a.refused)
const typesOf = (a: Admission) => a.admitted.map((m) => m.processType)

const conformance = (name: string, make: () => Layer.Layer<Cardinality, unknown>) =>
  describe(`Cardinality: ${name}`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, Cardinality>) =>
      Effect.andThen(TestClock.setTime(T), effect).pipe(Effect.provide(make()))

    it.effect("process types up to the cap are admitted, the rest refused and counted; known ones pass", () =>
      run(
        Effect.gen(function* () {
          const batch = Array.from({ length: 10 }, (_, i) => [memory(`t${i}`), memory(`t${i}`)]).flat()
          const first = yield* admit(A, batch)
          assert.deepStrictEqual(typesOf(first), ["t0", "t0", "t1", "t1", "t2", "t2", "t3", "t3", "t4", "t4"])
          assert.deepStrictEqual(refused(first), { too_many_process_types: 10 })
          // Known ones pass, new ones are refused, order kept; a batch with nothing refused is returned as is.
          const second = yield* admit(A, [memory("t9"), memory("t4"), memory("new"), memory("t0")])
          assert.deepStrictEqual(typesOf(second), ["t4", "t0"])
          assert.deepStrictEqual(refused(second), { too_many_process_types: 2 })
          const known = [memory("t1"), router(200, T, "t2")]
          const third = yield* admit(A, known)
          assert.strictEqual(third.admitted, known)
          assert.deepStrictEqual(refused(third), {})
          // Another app has caps of its own.
          const other = yield* admit(B, [memory("t9"), memory("t8")])
          assert.deepStrictEqual(typesOf(other), ["t9", "t8"])
        }),
      ),
    )

    it.effect(
      "labels: at most the cap per app, metric and UTC day of the event; the next day starts afresh",
      () =>
        run(
          Effect.gen(function* () {
            const statuses = [200, 201, 404, 500, 200, 503]
            const first = yield* admit(A, [
              ...statuses.map((s) => router(s)),
              ...["H12", "H13", "R14", "L10", "H12"].map((c) => error(c)),
            ])
            assert.deepStrictEqual(
              first.admitted.map((m) =>
                m.type === "ROUTER_REQUESTS" ? m.status : m.type === "ERRORS" ? m.code : "",
              ),
              [200, 201, 404, 200, "H12", "H13", "R14", "H12"],
            )
            assert.deepStrictEqual(refused(first), { too_many_labels: 3 })
            // Labels of another app, and of another process type of the same app, share nothing / everything.
            assert.deepStrictEqual(refused(yield* admit(B, [router(500), router(503)])), {})
            assert.deepStrictEqual(
              refused(yield* admit(A, [router(500, T, "worker"), router(404, T, "worker")])),
              {
                too_many_labels: 1,
              },
            )
            // The next UTC day: lines of the new day have a budget of their own; the old day's stays full.
            yield* TestClock.adjust(DAY)
            const next = yield* admit(A, [router(500, T + DAY), router(503, T + DAY), router(500, T)])
            assert.deepStrictEqual(
              next.admitted.map((m) => (m.type === "ROUTER_REQUESTS" ? m.status : 0)),
              [500, 503],
            )
            assert.deepStrictEqual(refused(next), { too_many_labels: 1 })
            // Past the retention window, the old day is forgotten (its lines pass untouched, for the caller to refuse).
            yield* TestClock.adjust(RETENTION_DAYS * DAY)
            const late = [router(599, T), router(598, T)]
            assert.strictEqual((yield* admit(A, late)).admitted, late)
          }),
        ),
    )

    it.effect("events, and lines outside the ingest window, pass untouched and count nothing", () =>
      run(
        Effect.gen(function* () {
          const outside = [
            memory("old1", T - RETENTION_DAYS * DAY - 1),
            memory("future1", T + 120_001),
            router(999, T + 3 * 60_000),
          ]
          const events = Array.from({ length: 10 }, (_, i) => event(`e${i}`))
          const batch = [...outside, ...events]
          const got = yield* admit(A, batch)
          assert.strictEqual(got.admitted, batch)
          // None of them took a place: five new process types still fit.
          const five = ["a", "b", "c", "d", "e"].map((t) => memory(t))
          assert.strictEqual((yield* admit(A, five)).admitted, five)
          assert.deepStrictEqual(refused(yield* admit(A, [memory("f")])), { too_many_process_types: 1 })
        }),
      ),
    )
  })

conformance("in memory (layerMemory)", () => Cardinality.layerMemory.pipe(Layer.provide(settings)))
conformance("on the catalogue (layer)", () =>
  Cardinality.layer.pipe(Layer.provide(SummaryStore.layerMemory(1)), Layer.provide(settings)),
)

describe("Cardinality on the catalogue", () => {
  /** A Cardinality on `api` (its own state, as one ingress process), at T. */
  const on = (api: StoreApi) =>
    makeCardinality(
      { maxProcessTypes: MAX_TYPES, maxLabels: MAX_LABELS },
      {
        load: api.processTypesOf,
        register: api.registerProcessTypes,
      },
    )
  const now = Clock.currentTimeMillis

  it.effect(
    "an app's process types are loaded once; new ones registered before admit returns; last_seen once a day",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(T)
        const { store, api, calls } = countedStore()
        // Known from before (another process, or before a restart).
        yield* store.registerProcessTypes(A, ["web", "worker"], T - 3 * DAY)
        const c = on(api)
        yield* c.admit(A, [memory("web"), memory("web")], window(yield* now))
        // One load; the known type seen today for the first time noted in one round trip.
        assert.strictEqual(calls.loads, 1)
        assert.deepStrictEqual(calls.registers, [["web"]])
        yield* c.admit(A, [memory("web"), memory("worker")], window(yield* now))
        assert.deepStrictEqual(calls.registers, [["web"], ["worker"]])
        // Nothing new, all noted today: no round trip at all.
        yield* c.admit(A, [memory("web"), memory("worker"), router(200, T, "web")], window(yield* now))
        assert.strictEqual(calls.loads, 1)
        assert.strictEqual(calls.registers.length, 2)
        // New ones: registered in the catalogue by the time admit returns, in one round trip.
        yield* c.admit(
          A,
          [memory("clock"), memory("web"), memory("release"), memory("clock")],
          window(yield* now),
        )
        assert.deepStrictEqual(calls.registers[2], ["clock", "release"])
        assert.deepStrictEqual(yield* store.processTypesOf(A), ["clock", "release", "web", "worker"])
        // The cap counts the catalogue's: 4 known, one more fits.
        const over = yield* c.admit(A, [memory("x"), memory("y")], window(yield* now))
        assert.deepStrictEqual(typesOf(over), ["x"])
        // The next day: each process type noted once again, with the first batch that brings it.
        yield* TestClock.adjust(DAY)
        yield* c.admit(A, [memory("web"), memory("clock"), memory("web")], window(yield* now))
        yield* c.admit(A, [memory("web"), memory("clock")], window(yield* now))
        assert.deepStrictEqual(calls.registers.slice(4), [["clock", "web"]])
      }),
  )

  it.effect("another ingress process's process types count; at the cap its types are found by a reload", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T)
      const { api } = countedStore()
      const one = on(api)
      const two = on(api)
      assert.deepStrictEqual(
        refused(
          yield* one.admit(
            A,
            ["a", "b", "c"].map((t) => memory(t)),
            window(T),
          ),
        ),
        {},
      )
      yield* TestClock.adjust(1000)
      assert.deepStrictEqual(
        refused(
          yield* two.admit(
            A,
            ["d", "e"].map((t) => memory(t)),
            window(T),
          ),
        ),
        {},
      )
      // `one` has seen 3 and believes there is room: "d" (already there) is admitted, and the catalogue
      // answers 5. A new one is then refused, while "e" (in the catalogue) is found by a reload.
      assert.deepStrictEqual(refused(yield* one.admit(A, [memory("d")], window(T))), {})
      yield* TestClock.adjust(STALE_RELOAD_MS)
      const got = yield* one.admit(A, [memory("e"), memory("f")], window(T))
      assert.deepStrictEqual(typesOf(got), ["e"])
      assert.deepStrictEqual(refused(got), { too_many_process_types: 1 })
    }),
  )

  it.effect(
    "catalogue down: nothing waits; process types admitted on this process's count, registered once it is back",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(T)
        const { store, api, calls } = countedStore()
        const c = on(api)
        store.setAvailable(0, false)
        const first = yield* c.admit(
          A,
          ["a", "b", "c", "d", "e", "f"].map((t) => memory(t)),
          window(T),
        )
        assert.deepStrictEqual(typesOf(first), ["a", "b", "c", "d", "e"])
        assert.deepStrictEqual(refused(first), { too_many_process_types: 1 })
        // While it is believed down, no call is made.
        const before = calls.loads + calls.registers.length
        yield* c.admit(A, [memory("a"), memory("g")], window(T))
        assert.strictEqual(calls.loads + calls.registers.length, before)
        store.setAvailable(0, true)
        yield* TestClock.adjust(CATALOGUE_COOLDOWN_MS)
        // Back: loaded, and what was admitted meanwhile registered in the same batch's round trip.
        yield* c.admit(A, [memory("a")], window(yield* now))
        assert.deepStrictEqual(yield* store.processTypesOf(A), ["a", "b", "c", "d", "e"])
        // Registered: the next batch of known ones makes no round trip.
        const settled = calls.registers.length
        yield* c.admit(A, [memory("b"), memory("c")], window(yield* now))
        assert.strictEqual(calls.registers.length, settled)
        assert.deepStrictEqual(refused(yield* c.admit(A, [memory("g")], window(yield* now))), {
          too_many_process_types: 1,
        })
      }),
  )

  it.effect(
    "a catalogue that hangs holds a batch at most CATALOGUE_TIMEOUT_MS, then none for the cooldown",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(T)
        const { store, api } = countedStore()
        const c = on(api)
        store.setHung(0, true)
        const fiber = yield* Effect.forkChild(c.admit(A, [memory("a")], window(T)))
        yield* TestClock.adjust(CATALOGUE_TIMEOUT_MS - 1)
        assert.isUndefined(fiber.pollUnsafe())
        yield* TestClock.adjust(1)
        assert.deepStrictEqual(typesOf(yield* Fiber.join(fiber)), ["a"])
        // Within the cooldown: answered at once, the load still hung in no fiber.
        const quick = yield* c.admit(A, [memory("b")], window(T))
        assert.deepStrictEqual(typesOf(quick), ["b"])
        store.setHung(0, false)
      }),
  )

  it.effect(
    "retention removes the process types unseen for the retention; after the hourly reload they stop counting",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(T)
        const { store, api } = countedStore()
        const c = on(api)
        yield* c.admit(
          A,
          ["a", "b", "c", "d", "e"].map((t) => memory(t)),
          window(T),
        )
        assert.deepStrictEqual(refused(yield* c.admit(A, [memory("f")], window(T))), {
          too_many_process_types: 1,
        })
        // "a" keeps coming every day; the others stop.
        for (let d = 1; d <= RETENTION_DAYS + 2; d++) {
          yield* TestClock.adjust(DAY)
          yield* c.admit(A, [memory("a", T + d * DAY)], window(yield* now))
        }
        yield* runRetention(RETENTION_DAYS).pipe(Effect.provideService(SummaryStore, store))
        assert.deepStrictEqual(yield* store.processTypesOf(A), ["a"])
        yield* TestClock.adjust(RELOAD_MS)
        const t = yield* now
        const got = yield* c.admit(
          A,
          ["f", "g", "h", "i", "j"].map((x) => memory(x, t)),
          window(t),
        )
        assert.deepStrictEqual(refused(got), { too_many_process_types: 1 })
        assert.deepStrictEqual(typesOf(got), ["f", "g", "h", "i"])
      }),
  )
})
