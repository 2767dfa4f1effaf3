/**
 * Offset commits for every stage: only what the downstream acknowledged is committed, with metadata,
 * under the assignment the work was read in. Two ways in:
 * - `points`: the stage computes its own commit points (the aggregator: the oldest open window's first
 *   offset, with resume metadata) and passes them on after the work they cover was acknowledged;
 * - `tracking` + `acknowledged`: the stage tracks every record it reads and acknowledges records as their
 *   writes succeed; per partition the commit point is the first record not yet acknowledged (sink,
 *   retrier, events).
 * Commits go out at most every `intervalMs` (on Ticks) and on Stop. A commit the broker cannot take now is
 * retried with backoff; a commit of an assignment that ended ("Rebalanced") is void — the next Assigned
 * resumes from what was committed, so nothing is lost or counted twice.
 */
import { Clock, Effect, Metric, Stream } from "effect"
import type { Assigned, Batch, BusError, Committed } from "../bus/Records.ts"
import { BACKOFF } from "../domain/Backoff.ts"
import type { Flow } from "./Flow.ts"

export interface Position {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** The key of a topic's partition in a map (the stage runner's and the commits'). */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export const commitsRebalanced = Metric.counter("tally_commits_void_total", {
  description:
    "Offset commits dropped because their assignment had ended (a rebalance); work resumes from the last commit",
  incremental: true,
})

/** The commit state of one stage: the current assignment, the newest points, what was committed. */
export class OffsetCommitter {
  private assigned: Assigned | undefined
  private readonly newest = new Map<string, Committed>()
  private readonly sent = new Map<string, Committed>()
  /** Partitions whose newest point differs from what was sent (what the next commit carries). */
  private readonly moved = new Set<string>()
  private lastAt = Number.NEGATIVE_INFINITY
  readonly intervalMs: number
  private readonly onCommitted: (points: ReadonlyArray<Committed>) => void

  /** `onCommitted` learns of every successful commit (after the broker took it). */
  constructor(intervalMs: number, onCommitted: (points: ReadonlyArray<Committed>) => void = () => undefined) {
    this.intervalMs = intervalMs
    this.onCommitted = onCommitted
  }

  get generation(): number {
    return this.assigned?.generation ?? -1
  }

  /** A new assignment: points of the previous one are void; what it owns was committed as `committed`. */
  assign(assigned: Assigned): void {
    this.assigned = assigned
    this.newest.clear()
    this.sent.clear()
    this.moved.clear()
    for (const p of assigned.partitions)
      if (p.committed) this.sent.set(partitionKey(p.topic, p.partition), p.committed)
  }

  /** The newest commit points of work read under `generation` (ignored when that assignment ended). */
  propose(points: ReadonlyArray<Committed>, generation: number): void {
    if (generation !== this.generation) return
    for (const p of points) {
      const key = partitionKey(p.topic, p.partition)
      this.newest.set(key, p)
      const sent = this.sent.get(key)
      if (sent !== undefined && same(sent, p)) this.moved.delete(key)
      else this.moved.add(key)
    }
  }

  /** Commits the points that moved, when `force`d or the interval has passed. */
  readonly commit = (force: boolean): Effect.Effect<void, BusError> => {
    const self = this
    return Effect.gen(function* () {
      const assigned = self.assigned
      if (!assigned) return
      const now = yield* Clock.currentTimeMillis
      if (!force && now - self.lastAt < self.intervalMs) return
      self.lastAt = now
      if (self.moved.size === 0) return
      const moved: Array<Committed> = []
      for (const key of self.moved) moved.push(self.newest.get(key)!)
      const done = yield* assigned.commit(moved).pipe(
        Effect.tapError((e) =>
          e.reason === "Unavailable"
            ? Effect.logWarning(`commit waits for the broker: ${e.message}`)
            : Effect.void,
        ),
        Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: BACKOFF }),
        Effect.as(true),
        Effect.catchIf(
          (e) => e.reason === "Rebalanced",
          (e) =>
            Effect.logInfo(`commit void: ${e.message}`).pipe(
              Effect.andThen(Metric.update(commitsRebalanced, 1)),
              Effect.as(false),
            ),
        ),
      )
      // Only the assignment the commit was made under may record it (a new one may have begun meanwhile).
      if (done && self.assigned === assigned) {
        for (const p of moved) {
          const key = partitionKey(p.topic, p.partition)
          self.sent.set(key, p)
          // A newer point proposed while this commit was in flight stays moved.
          if (self.newest.get(key) === p) self.moved.delete(key)
        }
        self.onCommitted(moved)
      }
    })
  }

  /** The step for stages that compute their own points: items are points, acknowledged upstream. */
  readonly points = <E, R>(
    self: Stream.Stream<Flow<ReadonlyArray<Committed>>, E, R>,
  ): Stream.Stream<Flow<ReadonlyArray<Committed>>, E | BusError, R> =>
    Stream.mapEffect(self, (f) =>
      Effect.as(
        Effect.suspend(() => {
          switch (f._tag) {
            case "Assigned":
              this.assign(f)
              return Effect.void
            case "Item":
              this.propose(f.value, f.generation)
              return this.commit(false)
            case "Tick":
              return this.commit(false)
            case "Stop":
              return this.commit(true)
          }
        }),
        f,
      ),
    )
}

const same = (a: Committed, b: Committed) => a.offset === b.offset && a.metadata === b.metadata

/** Records in flight per partition, in the order they were read; the commit point is the first not done. */
class InFlight {
  private readonly offsets: Array<number> = []
  private head = 0
  private readonly done = new Set<number>()
  private next = -1

  add(offset: number): void {
    this.offsets.push(offset)
    if (offset + 1 > this.next) this.next = offset + 1
  }

  finish(offset: number): void {
    this.done.add(offset)
    while (this.head < this.offsets.length && this.done.delete(this.offsets[this.head]!)) this.head++
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets.splice(0, this.head)
      this.head = 0
    }
  }

  /** The offset to commit: the first not done, or the next to read when everything is done. */
  point(): number | undefined {
    if (this.head < this.offsets.length) return this.offsets[this.head]
    return this.next < 0 ? undefined : this.next
  }
}

/**
 * The acknowledgement flavour: `track` is the step right after the source (every record read is in
 * flight), `acknowledged` the last step (its items are the positions whose writes succeeded).
 */
export const tracking = (intervalMs: number) => {
  const committer = new OffsetCommitter(intervalMs)
  let partitions = new Map<string, InFlight>()
  let generation = -1

  const track = <E, R>(self: Stream.Stream<Flow<Batch>, E, R>): Stream.Stream<Flow<Batch>, E, R> =>
    Stream.map(self, (f) => {
      if (f._tag === "Assigned") {
        partitions = new Map()
        generation = f.generation
      } else if (f._tag === "Item" && f.generation === generation) {
        const key = partitionKey(f.value.topic, f.value.partition)
        let p = partitions.get(key)
        if (!p) partitions.set(key, (p = new InFlight()))
        for (const r of f.value.records) p.add(r.offset)
      }
      return f
    })

  const acknowledged = <E, R>(
    self: Stream.Stream<Flow<ReadonlyArray<Position>>, E, R>,
  ): Stream.Stream<Flow<ReadonlyArray<Position>>, E | BusError, R> =>
    Stream.mapEffect(self, (f) =>
      Effect.as(
        Effect.suspend(() => {
          switch (f._tag) {
            case "Assigned":
              committer.assign(f)
              return Effect.void
            case "Item": {
              if (f.generation !== generation) return Effect.void
              for (const r of f.value) partitions.get(partitionKey(r.topic, r.partition))?.finish(r.offset)
              const points: Array<Committed> = []
              for (const [key, p] of partitions) {
                const offset = p.point()
                if (offset === undefined) continue
                const sep = key.indexOf("\u0000")
                points.push({
                  topic: key.slice(0, sep),
                  partition: Number(key.slice(sep + 1)),
                  offset,
                  metadata: "",
                })
              }
              committer.propose(points, f.generation)
              return committer.commit(false)
            }
            case "Tick":
              return committer.commit(false)
            case "Stop":
              return committer.commit(true)
          }
        }),
        f,
      ),
    )

  return { track, acknowledged, committer }
}
