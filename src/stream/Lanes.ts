/**
 * Concurrent work by lane as a step: each item goes to its lane (e.g. its shard), lanes work in
 * parallel, one item at a time each, and an item's result is let out as soon as its work is done — so a
 * slow or dead lane holds back only its own items. A lane holds at most `capacity` waiting items; when it
 * is full, `whenFull` handles the item at once instead (e.g. hand it to a retry topic), or, without it,
 * the step waits for room (backpressure). Control passes on at once (Assigned, Tick); Stop waits until
 * every lane is idle, so a graceful stop finishes all work first — unless the stage's stop abandons its
 * in-flight work (`StopAbandon`, Stage.ts: a shard that hangs, a bus that is down): then every item
 * still in a lane or handled by `whenFull` is dropped without a result (unacknowledged, so not
 * committed), and the Stop passes on.
 */
import { type Cause, Deferred, Effect, Queue, Stream } from "effect"
import { type Flow, type Item, item } from "./Flow.ts"
import { StopAbandon } from "./Stage.ts"

export interface LaneOptions<A, B, E, R> {
  readonly laneOf: (a: A) => number
  readonly capacity: number
  readonly run: (a: A) => Effect.Effect<B, E, R>
  readonly whenFull?: ((a: A) => Effect.Effect<B, E, R>) | undefined
}

export const inLanes =
  <A, B, E, R>(options: LaneOptions<A, B, E, R>) =>
  <E0, R0>(self: Stream.Stream<Flow<A>, E0, R0>): Stream.Stream<Flow<B>, E | E0, R | R0> =>
    Stream.callback<Flow<B>, E | E0, R | R0>(
      (out) =>
        Effect.gen(function* () {
          const lanes = new Map<number, Queue.Queue<Item<A>>>()
          let working = 0
          let idle: Array<Deferred.Deferred<void>> = []
          const done = () =>
            Effect.suspend(() => {
              if (--working > 0) return Effect.void
              const waiting = idle
              idle = []
              return Effect.forEach(waiting, (d) => Deferred.succeed(d, undefined), { discard: true })
            })
          const whenIdle = Effect.suspend(() => {
            if (working === 0) return Effect.void
            return Effect.flatMap(Deferred.make<void>(), (d) => {
              idle.push(d)
              return Deferred.await(d)
            })
          })
          const fail = (cause: Cause.Cause<E | E0>) => Queue.failCause(out, cause)
          // Once the stage's stop abandons its in-flight work, an item's work (and the offer of its
          // result) is interrupted, or not begun: the item is dropped, its records unacknowledged.
          const abandon = yield* StopAbandon
          let abandoned = false
          yield* Effect.forkScoped(
            Effect.andThen(
              abandon,
              Effect.sync(() => void (abandoned = true)),
            ),
          )
          const unlessAbandoned = <X, EX, RX>(work: Effect.Effect<X, EX, RX>) =>
            Effect.suspend(() => (abandoned ? Effect.void : Effect.asVoid(Effect.raceFirst(work, abandon))))

          const laneFor = Effect.fnUntraced(function* (lane: number) {
            const existing = lanes.get(lane)
            if (existing) return existing
            const queue = yield* Queue.bounded<Item<A>>(options.capacity)
            lanes.set(lane, queue)
            yield* Queue.take(queue).pipe(
              Effect.flatMap((x) =>
                unlessAbandoned(
                  options.run(x.value).pipe(Effect.flatMap((b) => Queue.offer(out, item(b, x.generation)))),
                ),
              ),
              Effect.andThen(done()),
              Effect.forever,
              Effect.catchCause(fail),
              Effect.forkScoped,
            )
            return queue
          })

          yield* self.pipe(
            Stream.runForEach((f) =>
              Effect.gen(function* () {
                if (f._tag !== "Item") {
                  if (f._tag === "Stop") yield* whenIdle
                  yield* Queue.offer(out, f)
                  return
                }
                const queue = yield* laneFor(options.laneOf(f.value))
                if (options.whenFull && (yield* Queue.isFull(queue))) {
                  const whenFull = options.whenFull
                  yield* unlessAbandoned(
                    Effect.flatMap(whenFull(f.value), (b) => Queue.offer(out, item(b, f.generation))),
                  )
                  return
                }
                working++
                yield* Queue.offer(queue, f)
              }),
            ),
            Effect.andThen(whenIdle),
            Effect.andThen(Queue.end(out)),
            Effect.catchCause(fail),
            Effect.forkScoped,
          )
        }),
      { bufferSize: 64, strategy: "suspend" },
    )
