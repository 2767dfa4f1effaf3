/**
 * The Bus over kafkajs, as tally shipped it until issue 12, kept only as the benchmark's peer
 * (bench/kafka.ts): idempotent acks=all producer behind the same group commit, fixed-partition
 * consumers. Its membership handling is the old one (one Assigned at start, heartbeats only between
 * batches); it fails the conformance suite's membership tests, which is one reason it was replaced.
 */
import { Effect, Queue, Schedule, Stream } from "effect"
import type {
  Batch as KafkajsBatch,
  Consumer as KafkajsConsumer,
  logCreator as KafkajslogCreator,
  Message as KafkajsMessage,
  PartitionAssigner as KafkajsPartitionAssigner,
} from "kafkajs"
import { splitByKey } from "../../src/bus/Contract.ts"
import { ASSIGNER_NAME, chooseOwner, decodeClaim, encodeClaim } from "../../src/bus/kafka/FixedAssigner.ts"
import { validOffsets } from "../../src/bus/local.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import {
  type Batch,
  type BusApi,
  BusError,
  type Committed,
  type Delivery,
  type OutRecord,
  type Subscription,
  type TopicMismatch,
} from "../../src/bus/Records.ts"
import { compareSpecs, type TopicSpec } from "../../src/bus/Topics.ts"
import kafkajs from "./patch.ts"

const { Kafka, logLevel, ConfigResourceTypes, AssignerProtocol } = kafkajs

/** FixedAssigner.ts's rule for kafkajs (no ownership claims: kafkajs announces one assignment only). */
const fixedAssigner =
  (partitions: ReadonlyArray<number>, since: number): KafkajsPartitionAssigner =>
  ({ cluster }) => ({
    name: ASSIGNER_NAME,
    version: 1,
    async assign({ members, topics }) {
      const assignment: Record<string, Array<number>> = {}
      for (const topic of topics) {
        const existing = new Set(cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId))
        assignment[topic] = partitions.filter((p) => existing.has(p))
      }
      const owner = chooseOwner(
        members.map((m) => ({
          memberId: m.memberId,
          ...decodeClaim(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData),
        })),
      )
      const encode = (a: Record<string, Array<number>>) =>
        AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: a, userData: Buffer.alloc(0) })
      return members.map(({ memberId }) => ({
        memberId,
        memberAssignment: encode(memberId === owner ? assignment : {}),
      }))
    },
    protocol({ topics }) {
      return {
        name: ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: encodeClaim({ since, owns: -1 }),
        }),
      }
    },
  })

export interface KafkaOptions {
  readonly brokers: ReadonlyArray<string>
  readonly clientId: string
  /** How long a produce may take before it counts as Unavailable (default 4 s: Logplex gives up after 5 s). */
  readonly produceTimeoutMs?: number
  /** kafkajs's own log level (default WARN). */
  readonly logLevel?: "NOTHING" | "ERROR" | "WARN" | "INFO" | "DEBUG"
}

const typeOf = (e: unknown): string | undefined => {
  for (let c: unknown = e, depth = 0; c && depth < 8; depth++) {
    const o = c as { type?: unknown; cause?: unknown; originalError?: unknown }
    if (typeof o.type === "string") return o.type
    c = o.cause ?? o.originalError
  }
  return undefined
}

const REJECTED = new Set([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "INVALID_PARTITIONS",
  "INVALID_REPLICATION_FACTOR",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_TIMESTAMP",
  "INVALID_RECORD",
  "OFFSET_METADATA_TOO_LARGE",
])

const REBALANCED = new Set([
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
  "FENCED_INSTANCE_ID",
])

/**
 * Unknown topics and invalid requests are Rejected; a lost membership or generation is Rebalanced;
 * everything else a client can hit is Unavailable.
 */
export const toBusError =
  (what: string) =>
  (e: unknown): BusError => {
    const type = typeOf(e)
    const message = `${what}: ${e instanceof Error ? e.message : String(e)}`
    return new BusError({
      reason:
        type && REJECTED.has(type) ? "Rejected" : type && REBALANCED.has(type) ? "Rebalanced" : "Unavailable",
      message,
      cause: e,
    })
  }

/** Connects once on first use; a failed attempt is forgotten so the next call tries again. */
const lazyConnect = (what: string, connect: () => Promise<void>) => {
  let connecting: Promise<void> | undefined
  return Effect.tryPromise({
    try: () =>
      (connecting ??= connect().catch((e) => {
        connecting = undefined
        throw e
      })),
    catch: toBusError(what),
  })
}

const backoff = Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")])
const unavailable = (e: BusError) => e.reason === "Unavailable"
/** Admin requests ride out a broker restart (about 30 s) before they report Unavailable. */
const retryBriefly = <A, R>(self: Effect.Effect<A, BusError, R>): Effect.Effect<A, BusError, R> =>
  Effect.retry(self, {
    while: unavailable,
    schedule: backoff.pipe(Schedule.upTo({ duration: "30 seconds" })),
  })

/**
 * kafkajs's log lines as one JSON line each on stderr. The idempotent producer warns that limited
 * retries "may invalidate EoS guarantees": tally limits them on purpose (a drain must get its 503 fast,
 * and a produce that is retried later carries the same Frame-Id, which later stages de-duplicate), so
 * that one warning is dropped.
 */
const logCreator: KafkajslogCreator =
  () =>
  ({ namespace, level, label, log }) => {
    if (log.message.startsWith("Limiting retries for the idempotent producer")) return
    const { message, timestamp, ...rest } = log
    process.stderr.write(
      `${JSON.stringify({ timestamp, level: label, logger: `kafkajs.${namespace}`, message, ...rest })}\n`,
    )
    void level
  }

export const makeKafkajsBus = Effect.fnUntraced(function* (options: KafkaOptions) {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel[options.logLevel ?? "WARN"],
    logCreator,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
  })
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // Leadership moves (new topics, broker restarts): about 3.5 s of retries, inside the 4 s produce timeout.
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 1000 },
    allowAutoTopicCreation: false,
    createPartitioner:
      () =>
      ({ partitionMetadata, message }) =>
        partitionFor(String(message.key), partitionMetadata.length),
  })
  const admin = kafka.admin()
  const producerReady = lazyConnect("connect producer", () => producer.connect())
  const adminReady = lazyConnect("connect admin", () => admin.connect())
  yield* Effect.addFinalizer(() =>
    Effect.promise(() => Promise.allSettled([producer.disconnect(), admin.disconnect()])),
  )
  const produceTimeout = options.produceTimeoutMs ?? 4000

  /**
   * Group commit: produce calls that arrive while a send is in flight are merged into the next
   * sendBatch, so concurrent drain requests share round trips to the broker. Each caller still learns
   * the outcome of the very sends that carried its records. A request is at most MAX_REQUEST_BYTES, so
   * that one partition's record batch stays under the broker's default message.max.bytes (1 MiB)
   * even when all records share a key; a larger produce call is split over several requests.
   */
  const waiting: Array<{
    readonly records: ReadonlyArray<OutRecord>
    readonly done: (error?: unknown) => void
  }> = []
  let sending = false
  const MAX_REQUEST_BYTES = 512 * 1024
  const sizeOf = (r: OutRecord) => r.value.byteLength + r.key.length + 24
  const sendWaiting = async () => {
    if (sending) return
    sending = true
    try {
      while (waiting.length > 0) {
        let bytes = 0
        let take = 0
        while (take < waiting.length) {
          let size = 0
          for (const r of waiting[take]!.records) size += sizeOf(r)
          if (take > 0 && bytes + size > MAX_REQUEST_BYTES) break
          bytes += size
          take++
        }
        const batch = waiting.splice(0, take)
        const byTopic = new Map<string, Array<KafkajsMessage>>()
        for (const { records } of batch)
          for (const r of records) {
            let list = byTopic.get(r.topic)
            if (!list) {
              list = []
              byTopic.set(r.topic, list)
            }
            list.push({
              key: r.key,
              value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
              timestamp: String(r.timestamp),
            })
          }
        const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
        try {
          await producer.sendBatch({ topicMessages, acks: -1, timeout: produceTimeout })
          for (const b of batch) b.done()
        } catch (e) {
          for (const b of batch) b.done(e)
        }
      }
    } finally {
      sending = false
    }
  }

  const produce = (records: ReadonlyArray<OutRecord>): Effect.Effect<void, BusError> => {
    if (records.length === 0) return Effect.void
    const pieces = splitByKey(records, MAX_REQUEST_BYTES, sizeOf)
    return producerReady.pipe(
      Effect.andThen(
        Effect.tryPromise({
          try: () =>
            Promise.all(
              pieces.map(
                (piece) =>
                  new Promise<void>((resolve, reject) => {
                    waiting.push({
                      records: piece,
                      done: (error) => (error === undefined ? resolve() : reject(error)),
                    })
                    void sendWaiting()
                  }),
              ),
            ),
          catch: toBusError("produce"),
        }),
      ),
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

  const checkTopics = Effect.fnUntraced(function* (topics: ReadonlyArray<string>) {
    yield* adminReady
    const existing = new Set(
      yield* Effect.tryPromise({ try: () => admin.listTopics(), catch: toBusError("list topics") }),
    )
    for (const topic of topics)
      if (!existing.has(topic))
        return yield* new BusError({
          reason: "Rejected",
          message: `topic ${topic} does not exist (run 'tally topics ensure')`,
        })
  })

  const consume = (sub: Subscription): Stream.Stream<Delivery, BusError> =>
    Stream.callback<Delivery, BusError>(
      Effect.fnUntraced(function* (queue) {
        const generation = 1
        const toBatch = (batch: KafkajsBatch): Batch => ({
          _tag: "Batch",
          generation,
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: Number(batch.highWatermark),
          records: batch.messages.map((m) => ({
            key: m.key ? m.key.toString() : "",
            value: m.value
              ? new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength)
              : new Uint8Array(),
            timestamp: Number(m.timestamp),
            offset: Number(m.offset),
          })),
        })
        const start = Effect.gen(function* () {
          yield* checkTopics(sub.topics)
          const consumer = kafka.consumer({
            groupId: sub.group,
            partitionAssigners: [fixedAssigner(sub.partitions, Date.now())],
            allowAutoTopicCreation: false,
            sessionTimeout: 10_000,
            rebalanceTimeout: 10_000,
            heartbeatInterval: 1000,
            maxWaitTimeInMs: 100,
            retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
          })
          consumer.on(consumer.events.CRASH, ({ payload }) => {
            if (!payload.restart)
              Effect.runFork(Queue.fail(queue, toBusError(`consumer ${sub.group} crashed`)(payload.error)))
          })
          const owned = new Set(sub.topics.flatMap((t) => sub.partitions.map((p) => `${t}/${p}`)))
          const commits = new Map(
            (yield* committed(sub.group, sub.topics)).map((c) => [`${c.topic}/${c.partition}`, c]),
          )
          yield* Queue.offer(queue, {
            _tag: "Assigned",
            generation,
            partitions: [...owned].map((id) => {
              const [topic, partition] = [
                id.slice(0, id.lastIndexOf("/")),
                Number(id.slice(id.lastIndexOf("/") + 1)),
              ]
              return { topic, partition, committed: commits.get(id) }
            }),
            commit: (offsets) => commitOffsets(consumer, sub.group, offsets),
          })
          yield* Effect.tryPromise({
            try: async () => {
              try {
                await consumer.connect()
                await consumer.subscribe({ topics: [...sub.topics], fromBeginning: true })
                await consumer.run({
                  autoCommit: false,
                  eachBatchAutoResolve: true,
                  partitionsConsumedConcurrently: 1,
                  eachBatch: async ({ batch }) => {
                    if (batch.messages.length > 0) await Effect.runPromise(Queue.offer(queue, toBatch(batch)))
                  },
                })
              } catch (e) {
                await consumer.disconnect().catch(() => undefined)
                throw e
              }
            },
            catch: toBusError(`start consumer ${sub.group}`),
          })
          return consumer
        })
        // A consumer waits out broker outages (as kafkajs does once it runs); a wrong request fails at once.
        yield* Effect.acquireRelease(
          start.pipe(
            Effect.tapError((e) =>
              unavailable(e)
                ? Effect.logWarning(`consumer ${sub.group} cannot start yet: ${e.message}`)
                : Effect.void,
            ),
            Effect.retry({ while: unavailable, schedule: backoff }),
          ),
          (consumer) =>
            Effect.gen(function* () {
              yield* Queue.shutdown(queue)
              yield* Effect.promise(() => consumer.disconnect().catch(() => undefined))
            }),
        )
      }),
      { bufferSize: sub.bufferBatches ?? 16, strategy: "suspend" },
    )

  const commitOffsets = Effect.fnUntraced(function* (
    consumer: KafkajsConsumer,
    group: string,
    offsets: ReadonlyArray<Committed>,
  ) {
    const invalid = validOffsets(offsets)
    if (invalid) return yield* invalid
    yield* Effect.tryPromise({
      try: () =>
        consumer.commitOffsets(
          offsets.map((o) => ({
            topic: o.topic,
            partition: o.partition,
            offset: String(o.offset),
            metadata: o.metadata,
          })),
        ),
      catch: toBusError(`commit ${group}`),
    })
  })

  const committed = Effect.fnUntraced(function* (group: string, topics: ReadonlyArray<string>) {
    yield* checkTopics(topics)
    const fetched = yield* Effect.tryPromise({
      try: () => admin.fetchOffsets({ groupId: group, topics: [...topics] }),
      catch: toBusError(`fetch offsets of ${group}`),
    })
    const out: Array<Committed> = []
    for (const t of fetched)
      for (const p of t.partitions) {
        const offset = Number(p.offset)
        if (offset >= 0)
          out.push({ topic: t.topic, partition: p.partition, offset, metadata: p.metadata ?? "" })
      }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  }, retryBriefly)

  /** One attempt; `created` collects what this ensure created across attempts (a retry sees them as existing). */
  const ensureOnce = Effect.fnUntraced(function* (specs: ReadonlyArray<TopicSpec>, created: Set<string>) {
    yield* adminReady
    const callUnavailable = <A>(what: string, f: () => Promise<A>) =>
      Effect.tryPromise({
        try: f,
        catch: (e) =>
          new BusError({ reason: "Unavailable", message: `${what}: ${(e as Error).message}`, cause: e }),
      })
    // Right after a creation, metadata and configs can lag: every failure here is transient.
    const call = callUnavailable
    const existingNames = new Set(yield* call("list topics", () => admin.listTopics()))
    const missing = specs.filter((s) => !existingNames.has(s.name))
    const present = specs.filter((s) => existingNames.has(s.name))
    // Creating races with other creators and leader elections: any failure here re-runs the whole
    // ensure (topics are listed again), through retryBriefly. kafkajs answers `false` when some topic
    // already existed when it (re)tried: another creator may have made it with other settings, so then
    // every topic's settings are compared, not only those that existed before.
    if (missing.length > 0) {
      for (const s of missing) created.add(s.name)
      const createdAll = yield* callUnavailable("create topics", () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: s.replicationFactor,
            configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
          })),
        }),
      )
      // Some already existed (another creator, or kafkajs retried its own request): let the metadata
      // settle and look again; the next attempt finds them all and compares them all.
      if (!createdAll)
        return yield* new BusError({
          reason: "Unavailable",
          message: "create topics: some topics already existed",
        })
    }
    // What this attempt created is ours and matches; every other topic is compared, including ones an
    // earlier attempt asked for, which someone else may have made first with other settings.
    const compare = present
    const mismatched: Array<TopicMismatch> = []
    if (compare.length > 0) {
      const metadata = yield* call("describe topics", () =>
        admin.fetchTopicMetadata({ topics: compare.map((s) => s.name) }),
      )
      const configs = yield* call("describe configs", () =>
        admin.describeConfigs({
          includeSynonyms: false,
          resources: compare.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })),
        }),
      )
      for (const spec of compare) {
        const partitions = metadata.topics.find((t) => t.name === spec.name)?.partitions.length ?? 0
        const entries = configs.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? []
        const config = Object.fromEntries(entries.map((e) => [e.configName, e.configValue]))
        const differs = compareSpecs(spec, partitions, config)
        // A topic this ensure asked for that differs was made by someone else first: not created here.
        if (differs.length > 0) created.delete(spec.name)
        mismatched.push(...differs)
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

  const health = adminReady.pipe(
    Effect.andThen(
      Effect.tryPromise({ try: () => admin.describeCluster(), catch: toBusError("describe cluster") }),
    ),
    Effect.timeoutOrElse({
      duration: "3 seconds",
      orElse: () =>
        Effect.fail(new BusError({ reason: "Unavailable", message: "the broker did not answer in 3 s" })),
    }),
    Effect.asVoid,
  )

  const endOffsets = Effect.fnUntraced(function* (topics: ReadonlyArray<string>) {
    yield* checkTopics(topics)
    const out: Array<{ topic: string; partition: number; offset: number }> = []
    for (const topic of topics) {
      const offsets = yield* Effect.tryPromise({
        try: () => admin.fetchTopicOffsets(topic),
        catch: toBusError(`end offsets of ${topic}`),
      })
      for (const o of offsets) out.push({ topic, partition: o.partition, offset: Number(o.high) })
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  }, retryBriefly)

  return { produce, consume, committed, endOffsets, ensureTopics, health } satisfies BusApi
})
