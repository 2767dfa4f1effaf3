/**
 * Running a stage: its stream runs in the current scope; when the scope closes (SIGTERM), the stage
 * stops gracefully — it waits for its source to go quiet (what an upstream stage is still flushing gets
 * processed), then signals Stop and waits for the final flush and commit. A stage that fails is fatal:
 * `Stages.failure` completes with one line saying which stage and why, and the process ends with a
 * non-zero exit (see cli/launch.ts) so a supervisor restarts it. `/healthz` reads every stage's state.
 */
import { Cause, Clock, Context, Deferred, Effect, Fiber, Layer, Schema, Stream } from "effect"
import type { Delivery } from "../bus/Records.ts"

export class StageFailed extends Schema.TaggedError<StageFailed>()("StageFailed", {
  stage: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `stage ${this.stage} failed: ${this.reason}`
  }
}

export interface StageStatus {
  readonly state: "running" | "stopping" | "stopped" | "failed"
  /** Records behind the end of the partitions it reads, as of its last batch. */
  readonly lag: number
  /** Processing time of its last batch (ms), or undefined before the first. */
  readonly lastBatchAt: number | undefined
  readonly reason?: string
}

export interface StagesApi {
  /** Completes with the first stage failure of this process. */
  readonly failure: Deferred.Deferred<never, StageFailed>
  readonly status: () => ReadonlyMap<string, StageStatus>
  readonly set: (stage: string, status: StageStatus) => void
}

export class Stages extends Context.Service<Stages, StagesApi>()("tally/stream/Stages") {
  static readonly layer = Layer.effect(
    Stages,
    Effect.gen(function* () {
      const failure = yield* Deferred.make<never, StageFailed>()
      const statuses = new Map<string, StageStatus>()
      return Stages.of({
        failure,
        status: () => statuses,
        set: (stage, status) => statuses.set(stage, status),
      })
    }),
  )
}

/** Watches a source: activity (for a quiet stop) and lag (for /healthz and backpressure). */
const watched =
  (stage: string, stages: StagesApi, quiet: { last: number }) =>
  <E, R>(source: Stream.Stream<Delivery, E, R>): Stream.Stream<Delivery, E, R> => {
    const lags = new Map<string, number>()
    return source.pipe(
      Stream.tap((d) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          quiet.last = now
          if (d._tag === "Assigned") lags.clear()
          else
            lags.set(
              `${d.topic}/${d.partition}`,
              Math.max(0, d.highWatermark - d.records[d.records.length - 1]!.offset - 1),
            )
          let lag = 0
          for (const l of lags.values()) lag += l
          const current = stages.status().get(stage)
          if (current?.state === "running") stages.set(stage, { ...current, lag, lastBatchAt: now })
        }),
      ),
    )
  }

export interface StageOptions {
  /** How long the source must be quiet before a graceful stop signals Stop. */
  readonly quietMs: number
  /** The longest a graceful stop waits for quiet. */
  readonly maxQuietMs: number
}

/**
 * Runs `stage` (a stream that ends after `stop`) on `source` in the current scope, supervised (see above).
 */
export const runStage = Effect.fnUntraced(function* <E, R, R2>(
  name: string,
  source: Stream.Stream<Delivery, E, R>,
  stage: (
    source: Stream.Stream<Delivery, E, R>,
    stop: Effect.Effect<void>,
  ) => Stream.Stream<unknown, unknown, R2>,
  options: StageOptions,
) {
  const stages = yield* Stages
  const stop = yield* Deferred.make<void>()
  const quiet = { last: yield* Clock.currentTimeMillis }
  stages.set(name, { state: "running", lag: 0, lastBatchAt: undefined })
  const fiber = yield* stage(watched(name, stages, quiet)(source), Deferred.await(stop)).pipe(
    Stream.runDrain,
    Effect.onExit((exit) =>
      Effect.gen(function* () {
        const current = stages.status().get(name)!
        if (exit._tag === "Success") return stages.set(name, { ...current, state: "stopped" })
        if (Cause.hasInterruptsOnly(exit.cause)) return stages.set(name, { ...current, state: "stopped" })
        const reason = Cause.pretty(exit.cause).split("\n")[0] ?? "unknown failure"
        stages.set(name, { ...current, state: "failed", reason })
        yield* Effect.logError(`${name} failed: ${reason}`)
        yield* Deferred.fail(stages.failure, new StageFailed({ stage: name, reason }))
      }),
    ),
    Effect.forkScoped,
  )
  yield* Effect.addFinalizer(() =>
    Effect.gen(function* () {
      const current = stages.status().get(name)
      if (current?.state === "running") stages.set(name, { ...current, state: "stopping" })
      const started = yield* Clock.currentTimeMillis
      while (true) {
        const now = yield* Clock.currentTimeMillis
        if (now - quiet.last >= options.quietMs || now - started >= options.maxQuietMs) break
        yield* Effect.sleep("50 millis")
      }
      yield* Deferred.succeed(stop, undefined)
      yield* Fiber.join(fiber)
    }).pipe(Effect.timeout("20 seconds"), Effect.ignore),
  )
})
