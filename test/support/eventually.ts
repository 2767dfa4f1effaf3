/** Waiting on a condition in tests against real services: poll with a deadline, never a fixed sleep. */
import { Effect } from "effect"

/**
 * Runs `probe` every `everyMs` until `done` holds for its result, and returns that result; after
 * `withinMs` it fails with the last result seen (so the assertion message shows how far it got).
 */
export const eventually = <A, E, R>(
  probe: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  options: { readonly withinMs: number; readonly everyMs?: number; readonly what: string },
): Effect.Effect<A, E | Error, R> =>
  Effect.gen(function* () {
    const deadline = Date.now() + options.withinMs
    for (;;) {
      const a = yield* probe
      if (done(a)) return a
      if (Date.now() >= deadline)
        return yield* Effect.fail(
          new Error(`${options.what}: not within ${options.withinMs} ms; last: ${JSON.stringify(a)}`),
        )
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, options.everyMs ?? 250)))
    }
  })

/**
 * `promise`'s value, or "timeout" if it has not settled within `ms` (a deadline, not a wait: it returns
 * as soon as `promise` settles, and its timer is cleared then).
 */
export const within = <A>(promise: Promise<A>, ms: number): Promise<A | "timeout"> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
