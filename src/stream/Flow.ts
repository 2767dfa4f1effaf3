/**
 * What flows between a stage's steps: items, and the control signals every step passes on in order —
 * `Assigned` (the consumer's assignment changed: state built under the previous one is void), `Tick`
 * (processing time moved: lingering batches and commit intervals are due) and `Stop` (a graceful stop:
 * flush everything, then end). Because signals travel in order with the items, a step sees exactly the
 * items of an assignment between its Assigned and the next, and everything before a Stop before it.
 *
 * A step is a plain `Stream<Flow<A>> -> Stream<Flow<B>>`; `controlled` turns a consumer's deliveries into
 * a flow, and a stage pipes its steps in reading order, from source topic to sink (see aggregator/Topology.ts).
 */
import { Clock, Duration, Effect, Stream } from "effect"
import type { Assigned, Batch, Delivery } from "../bus/Records.ts"

export interface Item<A> {
  readonly _tag: "Item"
  readonly value: A
  /** The assignment the item was read under (see Assigned.generation). */
  readonly generation: number
}
export interface Tick {
  readonly _tag: "Tick"
}
export interface Stop {
  readonly _tag: "Stop"
}
export type Control = Assigned | Tick | Stop
export type Flow<A> = Item<A> | Control

export const item = <A>(value: A, generation: number): Item<A> => ({ _tag: "Item", value, generation })
export const TICK: Tick = { _tag: "Tick" }
export const STOP: Stop = { _tag: "Stop" }

export const isItem = <A>(f: Flow<A>): f is Item<A> => f._tag === "Item"

/** While the source is quiet, Ticks come at most this often (see `controlled`). */
export const IDLE_TICK_MS = 1000

/**
 * A consumer's deliveries as a flow: each Batch an item, each Assigned passed on, a Tick every
 * `tickEvery` (none with "never", for deterministic tests), and one Stop when `stop` completes, after
 * which nothing more flows — but the consumer stays subscribed (a member of its group) until the stage's
 * last step has seen the Stop and committed (`untilStopped` ends the stage there). The flow ends when the
 * source does (a crash, from the stage's point of view: nothing is flushed).
 *
 * Ticks come every `tickEvery` while the source delivers, and for `activeMs` (default 5 s, at least 10
 * ticks) after its last delivery — enough for lingering batches and commit intervals — then every
 * IDLE_TICK_MS (1 s) at most: an idle stage neither wakes every step many times a second for nothing, nor
 * goes silent (a Tick still comes out of its last step every second: the stall watchdog, Stage.ts).
 */
export const controlled = <E, R>(
  source: Stream.Stream<Delivery, E, R>,
  options: {
    readonly tickEvery: Duration.Input | "never"
    readonly stop: Effect.Effect<void>
    readonly activeMs?: number
  },
): Stream.Stream<Flow<Batch>, E, R> => {
  let lastDelivery = Number.NEGATIVE_INFINITY
  const ticks = (every: Duration.Input): Stream.Stream<Flow<Batch>> => {
    const fast = Duration.toMillis(Duration.fromInputUnsafe(every))
    const slow = Math.max(fast, IDLE_TICK_MS)
    const activeMs = options.activeMs ?? Math.max(5000, 10 * fast)
    const next = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.as(Effect.sleep(now - lastDelivery < activeMs ? fast : slow), TICK as Flow<Batch>),
    )
    return Stream.concat(Stream.succeed(TICK as Flow<Batch>), Stream.fromEffectRepeat(next))
  }
  return Stream.merge(
    source.pipe(
      Stream.mapEffect((d) =>
        Effect.map(Clock.currentTimeMillis, (now): Flow<Batch> => {
          lastDelivery = now
          return d._tag === "Batch" ? item(d, d.generation) : d
        }),
      ),
    ),
    Stream.merge(
      options.tickEvery === "never" ? Stream.empty : ticks(options.tickEvery),
      Stream.fromEffect(options.stop).pipe(Stream.map((): Flow<Batch> => STOP)),
    ),
    { haltStrategy: "left" },
  ).pipe(
    Stream.mapAccum(
      () => false,
      (stopped, f): readonly [boolean, ReadonlyArray<Flow<Batch>>] =>
        stopped ? [true, []] : [f._tag === "Stop", [f]],
    ),
  )
}

/** The last step of a stage: it ends once the Stop has come through every step before it. */
export const untilStopped = <A, E, R>(self: Stream.Stream<Flow<A>, E, R>): Stream.Stream<Flow<A>, E, R> =>
  Stream.takeUntil(self, (f) => f._tag === "Stop")

/** A step that maps items one to one and passes control on. */
export const mapItems =
  <A, B>(f: (a: A, generation: number) => B) =>
  <E, R>(self: Stream.Stream<Flow<A>, E, R>): Stream.Stream<Flow<B>, E, R> =>
    Stream.map(self, (x) => (x._tag === "Item" ? item(f(x.value, x.generation), x.generation) : x))

/** Only the items' values (for tests and tools that read a flow's output). */
export const items = <A, E, R>(self: Stream.Stream<Flow<A>, E, R>): Stream.Stream<A, E, R> =>
  self.pipe(
    Stream.filter(isItem),
    Stream.map((x) => x.value),
  )
