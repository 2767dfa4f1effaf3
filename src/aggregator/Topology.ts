/**
 * The aggregator's topology, in reading order: raw topics -> per-partition rollups -> summary topics ->
 * commit. The source is a parameter, so the deterministic harness can cut it anywhere (a crash: nothing
 * is flushed), while the service runs it on `Bus.consume` and flushes on a graceful stop.
 */
import { Clock, Effect, Metric, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Assigned, Batch, BusError, Committed, Delivery, OutRecord } from "../bus/Records.ts"
import { rawTopic } from "../bus/Topics.ts"
import { BACKOFF } from "../domain/Backoff.ts"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import { controlled, type Flow, item, untilStopped } from "../stream/Flow.ts"
import { OffsetCommitter } from "../stream/OffsetCommitter.ts"
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

export const rawTopics = (options: TopologyOptions) => options.types.map((t) => rawTopic(t, options.prefix))

const fingerprint = (c: { readonly offset: number; readonly metadata: string } | undefined) =>
  c ? `${c.offset}|${c.metadata}` : ""

/** The rollups of one worker, by `topic/partition`, as of its current assignment. */
export class WorkerState {
  rollups = new Map<string, PartitionRollup>()
  /** What each rollup's partition last had committed (to tell whether another member moved it). */
  private readonly committedBy = new Map<string, string>()
  private readonly typeOf = new Map<string, RolledUpType>()
  private readonly prefix: string

  constructor(types: ReadonlyArray<RolledUpType>, prefix = "") {
    this.prefix = prefix
    for (const t of types) this.typeOf.set(rawTopic(t, prefix), t)
  }

  /**
   * A new assignment: a partition still owned keeps its rollup when its commit is the one this worker
   * made last (nobody else processed it meanwhile); every other owned partition resumes from its commit,
   * afresh; partitions no longer owned are dropped.
   */
  assign(assigned: Assigned): void {
    const next = new Map<string, PartitionRollup>()
    for (const p of assigned.partitions) {
      const id = `${p.topic}/${p.partition}`
      const mine = this.rollups.get(id)
      const kept = mine && this.committedBy.get(id) === fingerprint(p.committed)
      next.set(
        id,
        kept
          ? mine
          : new PartitionRollup(this.typeOf.get(p.topic)!, p.topic, p.partition, p.committed, this.prefix),
      )
      this.committedBy.set(id, fingerprint(p.committed))
    }
    this.rollups = next
  }

  /** Records a successful commit (see `assign`). */
  committed(points: ReadonlyArray<Committed>): void {
    for (const c of points) this.committedBy.set(`${c.topic}/${c.partition}`, fingerprint(c))
  }

  rollup(topic: string, partition: number): PartitionRollup | undefined {
    return this.rollups.get(`${topic}/${partition}`)
  }

  commitPoints(): Array<Committed> {
    const out: Array<Committed> = []
    for (const r of this.rollups.values())
      out.push({ topic: r.topic, partition: r.partition, ...r.commitPoint() })
    return out
  }
}

/** What one step of the rollups lets out: snapshots to produce, then the commit points they cover. */
interface Emission {
  readonly summaries: ReadonlyArray<OutRecord>
  readonly points: ReadonlyArray<Committed>
}

/** A partition's gauges, with their attributes made once (not per batch). */
interface Gauges {
  readonly lag: Metric.Gauge<number>
  readonly openWindows: Metric.Gauge<number>
  readonly drainBatches: Metric.Gauge<number>
}
const gauges = new WeakMap<PartitionRollup, Gauges>()
const gaugesOf = (r: PartitionRollup): Gauges => {
  let g = gauges.get(r)
  if (g === undefined) {
    const attributes = { topic: r.topic, partition: String(r.partition) }
    g = {
      lag: Metric.withAttributes(M.lag, attributes),
      openWindows: Metric.withAttributes(M.openWindows, attributes),
      drainBatches: Metric.withAttributes(M.drainBatches, attributes),
    }
    gauges.set(r, g)
  }
  return g
}

const report = Effect.fnUntraced(function* (r: PartitionRollup, batch: Batch) {
  const g = gaugesOf(r)
  yield* Metric.update(g.lag, Math.max(0, batch.highWatermark - r.nextOffset))
  yield* Metric.update(g.openWindows, r.windows.openCount)
  yield* Metric.update(g.drainBatches, r.batchCount)
  yield* Metric.update(M.processed, batch.records.length)
  if (r.counters.duplicates > 0) {
    yield* Metric.update(M.duplicates, r.counters.duplicates)
    r.counters.duplicates = 0
  }
  if (r.counters.late.size > 0) {
    for (const [key, n] of r.counters.late) {
      const [type, period] = key.split(":").slice(-2)
      yield* Metric.update(Metric.withAttributes(M.lateDropped, { type: type!, period: period! }), n)
    }
    r.counters.late.clear()
  }
})

/**
 * Raw batches into the rollups; lets out the snapshots due (flushAfter, closed windows; all on Stop)
 * with the commit points that hold once they are acknowledged. A batch touches its own partition only:
 * its rollup is collected and its commit point proposed (the others' points have not moved: a point moves
 * only when its partition processes records or closes windows, which only its records do). A Tick
 * flushes the windows due of every partition with changed windows, and lets nothing out when none has.
 */
export const rollUp =
  (state: WorkerState, flushAfterMs: number) =>
  <E, R>(self: Stream.Stream<Flow<Batch>, E, R>): Stream.Stream<Flow<Emission>, E, R> => {
    let generation = -1
    return Stream.mapEffect(self, (f) =>
      Effect.gen(function* (): Effect.fn.Return<ReadonlyArray<Flow<Emission>>> {
        if (f._tag === "Assigned") {
          state.assign(f)
          generation = f.generation
          return [f]
        }
        const now = yield* Clock.currentTimeMillis
        if (f._tag === "Item") {
          const r = state.rollup(f.value.topic, f.value.partition)
          // A batch fetched under an earlier assignment, or of a partition this one does not own.
          if (!r || f.generation !== generation) return []
          for (const record of f.value.records) r.process(record, now)
          yield* report(r, f.value)
          const summaries = r.collect(now, flushAfterMs)
          const points = [{ topic: r.topic, partition: r.partition, ...r.commitPoint() }]
          return [item<Emission>({ summaries, points }, generation)]
        }
        const stop = f._tag === "Stop"
        const summaries: Array<OutRecord> = []
        for (const r of state.rollups.values())
          if (stop || r.changed) for (const s of r.collect(now, flushAfterMs, stop)) summaries.push(s)
        if (!stop && summaries.length === 0) return [f]
        const emission = item<Emission>({ summaries, points: stop ? state.commitPoints() : [] }, generation)
        return [emission, f]
      }),
    ).pipe(Stream.flattenIterable)
  }

/** Kafka outages stall the aggregator (backpressure) instead of failing it: it waits as long as it takes. */
const untilAvailable = <A, R>(effect: Effect.Effect<A, BusError, R>): Effect.Effect<A, BusError, R> =>
  effect.pipe(
    Effect.tapError((e) =>
      e.reason === "Unavailable"
        ? Effect.logWarning(`aggregator waits for Kafka: ${e.message}`)
        : Effect.void,
    ),
    Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: BACKOFF }),
  )

/** Produces the snapshots; lets out the commit points they cover once Kafka acknowledged them. */
export const produceSnapshots = <E, R>(
  self: Stream.Stream<Flow<Emission>, E, R>,
): Stream.Stream<Flow<ReadonlyArray<Committed>>, E | BusError, R | Bus> =>
  Stream.mapEffect(self, (f) =>
    Effect.gen(function* () {
      if (f._tag !== "Item") return f
      const { summaries, points } = f.value
      if (summaries.length > 0) {
        const bus = yield* Bus
        yield* untilAvailable(bus.produce(summaries))
        const byTopic = new Map<string, number>()
        for (const s of summaries) byTopic.set(s.topic, (byTopic.get(s.topic) ?? 0) + 1)
        for (const [topic, n] of byTopic)
          yield* Metric.update(Metric.withAttributes(M.emissions, { topic }), n)
      }
      return item(points, f.generation)
    }),
  )

/**
 * raw records -> rollups -> summary topics -> commits. When `stop` completes, every changed series is
 * emitted and committed while the consumer still runs, and the stream ends (a graceful stop); when the
 * source ends or the fiber is killed, nothing more happens (a crash: a restart replays from the commit).
 */
export const topology = (
  options: TopologyOptions,
  source: Stream.Stream<Delivery, BusError>,
  stop: Effect.Effect<void> = Effect.never,
  tickEvery: number | "never" = Math.max(100, Math.min(1000, options.flushAfterMs / 2)),
): Stream.Stream<Flow<ReadonlyArray<Committed>>, BusError, Bus> => {
  const state = new WorkerState(options.types, options.prefix)
  const committer = new OffsetCommitter(options.commitIntervalMs, (points) => state.committed(points))
  return controlled(source, { tickEvery, stop }).pipe(
    rollUp(state, options.flushAfterMs),
    produceSnapshots,
    committer.points,
    untilStopped,
  )
}
