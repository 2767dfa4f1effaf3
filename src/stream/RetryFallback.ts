/**
 * Writing batches to a store that may be down, hang, or refuse some rows:
 * - a batch the store rejects (not unavailable) is split in halves until the bad rows are alone; they
 *   go to the dead letters with the store's reason, and every good row is written;
 * - `fallback`: a few quick tries, each bounded by a deadline (a hung store holds a batch back for at
 *   most the quick-try window), then the batch goes to the fallback (the RETRY topic) and the lane's
 *   circuit opens for `cooldownMs`: its next batches go straight to the fallback;
 * - `forever`: tries until the store takes it, with patient backoff (the retrier).
 * Hand-offs (fallback, dead letters) wait for the bus as long as it takes: they are the way out.
 */
import { Clock, Data, Duration, Effect } from "effect"
import { BACKOFF, PATIENT, quickTries } from "../domain/Backoff.ts"
import { stepAlive } from "./Stage.ts"

/** What a write fails with: Unavailable (try again later) or Rejected (the rows are wrong: isolate them). */
export interface WriteFailure {
  readonly reason: "Unavailable" | "Rejected"
  readonly message: string
}

/** What a hand-off (fallback, dead letters) fails with: retried while Unavailable, else it ends the write. */
export interface HandOffFailure {
  readonly reason: string
  readonly message: string
}

/** A try that got no answer within its deadline: Unavailable, like a store that cannot be reached. */
export class WriteTimeout extends Data.TaggedError("WriteTimeout")<{
  readonly reason: "Unavailable"
  readonly message: string
}> {}

export interface FallbackOptions<A, E extends WriteFailure, EH extends HandOffFailure, R> {
  /** Writes all rows in one transaction. */
  readonly write: (rows: ReadonlyArray<A>) => Effect.Effect<void, E, R>
  /** Rows the store refuses, with its reason. */
  readonly deadLetter: (rows: ReadonlyArray<A>, reason: string) => Effect.Effect<void, EH, R>
  /** Where a batch goes after its quick tries (policy "fallback" only). */
  readonly fallback?: ((rows: ReadonlyArray<A>) => Effect.Effect<void, EH, R>) | undefined
  readonly tries: number
  /** Deadline of one try. */
  readonly tryTimeout: Duration.Input
  readonly cooldown: Duration.Input
}

export type Outcome = "written" | "fallback"

const timedOut = (message: string) => new WriteTimeout({ reason: "Unavailable", message })

/** Writes `rows`, isolating rejected rows into the dead letters by halving; fails only Unavailable. */
export const writeIsolating = <A, E extends WriteFailure, EH extends HandOffFailure, R>(
  rows: ReadonlyArray<A>,
  options: Pick<FallbackOptions<A, E, EH, R>, "write" | "deadLetter" | "tryTimeout">,
): Effect.Effect<void, E | WriteTimeout | EH, R> =>
  options.write(rows).pipe(
    Effect.timeoutOrElse({
      duration: options.tryTimeout,
      orElse: () => Effect.fail(timedOut(`no answer within ${Duration.toMillis(options.tryTimeout)} ms`)),
    }),
    Effect.catchIf(
      (e) => e.reason === "Rejected",
      (e): Effect.Effect<void, E | WriteTimeout | EH, R> => {
        if (rows.length === 1) return options.deadLetter(rows, e.message)
        const half = Math.ceil(rows.length / 2)
        return writeIsolating(rows.slice(0, half), options).pipe(
          Effect.andThen(writeIsolating(rows.slice(half), options)),
        )
      },
    ),
  )

/** Hand-offs to the bus: retried while it is down, as long as it takes. */
export const patiently = <EH extends HandOffFailure, R>(effect: Effect.Effect<void, EH, R>) =>
  effect.pipe(
    Effect.tapError((e) => Effect.andThen(stepAlive, Effect.logWarning(`hand-off waits: ${e.message}`))),
    Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: BACKOFF }),
  )

/** The write policy of one lane (one store shard): quick tries, then the fallback; circuit per lane. */
export const fallbackWriter = <A, E extends WriteFailure, EH extends HandOffFailure, R>(
  options: FallbackOptions<A, E, EH, R>,
) => {
  const coolingUntil = new Map<number, number>()
  const options2 = {
    ...options,
    deadLetter: (rows: ReadonlyArray<A>, reason: string) => patiently(options.deadLetter(rows, reason)),
  }
  const toFallback = (rows: ReadonlyArray<A>) =>
    patiently(options.fallback!(rows)).pipe(Effect.as<Outcome>("fallback"))
  const write = Effect.fnUntraced(function* (lane: number, rows: ReadonlyArray<A>) {
    const now = yield* Clock.currentTimeMillis
    if ((coolingUntil.get(lane) ?? 0) > now) return yield* toFallback(rows)
    return yield* writeIsolating(rows, options2).pipe(
      Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: quickTries(options.tries) }),
      Effect.as<Outcome>("written"),
      Effect.catchIf(
        (e) => e.reason === "Unavailable",
        (e) =>
          Effect.gen(function* () {
            const at = yield* Clock.currentTimeMillis
            coolingUntil.set(lane, at + Duration.toMillis(options.cooldown))
            yield* Effect.logWarning(
              `lane ${lane}: batch of ${rows.length} goes to the fallback: ${e.message}`,
            )
            return yield* toFallback(rows)
          }),
      ),
    )
  })
  return { write, fallBack: toFallback }
}

/** The retrier's policy: rejected rows dead-lettered, unavailable retried with patient backoff, for ever. */
export const patientWriter = <A, E extends WriteFailure, EH extends HandOffFailure, R>(
  options: Pick<FallbackOptions<A, E, EH, R>, "write" | "deadLetter" | "tryTimeout">,
) => {
  const options2 = {
    ...options,
    deadLetter: (rows: ReadonlyArray<A>, reason: string) => patiently(options.deadLetter(rows, reason)),
  }
  return (lane: number, rows: ReadonlyArray<A>) =>
    writeIsolating(rows, options2).pipe(
      Effect.tapError((e) =>
        Effect.andThen(stepAlive, Effect.logWarning(`lane ${lane} still failing: ${e.message}`)),
      ),
      Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: PATIENT }),
      Effect.as<Outcome>("written"),
    )
}
