/**
 * A graceful stop that finishes in-flight work: the source is watched for activity, and the stop waits
 * until no batch has arrived for `quietMs` (at most `maxMs`), so what was already fetched or is still
 * arriving from an upstream stage that is stopping too gets processed before the final flush.
 */
import { Clock, Effect, Stream } from "effect"

export interface Quiet {
  /** Wraps a source so its batches count as activity. */
  readonly watch: <A, E, R>(source: Stream.Stream<A, E, R>) => Stream.Stream<A, E, R>
  /** Completes once the source has been quiet for `quietMs`, or after `maxMs`. */
  readonly settled: (quietMs: number, maxMs: number) => Effect.Effect<void>
}

export const makeQuiet = (): Quiet => {
  let last = Date.now()
  return {
    watch: (source) => source.pipe(Stream.tap(() => Effect.sync(() => (last = Date.now())))),
    settled: (quietMs, maxMs) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        while (Date.now() - last < quietMs && (yield* Clock.currentTimeMillis) - started < maxMs)
          yield* Effect.sleep("50 millis")
      }),
  }
}
