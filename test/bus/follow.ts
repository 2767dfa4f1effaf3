/** Helpers for membership tests: run a consume stream in the background and wait on what it delivered. */
import { Effect, Fiber, Stream } from "effect"
import { Bus } from "../../src/bus/Bus.ts"
import type { Assigned, Batch, Delivery, Subscription } from "../../src/bus/Records.ts"

export interface Follower {
  readonly seen: Array<Delivery>
  /** Every Assigned delivered so far, in order. */
  readonly assignments: () => ReadonlyArray<Assigned>
  readonly latest: () => Assigned | undefined
  readonly batches: () => ReadonlyArray<Batch>
  /** Ends the stream (the consumer leaves its group). */
  readonly stop: Effect.Effect<void>
  /** How the stream ended, once it has (a failure, or undefined while it runs). */
  readonly failure: () => unknown
}

/**
 * Consumes `sub` in a background fiber of the test's scope; `slow` runs after each delivery (a
 * downstream that takes its time).
 */
export const follow = (sub: Subscription, slow?: (d: Delivery) => Effect.Effect<void>) =>
  Effect.gen(function* () {
    const bus = yield* Bus
    const seen: Array<Delivery> = []
    let failure: unknown
    const fiber = yield* bus.consume(sub).pipe(
      Stream.runForEach((d) =>
        Effect.sync(() => {
          seen.push(d)
        }).pipe(Effect.andThen(slow ? slow(d) : Effect.void)),
      ),
      Effect.catchCause((cause) =>
        Effect.sync(() => {
          failure = cause
        }),
      ),
      Effect.forkChild,
    )
    const assignments = () => seen.filter((d): d is Assigned => d._tag === "Assigned")
    const follower: Follower = {
      seen,
      assignments,
      latest: () => assignments().at(-1),
      batches: () => seen.filter((d): d is Batch => d._tag === "Batch"),
      stop: Fiber.interrupt(fiber),
      failure: () => failure,
    }
    return follower
  })

/** Polls `condition` every 50 ms until it holds; fails naming `what` after `seconds`. */
export const until = (what: string, condition: () => boolean, seconds = 60) =>
  Effect.gen(function* () {
    const deadline = Date.now() + seconds * 1000
    while (!condition()) {
      if (Date.now() > deadline)
        return yield* Effect.die(new Error(`timed out after ${seconds} s waiting for: ${what}`))
      yield* Effect.sleep("50 millis")
    }
  })

/** The partitions an assignment owns, as "topic/partition" strings. */
export const owned = (a: Assigned | undefined) =>
  a ? a.partitions.map((p) => `${p.topic}/${p.partition}`) : []
