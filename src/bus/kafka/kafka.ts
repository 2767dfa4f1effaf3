/**
 * The Kafka Bus over @platformatic/kafka: an idempotent acks=all producer behind a group commit
 * (kafkaProducer.ts), fixed-partition consumers whose group membership lives on its own timers
 * (kafkaGroup.ts), commits with metadata through the raw OffsetCommit API, the offset queries here, and
 * the admin calls of `tally topics ensure` (kafkaTopics.ts).
 */
import { Admin, Producer } from "@platformatic/kafka"
import { Effect } from "effect"
import { type TopicPartition, unknownTopic } from "../Contract.ts"
import { type BusApi, BusError, type Committed, type EndOffset } from "../Records.ts"
import { call, retryBriefly } from "./kafkaErrors.ts"
import { CLOSE_WAIT_MS, consumeGroup } from "./kafkaGroup.ts"
import { groupCommit } from "./kafkaProducer.ts"
import { ensureTopicsWith } from "./kafkaTopics.ts"

export { splitByKey } from "../Contract.ts"

export interface KafkaOptions {
  readonly brokers: ReadonlyArray<string>
  readonly clientId: string
  /** How long a produce may take before it counts as Unavailable (default 4 s: Logplex gives up after 5 s). */
  readonly produceTimeoutMs?: number
  /** Accepted for compatibility; @platformatic/kafka logs nothing itself (its `debug` namespaces do). */
  readonly logLevel?: "NOTHING" | "ERROR" | "WARN" | "INFO" | "DEBUG"
  /** How long a produce call waits for others to share its request when none is in flight (default 2 ms). */
  readonly lingerMs?: number
  /** Consumer group session timeout (default 10 s) and heartbeat interval (default 1 s). */
  readonly sessionTimeoutMs?: number
  readonly heartbeatIntervalMs?: number
}

/** How long a topic's partition count is trusted by the offset queries (see knownCounts). */
const COUNTS_TTL_MS = 30_000

const byPartition = (a: TopicPartition, b: TopicPartition) =>
  a.topic.localeCompare(b.topic) || a.partition - b.partition

/** Partition indexes by topic, as the admin requests take them. */
const byTopic = (partitions: ReadonlyArray<TopicPartition>): Map<string, Array<number>> => {
  const out = new Map<string, Array<number>>()
  for (const p of partitions) out.set(p.topic, [...(out.get(p.topic) ?? []), p.partition])
  return out
}

/** Every partition of topics with these partition counts. */
const everyPartition = (counts: ReadonlyMap<string, number>): Array<TopicPartition> =>
  [...counts].flatMap(([topic, n]) => Array.from({ length: n }, (_, partition) => ({ topic, partition })))

export const makeKafkaBus = Effect.fnUntraced(function* (options: KafkaOptions) {
  const produceTimeout = options.produceTimeoutMs ?? 4000
  const base = {
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: 3000,
    autocreateTopics: false,
  }
  // Leadership moves (new topics, broker restarts): about 3.5 s of retries, inside the produce timeout.
  const producer = new Producer({
    ...base,
    idempotent: true,
    retries: 5,
    retryDelay: 300,
    // The broker's wait for the in-sync replicas, and the client's wait for its answer: a dead broker
    // frees the group commit's one in-flight send within the produce timeout.
    timeout: produceTimeout,
    requestTimeout: produceTimeout + 500,
  })
  const admin = new Admin({ ...base, timeout: 10_000, requestTimeout: 10_000, retries: 3, retryDelay: 300 })
  // Bounded, as every step of a stop (issue 22): a close that waits on a node that is down is left behind.
  yield* Effect.addFinalizer(() =>
    Effect.promise(() => Promise.allSettled([producer.close(true), admin.close()])).pipe(
      Effect.timeoutOption(CLOSE_WAIT_MS),
    ),
  )

  const produce = groupCommit(producer, { produceTimeoutMs: produceTimeout, lingerMs: options.lingerMs ?? 2 })

  /** The partition counts of existing topics; Rejected when one does not exist. */
  const partitionCounts = Effect.fnUntraced(function* (topics: ReadonlyArray<string>) {
    const existing = new Set(yield* call("list topics", () => admin.listTopics()))
    for (const topic of topics) if (!existing.has(topic)) return yield* unknownTopic(topic)
    if (topics.length === 0) return new Map<string, number>()
    const metadata = yield* call("describe topics", () =>
      admin.metadata({ topics: [...topics], forceUpdate: true }),
    )
    return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]))
  })

  /**
   * `partitionCounts` for the offset queries, kept for COUNTS_TTL_MS: the stall watchdog and the ingress's
   * backpressure ask every few seconds, and a count read afresh costs two admin requests (list, metadata).
   * Forgotten when a query fails (a topic deleted or recreated meanwhile is read afresh next time).
   */
  const counted = new Map<string, { readonly n: number; readonly at: number }>()
  const knownCounts = (topics: ReadonlyArray<string>) =>
    Effect.suspend(() => {
      const now = Date.now()
      const out = new Map<string, number>()
      for (const t of topics) {
        const c = counted.get(t)
        if (c === undefined || now - c.at > COUNTS_TTL_MS) return fresh(topics)
        out.set(t, c.n)
      }
      return Effect.succeed(out)
    })
  const fresh = (topics: ReadonlyArray<string>) =>
    partitionCounts(topics).pipe(
      Effect.tap((counts) =>
        Effect.sync(() => {
          const at = Date.now()
          for (const [t, n] of counts) counted.set(t, { n, at })
        }),
      ),
    )
  const forgetCounts = (topics: ReadonlyArray<string>) =>
    Effect.sync(() => {
      for (const t of topics) counted.delete(t)
    })

  /** Committed offsets with metadata of these partitions (left out when the group never committed). */
  const readCommits = (group: string, partitions: ReadonlyArray<TopicPartition>) =>
    Effect.gen(function* () {
      if (partitions.length === 0) return [] as Array<Committed>
      const answer = yield* call(`fetch offsets of ${group}`, () =>
        admin.listConsumerGroupOffsets({
          groups: [
            {
              groupId: group,
              topics: [...byTopic(partitions)].map(([name, partitionIndexes]) => ({
                name,
                partitionIndexes,
              })),
            },
          ],
        }),
      )
      const out: Array<Committed> = []
      for (const g of answer)
        for (const t of g.topics)
          for (const p of t.partitions)
            if (p.committedOffset >= 0n)
              out.push({
                topic: t.name,
                partition: p.partitionIndex,
                offset: Number(p.committedOffset),
                metadata: p.metadata ?? "",
              })
      return out.sort(byPartition)
    })

  const committed = Effect.fnUntraced(function* (group: string, topics: ReadonlyArray<string>) {
    return yield* readCommits(group, everyPartition(yield* knownCounts(topics))).pipe(
      Effect.tapError(() => forgetCounts(topics)),
    )
  }, retryBriefly)

  /** Offsets at `timestamp` (-1: the end, -2: the start) of these partitions. */
  const listOffsets = (partitions: ReadonlyArray<TopicPartition>, timestamp: bigint) =>
    Effect.gen(function* () {
      if (partitions.length === 0) return [] as Array<EndOffset>
      const answer = yield* call("list offsets", () =>
        admin.listOffsets({
          topics: [...byTopic(partitions)].map(([name, ps]) => ({
            name,
            partitions: ps.map((partitionIndex) => ({ partitionIndex, timestamp })),
          })),
        }),
      )
      return answer
        .flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: Number(p.offset) })),
        )
        .sort(byPartition)
    })

  const endOffsets = Effect.fnUntraced(function* (topics: ReadonlyArray<string>) {
    return yield* listOffsets(everyPartition(yield* knownCounts(topics)), -1n).pipe(
      Effect.tapError(() => forgetCounts(topics)),
    )
  }, retryBriefly)

  const health = call("describe cluster", () => admin.metadata({ topics: [], forceUpdate: true })).pipe(
    Effect.timeoutOrElse({
      duration: "3 seconds",
      orElse: () =>
        Effect.fail(new BusError({ reason: "Unavailable", message: "the broker did not answer in 3 s" })),
    }),
    Effect.asVoid,
  )

  const consume = consumeGroup({
    brokers: options.brokers,
    clientId: options.clientId,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
    checkTopics: (topics) => retryBriefly(partitionCounts(topics)),
    readCommits: (group, partitions) => retryBriefly(readCommits(group, partitions)),
    earliest: (partitions) => retryBriefly(listOffsets(partitions, -2n)),
  })

  return {
    produce,
    consume,
    committed,
    endOffsets,
    ensureTopics: ensureTopicsWith(admin),
    health,
  } satisfies BusApi
})
