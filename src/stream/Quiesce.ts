/**
 * A graceful stop that finishes in-flight work: the source is watched for activity, and the stop waits
 * until no batch has arrived for `quietMs` (at most `maxMs`), so what was already fetched or is still
 * arriving from an upstream stage that is stopping too gets processed before the final flush.
 */
import { Clock, Deferred, Effect, Fiber, Stream } from "effect"

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

/**
 * Runs a stage (a stream that ends after `stop`) in the current scope. When the scope closes, it waits
 * for the stage's source to go quiet, then stops it and waits (at most 20 s) for its final flush.
 */
export const runStage = <E, R>(
  name: string,
  stage: (stop: Effect.Effect<void>, quiet: Quiet) => Stream.Stream<unknown, E, R>,
  quietMs: number,
  maxQuietMs: number,
) =>
  Effect.gen(function* () {
    const stop = yield* Deferred.make<void>()
    const quiet = makeQuiet()
    const fiber = yield* stage(Deferred.await(stop), quiet).pipe(
      Stream.runDrain,
      Effect.tapCause((cause) => Effect.logError(`${name} stopped`, cause)),
      Effect.forkScoped,
    )
    yield* Effect.addFinalizer(() =>
      quiet
        .settled(quietMs, maxQuietMs)
        .pipe(
          Effect.andThen(Deferred.succeed(stop, undefined)),
          Effect.andThen(Fiber.join(fiber)),
          Effect.timeout("20 seconds"),
          Effect.ignore,
        ),
    )
  })
