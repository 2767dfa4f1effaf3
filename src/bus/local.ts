/**
 * The Bus over an in-process log (LocalLog: the memory log for tests, the durable embedded log for
 * `npm start`), behind the same contract as Kafka (test/bus/Bus.conformance.ts): assignments with
 * generations, the oldest group member owns the partitions, commits of an ended assignment are void.
 */
import { Effect, Queue, Stream } from "effect"
import { notOwned, owns, rebalanced, unknownTopic, validOffsets } from "./Contract.ts"
import type { LocalLog, Member } from "./LocalLog.ts"
import {
  type Assigned,
  type BusApi,
  BusError,
  type Committed,
  type Delivery,
  type OutRecord,
  type Owned,
  type Subscription,
  type TopicMismatch,
} from "./Records.ts"
import { compareSpecs, type TopicSpec } from "./Topics.ts"

/**
 * Records per partition in one round over the owned partitions, about what a Kafka fetch brings (1 MiB a
 * partition). A round gives each partition at most this much, so it bounds the rate a busy partition can
 * be served at to MAX_BATCH per round: at 500, two apps hashed to one raw partition at 60,000 lines/s fell
 * 540,000 records behind in 8 minutes while the others kept up, and their lag set off backpressure.
 */
const MAX_BATCH = 4096

const unavailable = () =>
  new BusError({ reason: "Unavailable", message: "the in-process log is unavailable" })

/** Also the kafkajs peer's (bench/kafkajs/bus.ts); the check is Contract.ts's. */
export { validOffsets } from "./Contract.ts"

/**
 * Suspends until the next append or membership change (whichever comes first). Whichever fires cancels
 * both registrations: a callback's cleanup runs only when the fiber is interrupted, and a registration
 * left behind on every wait (the membership one, which nothing clears in steady state) grew by ~120 a
 * second under load, for as long as the process ran.
 */
const waitForChange = (log: LocalLog, member: Member) =>
  Effect.callback<void>((resume) => {
    const cancel = () => {
      cancelAppend()
      cancelChange()
    }
    const wake = () => {
      cancel()
      resume(Effect.void)
    }
    const cancelAppend = log.onAppend(wake)
    const cancelChange = member.onChange(wake)
    return Effect.sync(cancel)
  })

export const makeLocalBus = (log: LocalLog): BusApi => {
  const produce = (records: ReadonlyArray<OutRecord>) =>
    Effect.suspend(() => {
      if (!log.available) return Effect.fail(unavailable())
      for (const r of records) if (!log.topic(r.topic)) return Effect.fail(unknownTopic(r.topic))
      return log.append(records)
    })

  const consume = (sub: Subscription): Stream.Stream<Delivery, BusError> =>
    Stream.callback<Delivery, BusError>(
      Effect.fnUntraced(function* (queue) {
        for (const topic of sub.topics) if (!log.topic(topic)) return yield* unknownTopic(topic)
        const member = log.groups.join(sub.group)
        yield* Effect.addFinalizer(() => Effect.sync(member.leave))
        const owned = sub.topics.flatMap((topic) => sub.partitions.map((partition) => ({ topic, partition })))
        let generation = -1
        let positions: Array<number> = []

        const assign = Effect.gen(function* () {
          generation = member.generation()
          const mine = member.active() ? owned : []
          const partitions: Array<Owned> = mine.map(({ topic, partition }) => {
            const c = log.committed(sub.group, topic, partition)
            return { topic, partition, committed: c && { topic, partition, ...c } }
          })
          positions = partitions.map((p) => p.committed?.offset ?? 0)
          const assignment = generation
          const assigned: Assigned = {
            _tag: "Assigned",
            generation,
            partitions,
            commit: (offsets) =>
              Effect.suspend(() => {
                if (member.generation() !== assignment || !member.active())
                  return Effect.fail(rebalanced(sub.group, assignment))
                if (!log.available) return Effect.fail(unavailable())
                for (const o of offsets) {
                  if (!log.topic(o.topic)) return Effect.fail(unknownTopic(o.topic))
                  if (!owns(owned, o)) return Effect.fail(notOwned(o, "subscription"))
                }
                const invalid = validOffsets(offsets)
                return invalid ? Effect.fail(invalid) : log.commit(sub.group, offsets)
              }),
          }
          yield* Queue.offer(queue, assigned)
        })

        const poll = Effect.gen(function* () {
          if (member.generation() !== generation) return yield* assign
          let delivered = false
          if (member.active())
            for (let i = 0; i < owned.length && log.available; i++) {
              const { topic, partition } = owned[i]!
              const { records, next } = log.read(topic, partition, positions[i]!, sub.maxRecords ?? MAX_BATCH)
              positions[i] = next
              if (records.length === 0) continue
              delivered = true
              const highWatermark = log.highWatermark(topic, partition)
              yield* Queue.offer(queue, {
                _tag: "Batch",
                topic,
                partition,
                records,
                highWatermark,
                generation,
              })
              // A new assignment voids the rest of this round (its positions are reset).
              if (member.generation() !== generation) return
            }
          // Nothing yielded since the last read when nothing was delivered, so no change can be missed.
          if (!delivered && member.generation() === generation) yield* waitForChange(log, member)
        })
        yield* Effect.forkScoped(Effect.forever(poll))
      }),
      { bufferSize: sub.bufferBatches ?? 16, strategy: "suspend" },
    )

  const committed = Effect.fnUntraced(function* (group: string, topics: ReadonlyArray<string>) {
    if (!log.available) return yield* unavailable()
    const out: Array<Committed> = []
    for (const topic of topics) {
      const spec = log.topic(topic)
      if (!spec) return yield* unknownTopic(topic)
      for (let partition = 0; partition < spec.partitions; partition++) {
        const c = log.committed(group, topic, partition)
        if (c) out.push({ topic, partition, offset: c.offset, metadata: c.metadata })
      }
    }
    return out
  })

  const endOffsets = Effect.fnUntraced(function* (topics: ReadonlyArray<string>) {
    if (!log.available) return yield* unavailable()
    const out: Array<{ topic: string; partition: number; offset: number }> = []
    for (const topic of topics) {
      const spec = log.topic(topic)
      if (!spec) return yield* unknownTopic(topic)
      for (let partition = 0; partition < spec.partitions; partition++)
        out.push({ topic, partition, offset: log.highWatermark(topic, partition) })
    }
    return out
  })

  const ensureTopics = Effect.fnUntraced(function* (specs: ReadonlyArray<TopicSpec>) {
    if (!log.available) return yield* unavailable()
    const created: Array<string> = []
    const existing: Array<string> = []
    const mismatched: Array<TopicMismatch> = []
    for (const spec of specs) {
      const have = log.topic(spec.name)
      if (!have) {
        log.createTopic(spec)
        created.push(spec.name)
        continue
      }
      existing.push(spec.name)
      mismatched.push(...compareSpecs(spec, have.partitions, have.config))
    }
    return { created, existing, mismatched }
  })

  const health = Effect.suspend(() => (log.available ? Effect.void : Effect.fail(unavailable())))

  return { produce, consume, committed, endOffsets, ensureTopics, health }
}
