/**
 * The aggregator's topology, in reading order: raw topics -> per-partition rollups -> summary topics,
 * then the commit. The source is a parameter so the deterministic harness can cut it anywhere (a crash:
 * no flush), while the service runs it on `Bus.consume` and flushes on a graceful stop.
 */
import { Clock, Effect, Metric, Schedule, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Batch, BusError, Committed, OutRecord } from "../bus/Records.ts"
import { rawTopic } from "../bus/Topics.ts"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { steps } from "../stream/Steps.ts"
import * as M from "./AggregatorMetrics.ts"
import { PartitionRollup } from "./Rollup.ts"

export interface TopologyOptions {
  readonly group: string
  /** TALLY_TOPIC_PREFIX */
  readonly prefix: string
  readonly types: ReadonlyArray<RolledUpType>
  readonly partitions: ReadonlyArray<number>
  readonly flushAfterMs: number
  /** Commit at most this often (processing time); 0 commits after every step. */
  readonly commitIntervalMs: number
}

/** The rollups of one worker, by `topic/partition`, created from the group's committed offsets. */
export class WorkerState {
  readonly rollups = new Map<string, PartitionRollup>()
  private readonly typeOf = new Map<string, RolledUpType>()
  private readonly committed: Map<string, Committed>
  private lastCommit = new Map<string, string>()
  lastCommitAt = Number.NEGATIVE_INFINITY

  private readonly prefix: string

  constructor(types: ReadonlyArray<RolledUpType>, committed: ReadonlyArray<Committed>, prefix = "") {
    this.prefix = prefix
    for (const t of types) this.typeOf.set(rawTopic(t, prefix), t)
    this.committed = new Map(committed.map((c) => [`${c.topic}/${c.partition}`, c]))
  }

  rollup(topic: string, partition: number): PartitionRollup {
    const id = `${topic}/${partition}`
    let r = this.rollups.get(id)
    if (!r) {
      r = new PartitionRollup(this.typeOf.get(topic)!, topic, partition, this.committed.get(id), this.prefix)
      this.rollups.set(id, r)
    }
    return r
  }

  /** Commit points that moved since the last commit. */
  changedCommits(): Array<Committed> {
    const out: Array<Committed> = []
    for (const r of this.rollups.values()) {
      const c = r.commitPoint()
      const id = `${r.topic}/${r.partition}`
      const fingerprint = `${c.offset}|${c.metadata}`
      if (this.lastCommit.get(id) === fingerprint) continue
      out.push({ topic: r.topic, partition: r.partition, offset: c.offset, metadata: c.metadata })
    }
    return out
  }

  committedNow(commits: ReadonlyArray<Committed>, nowMs: number): void {
    for (const c of commits) this.lastCommit.set(`${c.topic}/${c.partition}`, `${c.offset}|${c.metadata}`)
    this.lastCommitAt = nowMs
  }
}

export const rawTopics = (options: TopologyOptions) => options.types.map((t) => rawTopic(t, options.prefix))

export const initialState = Effect.fnUntraced(function* (options: TopologyOptions) {
  const bus = yield* Bus
  const committed = yield* bus.committed(options.group, rawTopics(options))
  return new WorkerState(
    options.types,
    committed.filter((c) => options.partitions.includes(c.partition)),
    options.prefix,
  )
})

/** Kafka outages stall the aggregator (backpressure) instead of failing it: it retries for as long as it takes. */
const untilAvailable = <A, R>(effect: Effect.Effect<A, BusError, R>): Effect.Effect<A, BusError, R> =>
  effect.pipe(
    Effect.tapError((e) =>
      e.reason === "Unavailable"
        ? Effect.logWarning(`aggregator waits for Kafka: ${e.message}`)
        : Effect.void,
    ),
    Effect.retry({
      while: (e) => e.reason === "Unavailable",
      schedule: Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")]),
    }),
  )

/** Produces the snapshots, then commits what they cover (never the other way round). */
const emitAndCommit = Effect.fnUntraced(function* (
  options: TopologyOptions,
  state: WorkerState,
  summaries: ReadonlyArray<OutRecord>,
  force: boolean,
) {
  const bus = yield* Bus
  if (summaries.length > 0) {
    yield* untilAvailable(bus.produce(summaries))
    const byTopic = new Map<string, number>()
    for (const s of summaries) byTopic.set(s.topic, (byTopic.get(s.topic) ?? 0) + 1)
    for (const [topic, n] of byTopic) yield* Metric.update(Metric.withAttributes(M.emissions, { topic }), n)
  }
  const now = yield* Clock.currentTimeMillis
  if (!force && summaries.length === 0 && now - state.lastCommitAt < options.commitIntervalMs) return
  const commits = state.changedCommits()
  if (commits.length === 0) return
  yield* untilAvailable(bus.commit(options.group, commits))
  state.committedNow(commits, now)
})

const report = Effect.fnUntraced(function* (state: WorkerState, batch: Batch) {
  const r = state.rollup(batch.topic, batch.partition)
  const attributes = { topic: batch.topic, partition: String(batch.partition) }
  yield* Metric.update(
    Metric.withAttributes(M.lag, attributes),
    Math.max(0, batch.highWatermark - r.nextOffset),
  )
  yield* Metric.update(Metric.withAttributes(M.openWindows, attributes), r.windows.openCount)
  yield* Metric.update(M.processed, batch.records.length)
  if (r.counters.duplicates > 0) {
    yield* Metric.update(M.duplicates, r.counters.duplicates)
    r.counters.duplicates = 0
  }
  for (const [key, n] of r.counters.late) {
    const [owner, processType, type, period] = key.split(":")
    yield* Metric.update(
      Metric.withAttributes(M.lateDropped, {
        owner: owner!,
        process_type: processType!,
        type: type!,
        period: period!,
      }),
      n,
    )
  }
  r.counters.late.clear()
})

/**
 * raw records -> rollups -> summary topics -> commits. When `stop` completes, every changed series is
 * emitted and committed while the consumer still runs, and the stream ends (a graceful stop); when the
 * source ends or the fiber is killed, nothing more happens (a crash: a restart replays from the commit).
 */
export const topology = (
  options: TopologyOptions,
  state: WorkerState,
  source: Stream.Stream<Batch, BusError>,
  stop: Effect.Effect<void> = Effect.never,
  tick: Stream.Stream<void> = Stream.tick(Math.max(100, Math.min(1000, options.flushAfterMs / 2))),
): Stream.Stream<void, BusError, Bus> =>
  steps(source, tick, stop).pipe(
    Stream.mapEffect((step) =>
      Effect.gen(function* () {
        if (step._tag === "Stop") return yield* flushAll(options, state)
        const now = yield* Clock.currentTimeMillis
        const summaries: Array<OutRecord> = []
        if (step._tag === "Item") {
          const r = state.rollup(step.item.topic, step.item.partition)
          for (const record of step.item.records) r.process(record, now)
          yield* report(state, step.item)
        }
        for (const r of state.rollups.values()) summaries.push(...r.collect(now, options.flushAfterMs))
        yield* emitAndCommit(options, state, summaries, false)
      }),
    ),
  )

/** A graceful stop: every changed series is emitted and the commit points committed. */
export const flushAll = Effect.fnUntraced(function* (options: TopologyOptions, state: WorkerState) {
  const now = yield* Clock.currentTimeMillis
  const summaries: Array<OutRecord> = []
  for (const r of state.rollups.values()) summaries.push(...r.collect(now, options.flushAfterMs, true))
  yield* emitAndCommit(options, state, summaries, true)
})
