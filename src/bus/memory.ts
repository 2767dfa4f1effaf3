/** The in-memory Bus: the PartitionedLog behind the same contract as Kafka (see Bus.conformance). */
import { Effect, Queue, Stream } from "effect"
import type { PartitionedLog } from "./MemoryLog.ts"
import {
  type Batch,
  type BusApi,
  BusError,
  type Committed,
  type OutRecord,
  type Subscription,
  type TopicMismatch,
} from "./Records.ts"
import { compareSpecs, type TopicSpec } from "./Topics.ts"

const MAX_BATCH = 500

const unavailable = () =>
  new BusError({ reason: "Unavailable", message: "the in-memory broker is unavailable" })
const unknownTopic = (topic: string) =>
  new BusError({ reason: "Rejected", message: `topic ${topic} does not exist (run 'tally topics ensure')` })

export const makeMemoryBus = (log: PartitionedLog): BusApi => {
  /** Groups with a running consumer, counted (a group may consume in more than one stream). */
  const consuming = new Map<string, number>()

  const produce = Effect.fnUntraced(function* (records: ReadonlyArray<OutRecord>) {
    if (!log.available) return yield* unavailable()
    for (const r of records) if (!log.topic(r.topic)) return yield* unknownTopic(r.topic)
    for (const r of records) log.append(r.topic, r.key, r.value, r.timestamp)
    if (records.length > 0) log.notify()
  })

  const waitForAppend = Effect.callback<void>((resume) => {
    const cancel = log.onAppend(() => resume(Effect.void))
    return Effect.sync(cancel)
  })

  const consume = (sub: Subscription): Stream.Stream<Batch, BusError> =>
    Stream.callback<Batch, BusError>(
      Effect.fnUntraced(function* (queue) {
        for (const topic of sub.topics) if (!log.topic(topic)) return yield* unknownTopic(topic)
        consuming.set(sub.group, (consuming.get(sub.group) ?? 0) + 1)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            const n = (consuming.get(sub.group) ?? 1) - 1
            if (n === 0) consuming.delete(sub.group)
            else consuming.set(sub.group, n)
          }),
        )
        const positions = sub.topics.map((topic) =>
          sub.partitions.map((p) => log.committed(sub.group, topic, p)?.offset ?? 0),
        )
        const poll = Effect.gen(function* () {
          let delivered = false
          for (let t = 0; t < sub.topics.length && log.available; t++) {
            const topic = sub.topics[t]!
            for (let i = 0; i < sub.partitions.length; i++) {
              const partition = sub.partitions[i]!
              const { records, next } = log.read(
                topic,
                partition,
                positions[t]![i]!,
                sub.maxRecords ?? MAX_BATCH,
              )
              positions[t]![i] = next
              if (records.length === 0) continue
              delivered = true
              const highWatermark = log.highWatermark(topic, partition)
              yield* Queue.offer(queue, { topic, partition, records, highWatermark })
            }
          }
          // No yield happened since the last read when nothing was delivered, so no append can be missed.
          if (!delivered) yield* waitForAppend
        })
        yield* Effect.forkScoped(Effect.forever(poll))
      }),
      { bufferSize: sub.bufferBatches ?? 16, strategy: "suspend" },
    )

  const commit = Effect.fnUntraced(function* (group: string, offsets: ReadonlyArray<Committed>) {
    if (!consuming.has(group))
      return yield* new BusError({
        reason: "NotConsuming",
        message: `group ${group} has no running consumer here`,
      })
    if (!log.available) return yield* unavailable()
    for (const o of offsets) {
      if (!log.topic(o.topic)) return yield* unknownTopic(o.topic)
      if (!Number.isInteger(o.offset) || o.offset < 0)
        return yield* new BusError({
          reason: "Rejected",
          message: `invalid offset ${o.offset} for ${o.topic}`,
        })
    }
    for (const o of offsets) log.commit(group, o.topic, o.partition, o.offset, o.metadata)
  })

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

  return { produce, consume, commit, committed, ensureTopics, health }
}
