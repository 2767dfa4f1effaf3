/**
 * The ingress's caps on drain bytes in flight, the process's and each app's: a body is charged what is
 * actually read of it, as it is read (a chunked body has no Content-Length to go by), and released when
 * its request ends; a request whose reading passes a cap gets Unavailable (503) with nothing of it
 * produced. And the minimum rate a body must arrive at.
 */
import { assert, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../../src/bus/Bus.ts"
import { EnsureTopics } from "../../src/bus/EnsureTopics.ts"
import { MemoryLog } from "../../src/bus/memory/MemoryLog.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { Backpressure } from "../../src/ingress/Backpressure.ts"
import { Cardinality } from "../../src/ingress/Cardinality.ts"
import { type DrainRequest, Ingress, MaxInflightBytes } from "../../src/ingress/Ingress.ts"
import { measurementCount } from "../support/raw.ts"

const CAP = 100 * 1024

const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`
/** A body of R14 lines of process type `proc`: `n` lines, or as many as fit in `bytes`. */
const body = (proc: string, n: number, bytes = Number.POSITIVE_INFINITY) => {
  const frames: Array<string> = []
  let size = 0
  for (let i = 1; i <= n; i++) {
    const f = frame(
      `<158>1 ${new Date().toISOString()} host heroku ${proc}.${i} - Error R14 (Memory quota exceeded)\n`,
    )
    if (size + f.length > bytes) break
    frames.push(f)
    size += f.length
  }
  return Buffer.from(frames.join(""))
}
const upTo = (proc: string, bytes: number) => body(proc, Number.MAX_SAFE_INTEGER, bytes)
const chunks = (bytes: Buffer, size = 8 * 1024) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))

/**
 * A chunked body (no Content-Length) that sends `bytes`, then says so on `read` and waits for `release`
 * before it ends: its request stays in flight, holding what it read.
 */
const held = (bytes: Buffer, read: Deferred.Deferred<void>, release: Deferred.Deferred<void>) =>
  Stream.fromIterable(chunks(bytes)).pipe(
    Stream.concat(Stream.fromEffectDrain(Deferred.succeed(read, undefined))),
    Stream.concat(Stream.fromEffectDrain(Deferred.await(release))),
  )

const request = (owner: string, body: Stream.Stream<Uint8Array, unknown>, contentLength?: number) =>
  ({ owner, body, contentLength }) satisfies DrainRequest

/** Measurements of `owner` on ERRORS.1 (a record holds a delivery's measurements of its key). */
const produced = (log: MemoryLog["Service"], owner: string) =>
  Array.from({ length: 32 }, (_, p) => log.read("ERRORS.1", p, 0, 100_000).records)
    .flat()
    .filter((r) => r.key.startsWith(`${owner}:`))
    .reduce((n, r) => n + measurementCount("ERRORS", r.value), 0)

const stack = Ingress.layer.pipe(
  Layer.provide(Backpressure.layerOff),
  Layer.provide(Cardinality.layerMemory),
  Layer.provide(Layer.succeed(MaxInflightBytes, CAP)),
  Layer.provideMerge(EnsureTopics),
  Layer.provideMerge(Bus.layerMemory),
  Layer.provideMerge(TallyConfig.layerWith({ maxBodyBytes: 1024 * 1024 })),
)

layer(stack, { excludeTestServices: true })("ingress: drain bytes in flight", (it) => {
  it.effect(
    "a small chunked body is charged its bytes, not 64 KiB; every charge is released at the end",
    () =>
      Effect.gen(function* () {
        const ingress = yield* Ingress
        const log = yield* MemoryLog
        const [read, release] = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
        // Two chunked bodies of ~1 KiB in flight at once, under a 100 KiB cap.
        const first = yield* Effect.forkChild(
          ingress.ingest(request("small-a", held(body("web", 10), read, release))),
        )
        yield* Deferred.await(read)
        const second = yield* ingress.ingest(request("small-b", Stream.fromIterable(chunks(body("web", 10)))))
        assert.strictEqual(second.produced, 10)
        yield* Deferred.succeed(release, undefined)
        assert.strictEqual((yield* Fiber.join(first)).produced, 10)
        // Nothing is held any more: a body of 90% of the cap fits, with and without a Content-Length.
        const big = upTo("worker", 0.9 * CAP)
        assert.isAbove(big.length, 0.85 * CAP)
        yield* ingress.ingest(request("big-a", Stream.fromIterable(chunks(big))))
        yield* ingress.ingest(request("big-b", Stream.fromIterable(chunks(big)), big.length))
        assert.strictEqual(produced(log, "big-a"), produced(log, "big-b"))
        assert.isAbove(produced(log, "big-a"), 700)
      }),
  )

  it.effect(
    "a body whose reading passes the cap is Unavailable with nothing produced; its retry succeeds",
    () =>
      Effect.gen(function* () {
        const ingress = yield* Ingress
        const log = yield* MemoryLog
        const [read, release] = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
        const holding = upTo("web", 0.6 * CAP)
        const first = yield* Effect.forkChild(ingress.ingest(request("hold", held(holding, read, release))))
        yield* Deferred.await(read)
        // 60 KiB held + 50 KiB read > 100 KiB: refused while reading, chunked or not.
        const over = upTo("clock", 0.5 * CAP)
        for (const contentLength of [undefined, over.length]) {
          const refused = yield* Effect.flip(
            ingress.ingest(request("over", Stream.fromIterable(chunks(over)), contentLength)),
          )
          assert.strictEqual(refused.reason, "Unavailable")
        }
        assert.strictEqual(produced(log, "over"), 0)
        yield* Deferred.succeed(release, undefined)
        assert.isAbove((yield* Fiber.join(first)).produced, 500)
        const retried = yield* ingress.ingest(request("over", Stream.fromIterable(chunks(over))))
        assert.strictEqual(retried.produced, produced(log, "over"))
        assert.isAbove(retried.produced, 400)
      }),
  )

  it.effect("a declared Content-Length that cannot fit is refused before any of the body is read", () =>
    Effect.gen(function* () {
      const ingress = yield* Ingress
      const refused = yield* Effect.flip(
        ingress.ingest(request("declared", Stream.die("the body must not be read"), CAP + 1)),
      )
      assert.strictEqual(refused.reason, "Unavailable")
    }),
  )
})

/** Per app: a budget of 64 KiB (bodies of at most 48 KiB), the process's 1 MiB; bodies at >= 1,000 bytes/s. */
const APP_CAP = 64 * 1024
const perApp = Ingress.layer.pipe(
  Layer.provide(Backpressure.layerOff),
  Layer.provide(Cardinality.layerMemory),
  Layer.provide(Layer.succeed(MaxInflightBytes, 1024 * 1024)),
  Layer.provideMerge(EnsureTopics),
  Layer.provideMerge(Bus.layerMemory),
  Layer.provideMerge(
    TallyConfig.layerWith({ maxBodyBytes: 48 * 1024, appMaxInflightBytes: APP_CAP, minBodyRate: 1000 }),
  ),
)

layer(perApp, { excludeTestServices: true })("ingress: each app's bytes in flight", (it) => {
  it.effect(
    "an app's bodies are held to its own budget, read or declared; another app's are not touched",
    () =>
      Effect.gen(function* () {
        const ingress = yield* Ingress
        const log = yield* MemoryLog
        const [read, release] = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
        // The attacker holds 40 KiB of its 64 KiB.
        const holding = yield* Effect.forkChild(
          ingress.ingest(request("attacker", held(upTo("web", 40 * 1024), read, release))),
        )
        yield* Deferred.await(read)
        const more = upTo("worker", 30 * 1024)
        // 40 + 30 KiB: refused while read (chunked) and unread (declared).
        const whileRead = yield* Effect.flip(
          ingress.ingest(request("attacker", Stream.fromIterable(chunks(more)))),
        )
        assert.strictEqual(whileRead.reason, "Unavailable")
        assert.match(whileRead.message, /TALLY_APP_MAX_INFLIGHT/)
        const declared = yield* Effect.flip(
          ingress.ingest(request("attacker", Stream.die("must not be read"), more.length)),
        )
        assert.strictEqual(declared.reason, "Unavailable")
        assert.strictEqual(produced(log, "attacker"), 0)
        // The victim's body of the same size, chunked and declared, goes through meanwhile.
        for (const contentLength of [undefined, more.length])
          assert.isAbove(
            (yield* ingress.ingest(request("victim", Stream.fromIterable(chunks(more)), contentLength)))
              .produced,
            200,
          )
        // Released: the attacker's retry fits.
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holding)
        assert.isAbove(
          (yield* ingress.ingest(request("attacker", Stream.fromIterable(chunks(more)), more.length)))
            .produced,
          200,
        )
      }),
  )
})

/** A body whose chunks arrive one a second (on the TestClock), then end or stall. */
const timedBody = (parts: ReadonlyArray<Uint8Array>, then: "end" | "stall") =>
  Stream.fromIterable(parts).pipe(
    Stream.mapEffect((part) => Effect.as(Effect.sleep("1 second"), part)),
    Stream.concat(then === "stall" ? Stream.never : Stream.empty),
  )

layer(perApp)("ingress: the minimum body rate", (it) => {
  it.effect(
    "a body that stalls is cut off 5-7 s after it started; one at the rate is read to its end however long",
    () =>
      Effect.gen(function* () {
        const ingress = yield* Ingress
        // 12 KB in the first second, then nothing: over 5 s that is above 1,000 bytes/s, until the
        // window no longer holds the first second.
        const stalled = yield* Effect.forkChild(
          ingress.ingest(request("stalls", timedBody([upTo("web", 12_000)], "stall"), 20_000)),
        )
        // 1,250 bytes a second for 30 s, a 37 KB body.
        const whole = upTo("worker", 37_000)
        const steady = yield* Effect.forkChild(
          ingress.ingest(request("steady", timedBody(chunks(whole, 1250), "end"), whole.length)),
        )
        yield* TestClock.adjust("5 seconds")
        assert.isUndefined(stalled.pollUnsafe())
        yield* TestClock.adjust("2 seconds")
        const cut = yield* Effect.flip(Fiber.join(stalled))
        assert.strictEqual(cut.reason, "Unavailable")
        assert.match(cut.message, /TALLY_MIN_BODY_RATE/)
        for (let s = 0; s < 30; s++) yield* TestClock.adjust("1 second")
        const done = yield* Fiber.join(steady)
        assert.isAbove(done.frames, 300)
      }),
  )
})
