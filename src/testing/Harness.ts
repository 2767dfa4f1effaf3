/**
 * The deterministic harness: runs any topology over an in-memory log (any partition count), under
 * whatever Clock the caller runs with (TestClock in tests), until a crash point — after any number of
 * batches, or dying inside the k-th commit (after its produce, before the commit lands) — or to the end
 * (everything readable processed, then a graceful stop). A crash ends the topology with no flush; the next
 * run resumes from what was committed, exactly as a restarted process would. `compare` holds the result
 * against an oracle computed by the caller's own code.
 */
import { Cause, Deferred, type Duration, Effect, Exit, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Bus } from "../bus/Bus.ts"
import { makeLocalBus } from "../bus/local.ts"
import { PartitionedLog } from "../bus/memory/MemoryLog.ts"
import type { BusError, Delivery, Subscription } from "../bus/Records.ts"
import { catalogue } from "../bus/Topics.ts"

/** A stage's topology, typed as the stage is (its output, its error union, what it needs). */
export type Topology<A, E, R> = (
  source: Stream.Stream<Delivery, BusError>,
  stop: Effect.Effect<void>,
) => Stream.Stream<A, E, R>

export type RunMode =
  | { readonly _tag: "CrashAfterBatches"; readonly batches: number }
  | { readonly _tag: "CrashInCommit"; readonly commit: number }
  | { readonly _tag: "ToTheEnd" }

export const crashAfter = (batches: number): RunMode => ({ _tag: "CrashAfterBatches", batches })
export const crashInCommit = (commit: number): RunMode => ({ _tag: "CrashInCommit", commit })
export const toTheEnd: RunMode = { _tag: "ToTheEnd" }

const KILLED = "harness: killed"

/** A fresh log with tally's topics (any partition count). */
export const makeLog = (partitions = 32, prefix = ""): PartitionedLog => {
  const log = new PartitionedLog()
  for (const spec of catalogue(1, partitions, prefix)) log.createTopic(spec)
  return log
}

/** A new log with the same records (same partitions, same offsets) of `topics`, and nothing else. */
export const copyTopics = (
  from: PartitionedLog,
  topics: ReadonlyArray<string>,
  partitions = 32,
  prefix = "",
) => {
  const log = makeLog(partitions, prefix)
  for (const topic of topics)
    for (let p = 0; p < partitions; p++)
      for (const r of from.readAll(topic, p)) log.appendOne(topic, r.key, r.value, r.timestamp)
  return log
}

/** The last offset a reader of `sub` starting at its commits can read, per `topic/partition`. */
const ends = (log: PartitionedLog, sub: Subscription, from: ReadonlyMap<string, number>) => {
  const out = new Map<string, number>()
  for (const topic of sub.topics)
    for (const p of sub.partitions) {
      const id = `${topic}/${p}`
      const records = log.read(topic, p, from.get(id) ?? 0, Number.MAX_SAFE_INTEGER).records
      if (records.length > 0) out.set(id, records[records.length - 1]!.offset)
    }
  return out
}

export interface RunOptions {
  /** Sees the n-th batch as it is delivered (e.g. to start a rebalance of the group there). */
  readonly onBatch?: (n: number) => void
  /**
   * Moves the TestClock on by this much whenever every fiber is waiting, so retries, backoff and
   * deadlines play out in virtual time (a topology that waits on the clock would otherwise never wake).
   */
  readonly clockStep?: Duration.Input
}

/** Runs `topology` on `log` as `sub`'s consumer until `mode`'s crash point, or to the end. */
export const runTopology = Effect.fnUntraced(function* <A, E, R>(
  log: PartitionedLog,
  sub: Subscription,
  topology: Topology<A, E, R>,
  mode: RunMode,
  options: RunOptions = {},
) {
  const onBatch = options.onBatch ?? (() => undefined)
  const bus = makeLocalBus(log)
  let commits = 0
  let delivered = 0
  let source: Stream.Stream<Delivery, BusError> = bus
    .consume({ bufferBatches: 1, ...sub })
    .pipe(Stream.tap((d) => Effect.sync(() => d._tag === "Batch" && onBatch(++delivered))))
  if (mode._tag === "CrashInCommit")
    source = Stream.map(source, (d) =>
      d._tag === "Assigned"
        ? { ...d, commit: (offsets) => (++commits >= mode.commit ? Effect.die(KILLED) : d.commit(offsets)) }
        : d,
    )
  const stop = yield* Deferred.make<void>()
  if (mode._tag === "CrashAfterBatches") {
    let batches = 0
    source = source.pipe(Stream.takeUntil((d) => d._tag === "Batch" && ++batches >= mode.batches))
  }
  if (mode._tag === "ToTheEnd") {
    let left = new Map<string, number>()
    const settle = () => (left.size === 0 ? Deferred.succeed(stop, undefined) : Effect.void)
    const delivered = (d: Delivery) => {
      if (d._tag === "Assigned")
        left = ends(
          log,
          sub,
          new Map(d.partitions.map((p) => [`${p.topic}/${p.partition}`, p.committed?.offset ?? 0])),
        )
      else if ((left.get(`${d.topic}/${d.partition}`) ?? -1) <= d.records[d.records.length - 1]!.offset)
        left.delete(`${d.topic}/${d.partition}`)
      return settle()
    }
    // Stop is signalled after the last delivery was let out, so it reaches the topology after it.
    source = Stream.flatMap(source, (d) =>
      Stream.concat(Stream.make(d), Stream.fromEffectDrain(delivered(d))),
    )
  }
  const clock = options.clockStep
    ? yield* Effect.forkChild(
        Effect.forever(Effect.andThen(Effect.yieldNow, TestClock.adjust(options.clockStep))),
      )
    : undefined
  const exit = yield* topology(source, Deferred.await(stop)).pipe(
    Stream.runDrain,
    Effect.provideService(Bus, bus),
    Effect.exit,
  )
  if (clock) yield* Fiber.interrupt(clock)
  if (Exit.isFailure(exit) && !(mode._tag === "CrashInCommit" && Cause.hasDies(exit.cause)))
    return yield* Effect.failCause(exit.cause)
})

export interface Differences {
  readonly missing: ReadonlyArray<string>
  readonly extra: ReadonlyArray<string>
  readonly different: ReadonlyArray<string>
}

/** Keys the oracle has that the result lacks, keys it should not have, and values that differ. */
export const compare = <A>(
  want: ReadonlyMap<string, A>,
  got: ReadonlyMap<string, A>,
  equal: (a: A, b: A) => boolean = (a, b) => JSON.stringify(a) === JSON.stringify(b),
): Differences => ({
  missing: [...want.keys()].filter((k) => !got.has(k)),
  extra: [...got.keys()].filter((k) => !want.has(k)),
  different: [...want].filter(([k, v]) => got.has(k) && !equal(v, got.get(k)!)).map(([k]) => k),
})

/** A consumer's records with their topic and partition, in delivery order (assignments left out). */
export const recordsOf = <E, R>(deliveries: Stream.Stream<Delivery, E, R>) =>
  Stream.flatMap(deliveries, (d) =>
    d._tag === "Batch"
      ? Stream.fromIterable(d.records.map((r) => ({ ...r, topic: d.topic, partition: d.partition })))
      : Stream.empty,
  )
