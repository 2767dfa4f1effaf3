/**
 * Running a stage: its stream runs in the current scope; when the scope closes (SIGTERM), the stage
 * stops gracefully — it waits for its source to go quiet (what an upstream stage is still flushing gets
 * processed), then signals Stop and waits for the final flush and commit. A stage that fails is fatal:
 * `Stages.failure` completes with one line saying which stage and why, and the process ends with a
 * non-zero exit (see cli/launch.ts) so a supervisor restarts it. `/healthz` reads every stage's state.
 *
 * Liveness (issue 10): a stage can be alive and stuck — a consumer idle for ever after a broker restart,
 * a write that hangs. A watchdog per stage looks, every TALLY_STALL_TIMEOUT / 4 (at most 5 s), for
 * either of two things:
 * - a stuck reader: records wait — between an owned partition's position (the last record read, or the
 *   commit it was assigned with) and its end (`Bus.endOffsets`, asked afresh) — and the source has
 *   delivered nothing (no Batch, no Assigned) since they appeared;
 * - a wedged step: the stage read records under its assignment and nothing — not even a Tick — has come
 *   out of its last step since. Every stage built on `controlled` lets a Tick out at least every second
 *   when it moves, so a silent last step holds what it read (a write or a produce that never returns).
 * Either is a stall of that long (`tally_stage_stalled_seconds{stage}`, 0 below one look's interval);
 * at TALLY_STALL_TIMEOUT the stage fails "Stalled", so the process exits 1 and restarts from its
 * commits, which are exact. A stage with nothing waiting and nothing held is never stalled, however
 * long it idles; while the end offsets cannot be read (the broker is down, which /healthz reports
 * anyway) it is not judged. A step that waits on purpose (a writer retrying a shard that stays down)
 * says so on each try (`stepAlive`) and is not judged stalled: /healthz reports the shard.
 *
 * Failing writes (issue 24): a stage can move and still lose its point — a sink whose every write fails
 * (its batches handed to RETRY or dead-lettered), an ingress whose every append fails (503s). The rule:
 * every write or append a stage makes reports its outcome (`trackWrite` inside a stage run by
 * `runStage`; `tracked(name, …)` or `Stages.track` elsewhere, e.g. the ingress's produce), and a stage whose writes or appends have failed for FAILING_AFTER_MS (30 s)
 * or more with no success in between is *failing*: /healthz answers 503 with
 * `stage <name>: down: failing for <n> s (<k> failures, no success): <last reason>`. Its first success
 * clears it. Failures over less than 30 s (a shard restarting, one refused batch) are not failing, nor
 * are failures more than 60 s apart (they are not one run); a write that gets no answer (interrupted by
 * its deadline) is a failure. A failing stage keeps running: it is not restarted, since
 * what fails is usually outside it (the disk, a shard, the log), and it is told apart from a stall.
 *
 * A bounded stop (issue 22, finding 9): supervisors SIGKILL a process that has not exited within their
 * grace (the chaos harness 15 s), so every stage of a process has ended STOP_BUDGET_MS (10 s) after the
 * stop began, whatever hangs: a shard that never answers, a broker that is down, a writer retrying for
 * ever. A stage's stop, in phases: it waits for its source to go quiet (at most `maxQuietMs`, and never
 * past the first half of the budget), signals Stop and waits for its final flush and commit; ABANDON_MS
 * (2 s) before its end the work still in flight is abandoned (`StopAbandon`: lanes drop it
 * unacknowledged, so the final commit covers only what was done and the next start reads the rest
 * again); at the end the stage is interrupted, and not waited for more than INTERRUPT_WAIT_MS.
 * Stages that do not feed each other (the sink's two) stop together (`stopsWith`); others stop one after
 * the other (an upstream stage first, as `tally all` orders them), each sharing the process's budget and
 * getting at least MIN_STOP_MS.
 */
import {
  Cause,
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Fiber,
  Layer,
  Metric,
  Option,
  Schema,
  Stream,
} from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Delivery } from "../bus/Records.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { partitionKey } from "./OffsetCommitter.ts"

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
  /** Records behind the end of the partitions it reads, as of its last batch or the watchdog's last look. */
  readonly lag: number
  /** Processing time of its last batch (ms), or undefined before the first. */
  readonly lastBatchAt: number | undefined
  readonly reason?: string
  /** How long (ms) it has been stalled (see the header); 0 (or absent) while it progresses or idles. */
  readonly stalledMs?: number
}

export const stalledSeconds = Metric.gauge("tally_stage_stalled_seconds", {
  description:
    "how long a stage has made no progress with records waiting or held, by stage (0 while it progresses or has nothing to do); it fails at TALLY_STALL_TIMEOUT",
})

/** How long a stage's writes or appends must have failed, with no success, before it is failing (see the header). */
export const FAILING_AFTER_MS = 30_000

/** A stage's writes or appends failing since `since` (ms), the last at `last`, with no success since. */
export interface FailingStreak {
  readonly since: number
  readonly last: number
  readonly failures: number
  readonly reason: string
}

export interface StagesApi {
  /** Completes with the first stage failure of this process. */
  readonly failure: Deferred.Deferred<never, StageFailed>
  readonly status: () => ReadonlyMap<string, StageStatus>
  readonly set: (stage: string, status: StageStatus) => void
  /**
   * Runs one write or append of `stage`, recording its outcome: a success clears the stage's failing
   * streak, a failure (an interruption too: no answer by its deadline) starts or extends it.
   */
  readonly track: <A, E, R>(stage: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Every stage that has tracked a write or append, with its streak of failures (undefined: none). */
  readonly streaks: () => ReadonlyMap<string, FailingStreak | undefined>
  /**
   * When this process's stop began (ms), marked now by the first call: every stage's stop shares one
   * budget from there (see "A bounded stop" in the header).
   */
  readonly stopBegan: Effect.Effect<number>
}

/** Why `streak` makes its stage failing (see the header), or undefined while it does not. */
export const failingReason = (streak: FailingStreak | undefined): string | undefined => {
  if (streak === undefined || streak.last - streak.since < FAILING_AFTER_MS) return undefined
  const seconds = Math.round((streak.last - streak.since) / 1000)
  return `failing for ${seconds} s (${streak.failures} failures, no success): ${streak.reason}`
}

const firstLine = (cause: Cause.Cause<unknown>) => {
  if (Cause.hasInterruptsOnly(cause)) return "no answer (interrupted by its deadline)"
  const error = Cause.squash(cause) as { message?: unknown } | undefined
  const text = typeof error?.message === "string" ? error.message : Cause.pretty(cause)
  return (text.split("\n")[0] ?? "unknown failure").slice(0, 300)
}

export class Stages extends Context.Service<Stages, StagesApi>()("tally/stream/Stages") {
  static readonly layer = Layer.effect(
    Stages,
    Effect.gen(function* () {
      const failure = yield* Deferred.make<never, StageFailed>()
      const statuses = new Map<string, StageStatus>()
      const streaks = new Map<string, FailingStreak | undefined>()
      let began: number | undefined
      const track = <A, E, R>(stage: string, effect: Effect.Effect<A, E, R>) =>
        Effect.onExit(effect, (exit) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            if (exit._tag === "Success") return void streaks.set(stage, undefined)
            const reason = firstLine(exit.cause)
            const streak = streaks.get(stage)
            // Failures further apart than twice the bound are not one run (an idle app's rare failures).
            streaks.set(
              stage,
              streak === undefined || now - streak.last > 2 * FAILING_AFTER_MS
                ? { since: now, last: now, failures: 1, reason }
                : {
                    since: streak.since,
                    last: Math.max(streak.last, now),
                    failures: streak.failures + 1,
                    reason,
                  },
            )
          }),
        )
      return Stages.of({
        failure,
        status: () => statuses,
        set: (stage, status) => statuses.set(stage, status),
        track,
        streaks: () => streaks,
        stopBegan: Effect.map(Clock.currentTimeMillis, (now) => (began ??= now)),
      })
    }),
  )
}

/** What the watchdog knows of a stage: when it last moved, where it reads, how far the ends are. */
class Progress {
  /** Last delivery of the source (a Batch or an Assigned); also what a graceful stop waits to go quiet. */
  inputAt: number
  /** Last element out of the stage's last step (an item, a Tick, an Assigned, the Stop). */
  outputAt: number
  /** Records read under the current assignment. */
  read = 0
  /** The next offset to read of each owned partition whose position is known. */
  readonly positions = new Map<string, number>()
  /** The largest end seen of each partition (a batch's high watermark or a probe). */
  readonly ends = new Map<string, number>()
  /** The owned partitions, by topic (what the watchdog probes). */
  topics: ReadonlyArray<string> = []
  /** When the watchdog first saw records waiting, since it last saw none. */
  waitingSince: number | undefined = undefined

  constructor(now: number) {
    this.inputAt = now
    this.outputAt = now
  }

  delivered(d: Delivery, now: number): void {
    this.inputAt = now
    if (d._tag === "Assigned") {
      this.positions.clear()
      this.read = 0
      const topics = new Set<string>()
      for (const p of d.partitions) {
        topics.add(p.topic)
        // Without a commit the consumer starts at the log's start, which is not known here: unknown.
        if (p.committed) this.positions.set(partitionKey(p.topic, p.partition), p.committed.offset)
      }
      this.topics = [...topics]
      return
    }
    const id = partitionKey(d.topic, d.partition)
    this.positions.set(id, d.records[d.records.length - 1]!.offset + 1)
    this.ends.set(id, Math.max(this.ends.get(id) ?? 0, d.highWatermark))
    this.read += d.records.length
  }

  /** Records between each owned partition's position and its end (of the partitions where both are known). */
  lag(): number {
    let lag = 0
    for (const [id, position] of this.positions) {
      const end = this.ends.get(id)
      if (end !== undefined) lag += Math.max(0, end - position)
    }
    return lag
  }
}

/** Watches a source: activity (for a quiet stop and the watchdog) and lag (for /healthz). */
const watched =
  (stage: string, stages: StagesApi, progress: Progress) =>
  <E, R>(source: Stream.Stream<Delivery, E, R>): Stream.Stream<Delivery, E, R> =>
    source.pipe(
      Stream.tap((d) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          progress.delivered(d, now)
          const current = stages.status().get(stage)
          if (current?.state === "running")
            stages.set(stage, { ...current, lag: progress.lag(), lastBatchAt: now })
        }),
      ),
    )

/**
 * One look of the watchdog (see the header): refreshes the ends, updates the stage's lag, stalled time
 * and gauge, and fails the stage "Stalled" once it has been stalled for `timeoutMs`.
 */
const inspect = Effect.fnUntraced(function* (
  name: string,
  stages: StagesApi,
  progress: Progress,
  timeoutMs: number,
  intervalMs: number,
) {
  const current = stages.status().get(name)
  if (current?.state !== "running") return
  const bus = yield* Bus
  let judged = true
  if (progress.topics.length > 0) {
    const ends = yield* bus.endOffsets(progress.topics).pipe(Effect.timeout(intervalMs), Effect.option)
    if (Option.isSome(ends))
      for (const e of ends.value) progress.ends.set(partitionKey(e.topic, e.partition), e.offset)
    else judged = false
  }
  const now = yield* Clock.currentTimeMillis
  const lag = progress.lag()
  if (!judged || lag === 0) progress.waitingSince = undefined
  else progress.waitingSince ??= now
  // Shorter than one look is no stall (a moving stage lets a Tick out every second at most).
  const beyond = (ms: number) => (ms < intervalMs ? 0 : ms)
  const reader = judged && lag > 0 ? beyond(now - Math.max(progress.inputAt, progress.waitingSince!)) : 0
  const step = judged && progress.read > 0 ? beyond(now - progress.outputAt) : 0
  const stalledMs = Math.max(reader, step)
  yield* Metric.update(Metric.withAttributes(stalledSeconds, { stage: name }), stalledMs / 1000)
  const latest = stages.status().get(name)!
  if (latest.state !== "running") return
  if (stalledMs < timeoutMs) return stages.set(name, { ...latest, lag, stalledMs })
  const bound = `TALLY_STALL_TIMEOUT ${Math.round(timeoutMs / 1000)} s`
  const reason =
    reader >= step
      ? `Stalled: no records read for ${Math.round(reader / 1000)} s while ${lag} wait (${bound})`
      : `Stalled: nothing out of its last step for ${Math.round(step / 1000)} s, holding records it read (${bound})`
  stages.set(name, { ...latest, lag, stalledMs, state: "failed", reason })
  yield* Effect.logError(`${name} failed: ${reason}`)
  yield* Deferred.fail(stages.failure, new StageFailed({ stage: name, reason }))
})

/**
 * A step that waits on purpose says so on each try (the writers' retries of a shard or the bus while it
 * is down, src/stream/RetryFallback.ts): a stage waiting on a dependency that /healthz reports is alive,
 * not stalled. Outside a stage it does nothing.
 */
export const StepAlive = Context.Reference<Effect.Effect<void>>("tally/stream/StepAlive", {
  defaultValue: () => Effect.void,
})

/** Tells the current stage that its step is alive (see StepAlive). */
export const stepAlive: Effect.Effect<void> = Effect.gen(function* () {
  yield* yield* StepAlive
})

/**
 * One write or append of `stage` made outside a stage run by runStage (the ingress's appends), tracked
 * by the process's Stages (see "Failing writes"); where there is none (a test's bare layer), not at all.
 */
export const tracked = <A, E, R>(stage: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(Stages), (stages) =>
    Option.isSome(stages) ? stages.value.track(stage, effect) : effect,
  )

/** How the current stage tracks its writes (see "Failing writes" in the header); outside a stage, not at all. */
export const StageWrites = Context.Reference<{
  readonly track: <A, E, R>(effect: Effect.Effect<A, E, R>, part?: string) => Effect.Effect<A, E, R>
}>("tally/stream/StageWrites", { defaultValue: () => ({ track: (effect) => effect }) })

/**
 * One write of the current stage (a COPY batch, an insert): its outcome counts for the stage's health.
 * `part` (e.g. "shard 1") tracks it apart, as `<stage> <part>`: a lane of one shard that keeps failing
 * is failing even while the other lanes succeed.
 */
export const trackWrite = <A, E, R>(effect: Effect.Effect<A, E, R>, part?: string): Effect.Effect<A, E, R> =>
  StageWrites.use((writes) => writes.track(effect, part))

/**
 * Completes when the current stage's stop abandons the work still in flight (see "A bounded stop" in
 * the header): a step holding work (Lanes) then drops it unacknowledged and lets the Stop through, so the
 * final commit covers only what was done. Outside a stage it never completes.
 */
export const StopAbandon = Context.Reference<Effect.Effect<void>>("tally/stream/StopAbandon", {
  defaultValue: () => Effect.never,
})

/** Every stage of a process has ended (or was interrupted) this long after the stop began. */
export const STOP_BUDGET_MS = 10_000
/** The last part of a stage's stop: in-flight work abandoned, what was done committed. */
export const ABANDON_MS = 2_000
/** A stage whose stop begins late (stages before it took the budget) still gets this long. */
export const MIN_STOP_MS = 3_000
/** How long an interrupted stage is waited for (a client's close that hangs is left behind). */
export const INTERRUPT_WAIT_MS = 1_000

/** The deadlines (ms) of a stage's stop that starts at `start`, in a process whose stop began at `began`. */
export const stopPlan = (began: number, start: number, maxQuietMs: number) => {
  const endAt = Math.max(began + STOP_BUDGET_MS, start + MIN_STOP_MS)
  const abandonAt = endAt - ABANDON_MS
  return { quietUntil: Math.min(start + maxQuietMs, began + STOP_BUDGET_MS / 2), abandonAt, endAt }
}

/** Stages that stop together: the first of them whose scope closes starts every one's stop. */
export interface StopGroup {
  readonly go: Deferred.Deferred<void>
}

export const stopGroup: Effect.Effect<StopGroup> = Effect.map(Deferred.make<void>(), (go) => ({ go }))

export interface StageOptions {
  /** How long the source must be quiet before a graceful stop signals Stop. */
  readonly quietMs: number
  /** The longest a graceful stop waits for quiet. */
  readonly maxQuietMs: number
  /** Stops with the other stages of this group, at once, instead of when its own scope closes. */
  readonly stopsWith?: StopGroup | undefined
}

/** Whether `fiber` has ended by `at` (ms), waiting until then at most. */
const endsBy = (fiber: Fiber.Fiber<unknown, unknown>, at: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Fiber.await(fiber).pipe(Effect.timeoutOption(Math.max(0, at - now)), Effect.map(Option.isSome)),
  )

/** Interrupts `fiber` and waits for it INTERRUPT_WAIT_MS at most (its finalizers may hang on a client). */
const interruptWithin = (name: string, fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.gen(function* () {
    fiber.interruptUnsafe()
    const now = yield* Clock.currentTimeMillis
    if (!(yield* endsBy(fiber, now + INTERRUPT_WAIT_MS)))
      yield* Effect.logWarning(
        `${name}: stop: still ending ${INTERRUPT_WAIT_MS} ms after its interruption; not waited for`,
      )
  })

/**
 * Runs `stage` (a stream that ends after `stop`) on `source` in the current scope, supervised (see above).
 * Its error (`E2`, each stage's own union) is typed up to here: whatever it is, a failure is fatal.
 */
export const runStage = Effect.fnUntraced(function* <E, R, A, E2, R2>(
  name: string,
  source: Stream.Stream<Delivery, E, R>,
  stage: (source: Stream.Stream<Delivery, E, R>, stop: Effect.Effect<void>) => Stream.Stream<A, E2, R2>,
  options: StageOptions,
) {
  const stages = yield* Stages
  const settings = yield* TallyConfig
  const stop = yield* Deferred.make<void>()
  const abandon = yield* Deferred.make<void>()
  const progress = new Progress(yield* Clock.currentTimeMillis)
  stages.set(name, { state: "running", lag: 0, lastBatchAt: undefined, stalledMs: 0 })
  const alive = Effect.map(Clock.currentTimeMillis, (now) => {
    progress.outputAt = now
  })
  const fiber = yield* stage(watched(name, stages, progress)(source), Deferred.await(stop)).pipe(
    Stream.provideService(StepAlive, alive),
    Stream.provideService(StopAbandon, Deferred.await(abandon)),
    Stream.provideService(StageWrites, {
      track: (effect, part) => stages.track(part === undefined ? name : `${name} ${part}`, effect),
    }),
    Stream.tap(() =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        progress.outputAt = now
      }),
    ),
    Stream.runDrain,
    Effect.onExit((exit) =>
      Effect.gen(function* () {
        const current = stages.status().get(name)!
        // Failed by the watchdog (Stalled), then interrupted: it stays failed.
        if (current.state === "failed") return
        if (exit._tag === "Success") return stages.set(name, { ...current, state: "stopped" })
        if (Cause.hasInterruptsOnly(exit.cause)) return stages.set(name, { ...current, state: "stopped" })
        const reason = Cause.pretty(exit.cause).split("\n")[0] ?? "unknown failure"
        stages.set(name, { ...current, state: "failed", reason })
        yield* Effect.logError(`${name} failed: ${reason}`)
        yield* Deferred.fail(stages.failure, new StageFailed({ stage: name, reason }))
      }),
    ),
    // Every log line of the stage names it (`stage` in JSON logs).
    Effect.annotateLogs("stage", name),
    // Not scoped: its stop (below) ends it, and waits for it within the budget only.
    Effect.forkDetach,
  )
  const timeoutMs = Duration.toMillis(settings.stallTimeout)
  const every = Math.max(10, Math.min(5000, Math.floor(timeoutMs / 4)))
  yield* inspect(name, stages, progress, timeoutMs, every).pipe(
    Effect.delay(every),
    Effect.repeat({ while: () => stages.status().get(name)?.state === "running" }),
    Effect.annotateLogs("stage", name),
    Effect.forkScoped,
  )
  const stopping = Effect.gen(function* () {
    const current = stages.status().get(name)
    // A stage that failed (stalled: it may never answer a Stop) is not waited for.
    if (current?.state === "failed") return yield* interruptWithin(name, fiber)
    if (current?.state === "running") stages.set(name, { ...current, state: "stopping" })
    const began = yield* stages.stopBegan
    const start = yield* Clock.currentTimeMillis
    const plan = stopPlan(began, start, options.maxQuietMs)
    while (true) {
      const now = yield* Clock.currentTimeMillis
      if (now - progress.inputAt >= options.quietMs || now >= plan.quietUntil) break
      yield* Effect.sleep("50 millis")
    }
    yield* Deferred.succeed(stop, undefined)
    if (yield* endsBy(fiber, plan.abandonAt)) return
    yield* Effect.logWarning(
      `${name}: stop: work still in flight after ${Math.round((plan.abandonAt - began) / 1000)} s abandoned, not committed (read again at the next start)`,
    )
    yield* Deferred.succeed(abandon, undefined)
    if (yield* endsBy(fiber, plan.endAt)) return
    yield* Effect.logWarning(
      `${name}: stop: not ended ${Math.round((plan.endAt - began) / 1000)} s after the stop began; interrupted`,
    )
    yield* interruptWithin(name, fiber)
  }).pipe(Effect.annotateLogs("stage", name))
  if (options.stopsWith === undefined) return yield* Effect.addFinalizer(() => stopping)
  // In a group, the first finalizer starts every stage's stop; each waits for its own.
  const group = options.stopsWith.go
  const stopper = yield* Effect.forkDetach(Effect.andThen(Deferred.await(group), stopping))
  yield* Effect.addFinalizer(() =>
    Effect.andThen(Deferred.succeed(group, undefined), Effect.asVoid(Fiber.await(stopper))),
  )
})
