/**
 * The Kafka Bus over @platformatic/kafka: an idempotent acks=all producer behind a group commit,
 * fixed-partition consumers whose group membership lives on its own timers (kafkaGroup.ts), commits
 * with metadata through the raw OffsetCommit API, and the admin calls of `tally topics ensure`.
 */
import { Admin, ConfigResourceTypes, Producer } from "@platformatic/kafka"
import { Effect, Schedule } from "effect"
import { BACKOFF } from "../domain/Backoff.ts"
import { toBusError } from "./kafkaErrors.ts"
import { consumeGroup } from "./kafkaGroup.ts"
import { murmur2, partitionKey } from "./Partitioner.ts"
import {
  type BusApi,
  BusError,
  type Committed,
  type EndOffset,
  type OutRecord,
  type TopicMismatch,
} from "./Records.ts"
import { compareSpecs, type TopicSpec } from "./Topics.ts"

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

/**
 * Splits a produce call into pieces of about `max` bytes without ever splitting the records of one
 * (topic, key): each piece is one broker request, written atomically per partition, so a failed call
 * leaves every key's records of this call either all written or none. Later stages rely on that to
 * keep the first delivery of a retried batch per key (DESIGN.md semantics 10).
 */
export const splitByKey = (
  records: ReadonlyArray<OutRecord>,
  max: number,
  sizeOf: (r: OutRecord) => number,
): Array<Array<OutRecord>> => {
  let total = 0
  for (const r of records) total += sizeOf(r)
  if (total <= max) return [records as Array<OutRecord>]
  const groups = new Map<string, Array<OutRecord>>()
  for (const r of records) {
    const id = `${r.topic}\u0000${r.key}`
    const group = groups.get(id)
    if (group) group.push(r)
    else groups.set(id, [r])
  }
  const pieces: Array<Array<OutRecord>> = [[]]
  let bytes = 0
  for (const group of groups.values()) {
    let size = 0
    for (const r of group) size += sizeOf(r)
    if (bytes > 0 && bytes + size > max) {
      pieces.push([])
      bytes = 0
    }
    pieces[pieces.length - 1]!.push(...group)
    bytes += size
  }
  return pieces
}

const backoff = BACKOFF
const unavailable = (e: BusError) => e.reason === "Unavailable"
/** Admin requests ride out a broker restart (about 30 s) before they report Unavailable. */
export const retryBriefly = <A, R>(self: Effect.Effect<A, BusError, R>): Effect.Effect<A, BusError, R> =>
  Effect.retry(self, {
    while: unavailable,
    schedule: backoff.pipe(Schedule.upTo({ duration: "30 seconds" })),
  })

const call = <A>(what: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: toBusError(what) })

/**
 * The murmur2 hash of a key's partition key and the key's bytes, memoised (tally's keys repeat: raw
 * keys are one per app and process type).
 */
const keys = new Map<string, { readonly hash: number; readonly bytes: Buffer }>()
const encoder = new TextEncoder()
const keyInfo = (key: string) => {
  let k = keys.get(key)
  if (k === undefined) {
    if (keys.size > 50_000) keys.clear()
    k = { hash: murmur2(encoder.encode(partitionKey(key))) & 0x7fffffff, bytes: Buffer.from(key) }
    keys.set(key, k)
  }
  return k
}
const keyHash = (key: string): number => keyInfo(key).hash

const byPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }) =>
  a.topic.localeCompare(b.topic) || a.partition - b.partition

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
  yield* Effect.addFinalizer(() =>
    Effect.promise(() => Promise.allSettled([producer.close(true), admin.close()])),
  )

  /**
   * Group commit: produce calls that arrive while a send is in flight, or within LINGER_MS of the first
   * one waiting, are merged into the next send, so concurrent drain requests share round trips to the
   * broker (and the broker appends fewer, larger batches). Each caller still learns the outcome of the
   * very sends that carried its records. One partition's share of a request stays under
   * MAX_PARTITION_BYTES (its record batch under the broker's default message.max.bytes, 1 MiB), and a
   * request under MAX_REQUEST_BYTES; a produce call larger than a partition's share is split over
   * several requests without splitting any (topic, key) (splitByKey).
   */
  const waiting: Array<{
    readonly records: ReadonlyArray<OutRecord>
    readonly bytes: number
    readonly done: (error?: unknown) => void
  }> = []
  let waitingBytes = 0
  let sending = false
  let lingering: NodeJS.Timeout | undefined
  const LINGER_MS = options.lingerMs ?? 2
  const MAX_PARTITION_BYTES = 512 * 1024
  const MAX_REQUEST_BYTES = 1024 * 1024
  const sizeOf = (r: OutRecord) => r.value.byteLength + r.key.length + 24
  const partitionsOf = (topic: string) => producer.currentMetadata?.topics.get(topic)?.partitionsCount ?? 1
  /**
   * One send, given up (Unavailable) after the produce timeout even while the client still retries it
   * in the background, so a dead broker never holds the group commit's next sends behind it.
   */
  const sendWithin = (messages: Parameters<typeof producer.send>[0]["messages"]) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new BusError({
              reason: "Unavailable",
              message: `produce: no acknowledgement in ${produceTimeout} ms`,
            }),
          ),
        produceTimeout,
      )
      producer.send({ messages }).then(
        () => {
          clearTimeout(timer)
          resolve()
        },
        (e) => {
          clearTimeout(timer)
          reject(e)
        },
      )
    })

  const sendWaiting = async () => {
    if (sending) return
    sending = true
    try {
      while (waiting.length > 0) {
        // Take whole calls while every partition's share and the request stay under their limits.
        const shares = new Map<string, number>()
        const counts = new Map<string, number>()
        let bytes = 0
        let take = 0
        for (; take < waiting.length; take++) {
          const call = waiting[take]!
          if (take > 0 && bytes + call.bytes > MAX_REQUEST_BYTES) break
          let fits = true
          const added = new Map<string, number>()
          for (const r of call.records) {
            let n = counts.get(r.topic)
            if (n === undefined) counts.set(r.topic, (n = partitionsOf(r.topic)))
            const share = `${r.topic}\u0000${keyHash(r.key) % n}`
            added.set(share, (added.get(share) ?? 0) + sizeOf(r))
          }
          for (const [share, size] of added)
            if ((shares.get(share) ?? 0) + size > MAX_PARTITION_BYTES) fits = false
          if (take > 0 && !fits) break
          for (const [share, size] of added) shares.set(share, (shares.get(share) ?? 0) + size)
          bytes += call.bytes
        }
        const batch = waiting.splice(0, take)
        waitingBytes -= bytes
        const messages = []
        for (const { records } of batch)
          for (const r of records) {
            const key = keyInfo(r.key)
            messages.push({
              topic: r.topic,
              key: key.bytes,
              value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
              timestamp: BigInt(r.timestamp),
              // The producer takes this modulo the topic's partition count: partitionFor(key).
              partition: key.hash,
            })
          }
        try {
          await sendWithin(messages)
          for (const b of batch) b.done()
        } catch (e) {
          for (const b of batch) b.done(e)
        }
      }
    } finally {
      sending = false
    }
  }

  /** Sends soon: at once when a request's worth waits, else after the linger (or when the send in flight ends). */
  const schedule = () => {
    if (sending) return
    if (waitingBytes >= MAX_REQUEST_BYTES || LINGER_MS <= 0) {
      if (lingering) clearTimeout(lingering)
      lingering = undefined
      void sendWaiting()
    } else if (!lingering)
      lingering = setTimeout(() => {
        lingering = undefined
        void sendWaiting()
      }, LINGER_MS)
  }

  /**
   * The topics of a call are known to the producer before it joins a group commit, so one call naming
   * a topic that does not exist fails alone (Rejected) instead of failing the merged request. A topic
   * created a moment ago can be missing from the broker's metadata briefly: asked again for 2 s.
   */
  const knownTopics = (records: ReadonlyArray<OutRecord>) =>
    Effect.suspend(() => {
      const known = producer.currentMetadata?.topics
      const topics = [...new Set(records.map((r) => r.topic))]
      const missing = topics.filter((t) => !known?.has(t))
      if (missing.length === 0) return Effect.void
      return call("producer metadata", () => producer.metadata({ topics: missing, forceUpdate: true })).pipe(
        Effect.retry({
          while: (e) => e.reason === "Rejected",
          schedule: Schedule.spaced("200 millis").pipe(Schedule.upTo({ duration: "2 seconds" })),
        }),
        Effect.asVoid,
      )
    })

  const produce = (records: ReadonlyArray<OutRecord>): Effect.Effect<void, BusError> => {
    if (records.length === 0) return Effect.void
    const pieces = splitByKey(records, MAX_PARTITION_BYTES, sizeOf)
    return knownTopics(records)
      .pipe(
        Effect.andThen(
          Effect.tryPromise({
            try: () =>
              Promise.all(
                pieces.map(
                  (piece) =>
                    new Promise<void>((resolve, reject) => {
                      let bytes = 0
                      for (const r of piece) bytes += sizeOf(r)
                      waiting.push({
                        records: piece,
                        bytes,
                        done: (error) => (error === undefined ? resolve() : reject(error)),
                      })
                      waitingBytes += bytes
                      schedule()
                    }),
                ),
              ),
            catch: toBusError("produce"),
          }),
        ),
      )
      .pipe(
        Effect.timeoutOrElse({
          duration: produceTimeout + 1000,
          orElse: () =>
            Effect.fail(
              new BusError({
                reason: "Unavailable",
                message: `produce: no acknowledgement in ${produceTimeout} ms`,
              }),
            ),
        }),
        Effect.asVoid,
      )
  }

  /** The partition counts of existing topics; Rejected when one does not exist. */
  const partitionCounts = Effect.fnUntraced(function* (topics: ReadonlyArray<string>) {
    const existing = new Set(yield* call("list topics", () => admin.listTopics()))
    for (const topic of topics)
      if (!existing.has(topic))
        return yield* new BusError({
          reason: "Rejected",
          message: `topic ${topic} does not exist (run 'tally topics ensure')`,
        })
    if (topics.length === 0) return new Map<string, number>()
    const metadata = yield* call("describe topics", () =>
      admin.metadata({ topics: [...topics], forceUpdate: true }),
    )
    return new Map(topics.map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0]))
  })

  /** Committed offsets with metadata of these partitions (left out when the group never committed). */
  const readCommits = (group: string, partitions: ReadonlyArray<{ topic: string; partition: number }>) =>
    Effect.gen(function* () {
      if (partitions.length === 0) return [] as Array<Committed>
      const byTopic = new Map<string, Array<number>>()
      for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
      const answer = yield* call(`fetch offsets of ${group}`, () =>
        admin.listConsumerGroupOffsets({
          groups: [
            {
              groupId: group,
              topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
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
    const counts = yield* partitionCounts(topics)
    const partitions = [...counts].flatMap(([topic, n]) =>
      Array.from({ length: n }, (_, partition) => ({ topic, partition })),
    )
    return yield* readCommits(group, partitions)
  }, retryBriefly)

  /** Offsets at `timestamp` (-1: the end, -2: the start) of these partitions. */
  const listOffsets = (partitions: ReadonlyArray<{ topic: string; partition: number }>, timestamp: bigint) =>
    Effect.gen(function* () {
      if (partitions.length === 0) return [] as Array<EndOffset>
      const byTopic = new Map<string, Array<number>>()
      for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
      const answer = yield* call("list offsets", () =>
        admin.listOffsets({
          topics: [...byTopic].map(([name, ps]) => ({
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
    const counts = yield* partitionCounts(topics)
    const partitions = [...counts].flatMap(([topic, n]) =>
      Array.from({ length: n }, (_, partition) => ({ topic, partition })),
    )
    return yield* listOffsets(partitions, -1n)
  }, retryBriefly)

  /** Waits (up to 10 s) until every partition of these new topics has a leader, as producers need. */
  const awaitLeaders = (topics: ReadonlyArray<string>) =>
    call("describe new topics", () => admin.metadata({ topics: [...topics], forceUpdate: true })).pipe(
      Effect.flatMap((m) =>
        topics.every((t) => {
          const topic = m.topics.get(t)
          return topic?.partitions.every((p) => p && p.leader >= 0) ?? false
        })
          ? Effect.void
          : Effect.fail(new BusError({ reason: "Unavailable", message: "new topics have no leaders yet" })),
      ),
      Effect.retry({
        schedule: Schedule.spaced("100 millis").pipe(Schedule.upTo({ duration: "10 seconds" })),
      }),
    )

  /** One attempt; `created` collects what this ensure created across attempts (a retry sees them as existing). */
  const ensureOnce = Effect.fnUntraced(function* (specs: ReadonlyArray<TopicSpec>, created: Set<string>) {
    // Right after a creation, metadata and configs can lag: every failure here is transient.
    const transient = <A>(what: string, f: () => Promise<A>) =>
      Effect.tryPromise({
        try: f,
        catch: (e) => {
          const error = toBusError(what)(e)
          return new BusError({ reason: "Unavailable", message: error.message, cause: e })
        },
      })
    const existingNames = new Set(yield* transient("list topics", () => admin.listTopics()))
    const missing = specs.filter((s) => !existingNames.has(s.name))
    const present = specs.filter((s) => existingNames.has(s.name))
    // Creating races with other creators: a topic someone else made first fails its creation, and the
    // whole ensure runs again (topics listed again), through retryBriefly; the next attempt compares it.
    if (missing.length > 0) {
      const results = yield* Effect.forEach(
        missing,
        (s) =>
          Effect.tryPromise({
            try: () =>
              admin.createTopics({
                topics: [s.name],
                partitions: s.partitions,
                replicas: s.replicationFactor,
                configs: Object.entries(s.config).map(([name, value]) => ({ name, value })),
              }),
            catch: (e) => e,
          }).pipe(
            Effect.as(true),
            Effect.catch((e) => {
              const error = toBusError(`create topic ${s.name}`)(e)
              // Wrong settings are the caller's to fix; anything else (it already exists) re-runs the ensure.
              return error.reason === "Rejected" && !/TOPIC_ALREADY_EXISTS/.test(error.message)
                ? Effect.fail(error)
                : Effect.succeed(false)
            }),
          ),
        { concurrency: 8 },
      )
      const made = missing.filter((_, i) => results[i])
      for (const s of made) created.add(s.name)
      if (made.length > 0) yield* awaitLeaders(made.map((s) => s.name))
      if (made.length < missing.length)
        return yield* new BusError({
          reason: "Unavailable",
          message: "create topics: some topics already existed",
        })
    }
    // What this ensure created is ours and matches; every other topic is compared.
    const compare = present.filter((s) => !created.has(s.name))
    const mismatched: Array<TopicMismatch> = []
    if (compare.length > 0) {
      const metadata = yield* transient("describe topics", () =>
        admin.metadata({ topics: compare.map((s) => s.name), forceUpdate: true }),
      )
      const configs = yield* transient("describe configs", () =>
        admin.describeConfigs({
          includeSynonyms: false,
          resources: compare.map((s) => ({
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: s.name,
            configurationKeys: Object.keys(s.config),
          })),
        }),
      )
      for (const spec of compare) {
        const partitions = metadata.topics.get(spec.name)?.partitionsCount ?? 0
        const entries = configs.find((r) => r.resourceName === spec.name)?.configs ?? []
        const config = Object.fromEntries(entries.map((e) => [e.name, e.value ?? undefined]))
        mismatched.push(...compareSpecs(spec, partitions, config))
      }
    }
    return {
      created: specs.filter((s) => created.has(s.name)).map((s) => s.name),
      existing: specs.filter((s) => !created.has(s.name)).map((s) => s.name),
      mismatched,
    }
  })

  const ensureTopics = (specs: ReadonlyArray<TopicSpec>) =>
    Effect.suspend(() => {
      const created = new Set<string>()
      return retryBriefly(ensureOnce(specs, created))
    })

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

  return { produce, consume, committed, endOffsets, ensureTopics, health } satisfies BusApi
})
