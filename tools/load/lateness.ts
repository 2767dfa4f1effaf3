/**
 * Which samples tally must count, by the lateness rule of DESIGN.md (semantics 1, "Tenants"), worked out
 * here from what the load itself knows — never from tally's aggregation code.
 *
 * The rule: a raw record goes to partition partitionFor(owner:process_type) of its type's topic; that
 * partition's stream time is the largest min(event time, ingest time) of the records before it and of
 * itself, in log order; the record counts in a window of period P if window end + 5 minutes > stream time.
 *
 * The load cannot see the log, but it can bound stream time for each body B:
 * - from above: every record before B's in the log was received by an ingress before B's was appended,
 *   so before B's 204 reached the load (one clock: the same machine). So S <= ackMs(B).
 * - from below: a body B' acknowledged before B was first sent has all its records before B's. Its
 *   records' ingest times are no earlier than B' was made, so S >= min(event time, B'.sentMs) for each
 *   of B's samples on the same (type, partition). This floor is taken when B is made.
 * A sample whose window closes after ackMs certainly counts; one whose window closed by the floor is
 * certainly dropped (counted as late); anything in between is unknown (its rollup is indeterminate).
 * A body without an acknowledgement (given up, or a Shield retry) has no upper bound: only certain drops.
 */
import { partitionFor } from "../../src/bus/Partitioner.ts"
import type { Body } from "./body.ts"
import type { Fleet } from "./fleet.ts"
import type { Metric } from "./metrics.ts"

export const LATENESS_MS = 5 * 60_000
/** The rollup periods: 1 minute and 15 minutes (index 0 and 1). */
export const PERIOD_MS = [60_000, 15 * 60_000] as const

export const COUNTS = 0
export const DROPPED = 1
export const UNKNOWN = 2
export type Judgement = typeof COUNTS | typeof DROPPED | typeof UNKNOWN

/** The raw topic of each metric's samples, as DESIGN.md's table of measurement types says. */
export const TYPES = ["DYNO_MEMORY", "DYNO_LOAD", "ROUTER_REQUESTS", "ERRORS"] as const
export const typeOfMetric = (metric: Metric): number =>
  metric.startsWith("memory_") ? 0 : metric.startsWith("load_avg_") ? 1 : metric === "errors" ? 3 : 2
/** Every raw record of a type carries exactly one sample of this metric: counting them counts records. */
export const RECORD_METRIC: Record<(typeof TYPES)[number], Metric> = {
  DYNO_MEMORY: "memory_total",
  DYNO_LOAD: "load_avg_1m",
  ROUTER_REQUESTS: "router_status",
  ERRORS: "errors",
}

const windowEnd = (t: number, size: number) => t - (t % size) + size

export class Lateness {
  private readonly partitions: number
  /** Per (type, partition): the floor of stream time from acknowledged bodies. */
  private readonly floors: Float64Array
  /** Per app, per series slot: its (type, partition) cell. */
  private readonly cells: Array<Int32Array>
  /** The floors when each body in flight was made. */
  private readonly snapshots = new WeakMap<Body, Float64Array>()

  constructor(fleet: Fleet, owners: ReadonlyArray<string>, partitions = 32) {
    this.partitions = partitions
    this.floors = new Float64Array(TYPES.length * partitions).fill(Number.NEGATIVE_INFINITY)
    this.cells = fleet.apps.map((app, i) => {
      const s = app.series
      const out = new Int32Array(s.size)
      for (let slot = 0; slot < s.size; slot++)
        out[slot] =
          typeOfMetric(s.metric[slot]!) * partitions +
          partitionFor(`${owners[i]}:${s.processType[slot]}`, partitions)
      return out
    })
  }

  /** The body was just made (before its first try): its floors are those of now. */
  made(body: Body): void {
    this.snapshots.set(body, this.floors.slice())
  }

  /** Sample `i` of `body`, for period `period` (0: 1m, 1: 15m); `ackMs` Infinity when not acknowledged. */
  judge(body: Body, i: number, period: 0 | 1, ackMs: number): Judgement {
    const closes = windowEnd(body.times[i]!, PERIOD_MS[period]) + LATENESS_MS
    if (closes > ackMs) return COUNTS
    const floors = this.snapshots.get(body)
    const cell = this.cells[body.app]![body.slots[i]!]!
    const floor = floors ? floors[cell]! : Number.NEGATIVE_INFINITY
    return closes <= floor ? DROPPED : UNKNOWN
  }

  /** The body got its 204: its records are in the log, and raise the floor of their partitions. */
  acknowledged(body: Body): void {
    const cells = this.cells[body.app]!
    for (let i = 0; i < body.samples; i++) {
      const cell = cells[body.slots[i]!]!
      const t = Math.min(body.times[i]!, body.sentMs)
      if (t > this.floors[cell]!) this.floors[cell] = t
    }
    this.snapshots.delete(body)
  }

  /** The body was given up: it can no longer raise anything we know of. */
  forget(body: Body): void {
    this.snapshots.delete(body)
  }

  /** The partition of a slot's (type, partition) cell, for reports. */
  partitionOf(app: number, slot: number): number {
    return this.cells[app]![slot]! % this.partitions
  }
}
