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
import { type Duration, type Effect, Stream } from "effect"
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

/**
 * A consumer's deliveries as a flow: each Batch an item, each Assigned passed on, a Tick every
 * `tickEvery` (none with "never", for deterministic tests), and one Stop when `stop` completes, after
 * which nothing more flows — but the consumer stays subscribed (a member of its group) until the stage's
 * last step has seen the Stop and committed (`untilStopped` ends the stage there). The flow ends when the
 * source does (a crash, from the stage's point of view: nothing is flushed).
 */
export const controlled = <E, R>(
  source: Stream.Stream<Delivery, E, R>,
  options: { readonly tickEvery: Duration.Input | "never"; readonly stop: Effect.Effect<void> },
): Stream.Stream<Flow<Batch>, E, R> =>
  Stream.merge(
    source.pipe(Stream.map((d): Flow<Batch> => (d._tag === "Batch" ? item(d, d.generation) : d))),
    Stream.merge(
      options.tickEvery === "never"
        ? Stream.empty
        : Stream.tick(options.tickEvery).pipe(Stream.map((): Flow<Batch> => TICK)),
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
