/**
 * The retry policies of tally, defined once:
 * - BACKOFF: waiting for a dependency that is down (broker, shard) as long as it takes — exponential
 *   from 200 ms, capped at 5 s between tries;
 * - PATIENT: the same for work that may wait for minutes (the retrier, events) — capped at 30 s;
 * - quickTries(n, deadline): a few fast tries before a fallback, each bounded by a deadline.
 */
import { Schedule } from "effect"

export const BACKOFF = Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")])

export const PATIENT = Schedule.min([Schedule.exponential("500 millis"), Schedule.spaced("30 seconds")])

/** `tries` tries in all, 100 ms apart and doubling. */
export const quickTries = (tries: number) =>
  Schedule.exponential("100 millis").pipe(Schedule.upTo({ times: Math.max(0, tries - 1) }))
