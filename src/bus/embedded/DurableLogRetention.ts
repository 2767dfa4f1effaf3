/**
 * Retention of the durable embedded log: how long records stay once every live group committed past
 * them, which groups are live, what one pass deletes (the plans the writer runs in bounded steps), and
 * the gauges set after each pass.
 */
import { statSync } from "node:fs"
import { join } from "node:path"
import { Effect, Metric } from "effect"
import { LocalGroups, type Member } from "../LocalLog.ts"
import type { RetainPlan, Stats } from "./DurableLogFormat.ts"
import type { LogReader, Topic } from "./DurableLogReader.ts"
import * as M from "./LogMetrics.ts"

const MINUTE = 60_000

/** How long records stay once every live group committed past them (ages count from the append). */
export interface Retention {
  /**
   * Delete topics (raw): the aggregator rewinds at most to its oldest open window (a 15 min window plus
   * 5 min lateness, ~21 min with the flush delay); 25 min leaves a margin for a new group to start from.
   */
  readonly committedMs: number
  /** Compacted topics (summaries): a key's latest record; superseded ones go as soon as committed past. */
  readonly compactedMs: number
  /** Topics never expired by age (`retention.ms` -1: the retry topics): deleted once committed past. */
  readonly unexpiringMs: number
  /** A group with no member in this process for this long (since open at the earliest) holds nothing back. */
  readonly groupIdleMs: number
}

export const defaultRetention: Retention = {
  committedMs: 25 * MINUTE,
  compactedMs: 60 * MINUTE,
  unexpiringMs: 0,
  groupIdleMs: 60 * MINUTE,
}

/** Group membership that also remembers when each group last had a member (for groupIdleMs). */
export class TrackedGroups extends LocalGroups {
  readonly members = new Map<string, number>()
  readonly lastSeen = new Map<string, number>()
  private readonly clock: () => number
  constructor(clock: () => number) {
    super()
    this.clock = clock
  }
  override join(group: string): Member {
    const member = super.join(group)
    this.members.set(group, (this.members.get(group) ?? 0) + 1)
    this.lastSeen.set(group, this.clock())
    let left = false
    return {
      ...member,
      leave: () => {
        member.leave()
        if (left) return
        left = true
        this.members.set(group, (this.members.get(group) ?? 1) - 1)
        this.lastSeen.set(group, this.clock())
      },
    }
  }
  live(group: string, now: number, idleMs: number): boolean {
    return (this.members.get(group) ?? 0) > 0 || now - (this.lastSeen.get(group) ?? 0) < idleMs
  }
}

/** What one retention pass deletes (see Retention): one or two prefix plans per partition. */
export const retentionPlans = (
  log: LogReader,
  groups: TrackedGroups,
  policy: Retention,
  now: number,
): Array<RetainPlan> => {
  const plans: Array<RetainPlan> = []
  const start = log.starts
  for (const [name, t] of log.topics) {
    const retentionMs = Number(t.spec.config["retention.ms"] ?? Number.NaN)
    const minAge = t.compacted
      ? policy.compactedMs
      : retentionMs === -1
        ? policy.unexpiringMs
        : policy.committedMs
    for (const [partition, pid] of t.pids.entries()) {
      const end = log.ends.get(pid) ?? 0
      if ((start.get(pid) ?? -1) >= end) continue
      let below = Number.POSITIVE_INFINITY
      for (const group of log.committers.get(`${name}\u0000${partition}`) ?? [])
        if (groups.live(group, now, policy.groupIdleMs))
          below = Math.min(below, log.committed(group, name, partition)!.offset)
      if (below !== Number.POSITIVE_INFINITY)
        plans.push({ pid, below: Math.min(below, end), before: now - minAge, superseded: t.compacted })
      // Kafka's retention.ms still caps how long anything is kept, committed or not.
      if (!t.compacted && retentionMs >= 0)
        plans.push({ pid, below: end, before: now - retentionMs, superseded: false })
    }
  }
  return plans
}

/** Bytes of `log.db` and of its files with these suffixes ("-wal", "-shm") in `directory` now. */
export const fileBytes = (directory: string, suffixes: ReadonlyArray<string>): number => {
  let bytes = 0
  for (const suffix of suffixes)
    try {
      bytes += statSync(join(directory, `log.db${suffix}`)).size
    } catch {
      // not there (the WAL is truncated at close)
    }
  return bytes
}

/** Records retained, by topic, as of `stats`. */
export const countsByTopic = (
  stats: Stats | undefined,
  topics: ReadonlyMap<string, Topic>,
): Map<string, number> => {
  const counts = new Map(stats?.counts ?? [])
  return new Map(
    [...topics].map(([name, t]) => [name, t.pids.reduce((n, pid) => n + (counts.get(pid) ?? 0), 0)]),
  )
}

/** The gauges after a pass: disk bytes, free bytes inside the file, records per topic, deleted records. */
export const setGauges = (
  directory: string,
  stats: Stats,
  topics: ReadonlyMap<string, Topic>,
  deleted: number,
): Effect.Effect<void> =>
  Effect.all(
    [
      Metric.update(M.diskBytes, fileBytes(directory, ["", "-wal", "-shm"])),
      Metric.update(M.freeBytes, stats.freePages * stats.pageSize),
      Metric.update(M.deleted, deleted),
      ...[...countsByTopic(stats, topics)].map(([name, n]) =>
        Metric.update(Metric.withAttributes(M.records, { topic: name }), n),
      ),
    ],
    { discard: true },
  )
