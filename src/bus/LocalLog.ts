/**
 * What an in-process log provides to the local Bus (local.ts): partitions with offsets from 0, reads,
 * appends that are all-or-nothing, committed offsets with metadata per group, and the groups' membership.
 * Two logs implement it: PartitionedLog (memory, deterministic, for tests) and the durable embedded log.
 */
import type { Effect } from "effect"
import type { BusError, Committed, InRecord, OutRecord } from "./Records.ts"
import type { TopicSpec } from "./Topics.ts"

export interface LocalLog {
  /** False while an outage is played: every produce, fetch and commit fails Unavailable. */
  readonly available: boolean
  readonly topic: (name: string) => TopicSpec | undefined
  /** Creates a topic; false when it existed. */
  readonly createTopic: (spec: TopicSpec) => boolean
  /** Appends every record to its key's partition, or none of them; durable (as the log is) once it succeeds. */
  readonly append: (records: ReadonlyArray<OutRecord>) => Effect.Effect<void, BusError>
  /** Up to `max` records from offset `from` on (compacted topics skip superseded records); `next` is where to go on. */
  readonly read: (
    topic: string,
    partition: number,
    from: number,
    max: number,
  ) => { readonly records: ReadonlyArray<InRecord>; readonly next: number }
  readonly highWatermark: (topic: string, partition: number) => number
  /** Registers a one-shot wake-up for the next append; returns its cancel function. */
  readonly onAppend: (wake: () => void) => () => void
  readonly commit: (group: string, offsets: ReadonlyArray<Committed>) => Effect.Effect<void, BusError>
  readonly committed: (
    group: string,
    topic: string,
    partition: number,
  ) => { readonly offset: number; readonly metadata: string } | undefined
  readonly groups: LocalGroups
}

/** One consumer's place in its group. */
export interface Member {
  /** The generation of the group's current assignment. */
  readonly generation: () => number
  /** Whether this member owns the group's partitions (the oldest member does; the others stand by). */
  readonly active: () => boolean
  /** Registers a one-shot wake-up for the next membership change; returns its cancel function. */
  readonly onChange: (wake: () => void) => () => void
  readonly leave: () => void
}

/** One-shot wake-ups for readers waiting on the next append (how both logs implement onAppend). */
export class Wakeups {
  private waiters: Array<() => void> = []

  /** Registers a one-shot wake-up for the next `wakeAll`; returns its cancel function. */
  add(wake: () => void): () => void {
    this.waiters.push(wake)
    return () => {
      this.waiters = this.waiters.filter((w) => w !== wake)
    }
  }

  wakeAll(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}

/**
 * Group membership in one process, as Kafka's coordinator does it for tally's fixed assignment: every
 * join and leave starts a new generation for every member; the oldest member owns the partitions.
 */
export class LocalGroups {
  private readonly groups = new Map<string, { generation: number; members: Array<number> }>()
  private readonly waiters = new Map<number, Array<() => void>>()
  private nextId = 0

  join(group: string): Member {
    const id = this.nextId++
    let g = this.groups.get(group)
    if (!g) this.groups.set(group, (g = { generation: 0, members: [] }))
    g.members.push(id)
    const state = g
    this.bump(group)
    return {
      generation: () => state.generation,
      active: () => state.members[0] === id,
      onChange: (wake) => {
        const list = this.waiters.get(id) ?? []
        list.push(wake)
        this.waiters.set(id, list)
        return () => {
          const now = this.waiters.get(id)
          if (now)
            this.waiters.set(
              id,
              now.filter((w) => w !== wake),
            )
        }
      },
      leave: () => {
        const i = state.members.indexOf(id)
        if (i < 0) return
        state.members.splice(i, 1)
        this.waiters.delete(id)
        this.bump(group)
      },
    }
  }

  /** Starts a new generation of `group` (a rebalance), as a lost session or a join would. */
  rebalance(group: string): void {
    this.bump(group)
  }

  /** Membership wake-ups registered and not yet fired or cancelled (one per waiting reader). */
  waiting(): number {
    let n = 0
    for (const list of this.waiters.values()) n += list.length
    return n
  }

  generation(group: string): number {
    return this.groups.get(group)?.generation ?? 0
  }

  private bump(group: string): void {
    const g = this.groups.get(group)
    if (!g) return
    g.generation++
    for (const id of g.members) {
      const list = this.waiters.get(id)
      if (!list) continue
      this.waiters.set(id, [])
      for (const wake of list) wake()
    }
  }
}
