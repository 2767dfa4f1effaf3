/**
 * The time from the end of the last fault to exact numbers, per target (the pipeline, the embedded
 * tally): faults of the embedded track count for the embedded tally, every other fault for the pipeline.
 */
import type { Injected } from "./faults.ts"
import { EMBEDDED_KINDS } from "./schedule.ts"

export interface Convergence {
  /** When the last fault was over (ms), undefined when one never was. */
  readonly lastFaultEndMs: number | undefined
  /**
   * By when the numbers were exact for good (ms): the end of the first check, begun after the last
   * fault, from which every later check was exact (an upper bound: checks run every 5 s and take a few
   * seconds each); undefined when the run did not end exact.
   */
  readonly exactFromMs: number | undefined
  /** exactFromMs - lastFaultEndMs, in seconds. */
  readonly seconds: number | undefined
  /** How it was seen: a live check during the fault-free tail, or the final check after the load. */
  readonly seenBy: "live check" | "final check" | "none"
  /** Live checks after the last fault, and how many of them were exact. */
  readonly checksAfter: number
  readonly exactChecksAfter: number
}

interface Checked {
  readonly name: "pipeline" | "embedded"
  readonly liveChecks: ReadonlyArray<{
    readonly atMs: number
    readonly endMs: number
    readonly differences: number
  }>
  readonly verdict: { readonly exact: boolean; readonly timeToExactMs: number | null } | undefined
  readonly load: { readonly endMs: number } | undefined
}

/** The faults that strike a target. */
export const faultsOf = (name: "pipeline" | "embedded", injected: ReadonlyArray<Injected>) =>
  injected.filter((i) => EMBEDDED_KINDS.includes(i.fault.kind) === (name === "embedded"))

export const convergence = (t: Checked, injected: ReadonlyArray<Injected>): Convergence => {
  const ends = faultsOf(t.name, injected).map((i) => i.endMs)
  const lastFaultEndMs =
    ends.length === 0 || ends.includes(undefined) ? undefined : Math.max(...(ends as Array<number>))
  const after = lastFaultEndMs === undefined ? [] : t.liveChecks.filter((c) => c.atMs >= lastFaultEndMs)
  const exactChecksAfter = after.filter((c) => c.differences === 0).length
  const none = {
    lastFaultEndMs,
    exactFromMs: undefined,
    seconds: undefined,
    checksAfter: after.length,
    exactChecksAfter,
  }
  if (lastFaultEndMs === undefined || !t.verdict?.exact || !t.load) return { ...none, seenBy: "none" }
  let from = after.length
  while (from > 0 && after[from - 1]!.differences === 0) from--
  const exactFromMs = from < after.length ? after[from]!.endMs : t.load.endMs + (t.verdict.timeToExactMs ?? 0)
  return {
    lastFaultEndMs,
    exactFromMs,
    seconds: (exactFromMs - lastFaultEndMs) / 1000,
    seenBy: from < after.length ? "live check" : "final check",
    checksAfter: after.length,
    exactChecksAfter,
  }
}
