/**
 * The driving stream of a stage: its source's elements, periodic ticks (for processing-time work such
 * as flushAfter or a batch linger), and one final `Stop` when `stop` completes, after which the stream
 * ends. The stream also ends when the source does (a crash, from the stage's point of view).
 */
import { type Effect, Stream } from "effect"

export type Step<A> =
  | { readonly _tag: "Item"; readonly item: A }
  | { readonly _tag: "Tick" }
  | { readonly _tag: "Stop" }

export const steps = <A, E, R>(
  source: Stream.Stream<A, E, R>,
  tick: Stream.Stream<void>,
  stop: Effect.Effect<void>,
): Stream.Stream<Step<A>, E, R> =>
  Stream.merge(
    source.pipe(Stream.map((item): Step<A> => ({ _tag: "Item", item }))),
    Stream.merge(
      tick.pipe(Stream.map((): Step<A> => ({ _tag: "Tick" }))),
      Stream.fromEffect(stop).pipe(Stream.map((): Step<A> => ({ _tag: "Stop" }))),
    ),
    { haltStrategy: "left" },
  ).pipe(Stream.takeUntil((step) => step._tag === "Stop"))
