/**
 * A consume stream on @platformatic/kafka: group membership for tally's fixed assignment, and a fetch
 * loop of our own that delivers each assignment (Assigned) and then the batches fetched under it.
 *
 * Membership lives on the client's own timers: heartbeats go out every `heartbeatIntervalMs` whatever
 * the stream's consumer is doing, and a heartbeat that learns of a rebalance, an unknown member or an
 * illegal generation makes the client rejoin at once (a new member id when the old one is unknown).
 * Every completed join is a new generation and this stream delivers a new Assigned for it, with the
 * commits read afresh; commits are bound to the generation and member they were made under, so the
 * broker refuses those of an ended assignment and they fail "Rebalanced" without retries.
 */

import type { API, Connection, fetchV17 } from "@platformatic/kafka"
import { Consumer, IS_CONTROL, kGetApi, kGetConnection } from "@platformatic/kafka"
import { Cause, Effect, Queue, Stream } from "effect"
import { BACKOFF } from "../domain/Backoff.ts"
import { ASSIGNER_NAME, chooseOwner, decodeClaim, encodeClaim } from "./FixedAssigner.ts"
import { apiIds, toBusError } from "./kafkaErrors.ts"
import { validOffsets } from "./local.ts"
import {
  type Assigned,
  type Batch,
  BusError,
  type Committed,
  type Delivery,
  type EndOffset,
  type InRecord,
  type Subscription,
} from "./Records.ts"

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export interface GroupConfig {
  readonly brokers: ReadonlyArray<string>
  readonly clientId: string
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  /** Rejected when a topic does not exist. */
  readonly checkTopics: (topics: ReadonlyArray<string>) => Effect.Effect<unknown, BusError>
  readonly readCommits: (
    group: string,
    partitions: ReadonlyArray<TopicPartition>,
  ) => Effect.Effect<ReadonlyArray<Committed>, BusError>
  readonly earliest: (
    partitions: ReadonlyArray<TopicPartition>,
  ) => Effect.Effect<ReadonlyArray<EndOffset>, BusError>
}

/** One completed join: the generation, our member id in it, and the partitions it gave us. */
interface Membership {
  readonly generation: number
  readonly memberId: string
  readonly partitions: ReadonlyArray<TopicPartition>
}

/**
 * A fetch is answered once FETCH_MIN_BYTES are there or after FETCH_WAIT_MS: under load every fetch
 * brings a good batch instead of the few records of the last produce (the broker answers fewer, larger
 * fetches), at the price of at most FETCH_WAIT_MS more latency when little arrives.
 */
const FETCH_WAIT_MS = 200
const FETCH_MIN_BYTES = 64 * 1024
const PARTITION_MAX_BYTES = 1024 * 1024
const FETCH_MAX_BYTES = 16 * 1024 * 1024
const EMPTY = new Uint8Array(0)
type FetchResponse = fetchV17.FetchResponse
const id = (topic: string, partition: number) => `${topic}\u0000${partition}`

const callback = <A>(f: (cb: (error: Error | null, value?: A) => void) => void) =>
  new Promise<A>((resolve, reject) => f((error, value) => (error ? reject(error) : resolve(value as A))))

/** This process's place in one consumer group, kept by the client's heartbeat timers. */
class GroupMember {
  readonly consumer: Consumer
  current: Membership | undefined
  failure: BusError | undefined
  /** Grows with every change of `current` or `failure`. */
  version = 0
  private readonly waiters = new Set<() => void>()
  private readonly since = Date.now()
  private owns = -1
  private closed = false
  private readonly sub: Subscription

  constructor(config: GroupConfig, sub: Subscription) {
    this.sub = sub
    const mine = new Set(sub.topics.flatMap((t) => sub.partitions.map((p) => id(t, p))))
    this.consumer = new Consumer({
      clientId: config.clientId,
      bootstrapBrokers: [...config.brokers],
      groupId: sub.group,
      connectTimeout: 3000,
      // A JoinGroup may wait up to the rebalance timeout on the broker before it answers.
      requestTimeout: config.sessionTimeoutMs + 5000,
      retries: 3,
      retryDelay: 500,
      autocreateTopics: false,
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      protocols: [{ name: ASSIGNER_NAME, version: 1 }],
      protocolsMetadata: () => encodeClaim({ since: this.since, owns: this.owns }),
      partitionAssigner: (_current, members, topics, metadata) => {
        const owner = chooseOwner(
          [...members.values()].map((m) => ({
            memberId: m.memberId,
            ...decodeClaim(typeof m.metadata === "string" ? Buffer.from(m.metadata) : m.metadata),
          })),
        )
        return [...members.keys()].map((memberId) => {
          const assignments = new Map<string, { topic: string; partitions: Array<number> }>()
          if (memberId === owner)
            for (const topic of topics) {
              const count = metadata.topics.get(topic)?.partitionsCount ?? 0
              assignments.set(topic, { topic, partitions: sub.partitions.filter((p) => p < count) })
            }
          return { memberId, assignments }
        })
      },
    })
    this.consumer.topics.trackAll(...sub.topics)
    this.consumer.on("consumer:group:join", (payload) => {
      // A sole member is given every partition of its topics by the client: keep only ours.
      const partitions = (payload.assignments ?? []).flatMap((a) =>
        a.partitions
          .filter((p) => mine.has(id(a.topic, p)))
          .map((partition) => ({ topic: a.topic, partition })),
      )
      const generation = payload.generationId ?? 0
      this.owns = partitions.length > 0 ? generation : -1
      this.current = { generation, memberId: payload.memberId, partitions }
      this.changed()
    })
    // A rejoin that failed for good (its retries spent): try again later, unless the request is wrong.
    this.consumer.on("error", (e: Error) => this.lost(e))
  }

  private changed() {
    this.version++
    const waiters = [...this.waiters]
    this.waiters.clear()
    for (const wake of waiters) wake()
  }

  private lost(e: unknown) {
    if (this.closed) return
    const error = toBusError(`group ${this.sub.group}`)(e)
    if (error.reason === "Rejected") this.failure = error
    else {
      this.current = undefined
      setTimeout(() => void this.join().catch((e) => this.lost(e)), 1000).unref()
    }
    this.changed()
  }

  join(): Promise<unknown> {
    return this.closed ? Promise.resolve() : this.consumer.joinGroup({})
  }

  /** Suspends until `version` moves past `seen`. */
  awaitChange(seen: number) {
    return Effect.callback<void>((resume) => {
      if (this.version !== seen) return resume(Effect.void)
      const wake = () => resume(Effect.void)
      this.waiters.add(wake)
      return Effect.sync(() => this.waiters.delete(wake))
    })
  }

  /** Commits under the generation and member id of `m`; the broker refuses them once `m` is over. */
  async commit(m: Membership, offsets: ReadonlyArray<Committed>): Promise<void> {
    const coordinator = await this.consumer.findGroupCoordinator()
    const metadata = await this.consumer.metadata({ topics: [...this.sub.topics] })
    const broker = metadata.brokers.get(coordinator)
    if (!broker)
      throw new BusError({ reason: "Unavailable", message: `coordinator ${coordinator} is unknown` })
    const connection = await callback<Connection>((cb) => this.consumer[kGetConnection](broker, cb))
    const api = await callback<API<Array<unknown>, unknown>>((cb) =>
      this.consumer[kGetApi]("OffsetCommit", cb),
    )
    const topics = new Map<string, Array<unknown>>()
    for (const o of offsets) {
      const list = topics.get(o.topic) ?? []
      list.push({
        partitionIndex: o.partition,
        committedOffset: BigInt(o.offset),
        committedLeaderEpoch: -1,
        committedMetadata: o.metadata,
      })
      topics.set(o.topic, list)
    }
    const request = [...topics].map(([name, partitions]) => ({ name, partitions }))
    await callback((cb) => api(connection, this.sub.group, m.generation, m.memberId, null, request, cb))
  }

  /** Fetches once from every partition of `m` at `positions` (grouped by leader). */
  async fetch(m: Membership, positions: Map<string, number>): Promise<Array<FetchResponse>> {
    const metadata = await this.consumer.metadata({ topics: [...this.sub.topics] })
    const byNode = new Map<number, Map<string, Array<unknown>>>()
    for (const { topic, partition } of m.partitions) {
      const t = metadata.topics.get(topic)
      const leader = t?.partitions[partition]?.leader
      if (!t || leader === undefined || leader < 0) continue
      const topics = byNode.get(leader) ?? new Map<string, Array<unknown>>()
      byNode.set(leader, topics)
      const list = topics.get(t.id) ?? []
      topics.set(t.id, list)
      list.push({
        partition,
        currentLeaderEpoch: -1,
        fetchOffset: BigInt(positions.get(id(topic, partition)) ?? 0),
        lastFetchedEpoch: -1,
        partitionMaxBytes: PARTITION_MAX_BYTES,
      })
    }
    return Promise.all(
      [...byNode].map(([node, topics]) =>
        this.consumer.fetch({
          node,
          topics: [...topics].map(([topicId, partitions]) => ({ topicId, partitions })) as never,
          maxWaitTime: FETCH_WAIT_MS,
          minBytes: FETCH_MIN_BYTES,
          maxBytes: FETCH_MAX_BYTES,
        }),
      ),
    )
  }

  /** Names of the topics of a fetch response, by topic id. */
  topicNames(): Map<string, string> {
    const names = new Map<string, string>()
    for (const [name, t] of this.consumer.currentMetadata?.topics ?? []) names.set(t.id, name)
    return names
  }

  async close(): Promise<void> {
    this.closed = true
    this.changed()
    await this.consumer.close(true).catch(() => undefined)
  }
}

/** The records of one fetched partition from `from` on, and where the next fetch starts. */
const toRecords = (
  part: FetchResponse["responses"][number]["partitions"][number],
  from: number,
): { records: Array<InRecord>; next: number } => {
  const records: Array<InRecord> = []
  let next = from
  for (const b of part.records ?? []) {
    const first = Number(b.firstOffset)
    if (first + b.lastOffsetDelta + 1 > next) next = first + b.lastOffsetDelta + 1
    if (b.attributes & IS_CONTROL) continue
    const t0 = Number(b.firstTimestamp)
    for (const r of b.records) {
      const offset = first + r.offsetDelta
      if (offset < from) continue
      records.push({
        key: r.key ? r.key.toString() : "",
        value: r.value ?? EMPTY,
        timestamp: t0 + Number(r.timestampDelta),
        offset,
      })
    }
  }
  return { records, next }
}

const outageLog = (group: string, e: BusError) =>
  Effect.logWarning(`consumer ${group}: ${e.message}; retrying`)

export const consumeGroup =
  (config: GroupConfig) =>
  (sub: Subscription): Stream.Stream<Delivery, BusError> =>
    Stream.callback<Delivery, BusError>(
      Effect.fnUntraced(function* (queue) {
        yield* config.checkTopics(sub.topics)
        const member = yield* Effect.acquireRelease(
          Effect.sync(() => new GroupMember(config, sub)),
          (m) => Effect.promise(() => m.close()),
        )
        const rebalanced = (generation: number) =>
          new BusError({
            reason: "Rebalanced",
            message: `group ${sub.group}: assignment ${generation} is over`,
          })
        const owns = (m: Membership, o: Committed) =>
          m.partitions.some((p) => p.topic === o.topic && p.partition === o.partition)

        const commitUnder =
          (m: Membership) =>
          (offsets: ReadonlyArray<Committed>): Effect.Effect<void, BusError> =>
            Effect.suspend(() => {
              if (member.current !== m || m.partitions.length === 0)
                return Effect.fail(rebalanced(m.generation))
              const invalid = validOffsets(offsets)
              if (invalid) return Effect.fail(invalid)
              const foreign = offsets.find((o) => !owns(m, o))
              if (foreign)
                return Effect.fail(
                  new BusError({
                    reason: "Rejected",
                    message: `${foreign.topic}/${foreign.partition} is not a partition of this assignment`,
                  }),
                )
              if (offsets.length === 0) return Effect.void
              return Effect.tryPromise({
                try: () => member.commit(m, offsets),
                catch: toBusError(`commit ${sub.group}`),
              })
            })

        /** Waits out broker outages (logging each failed attempt); anything else ends the stream. */
        const patiently = <A>(self: Effect.Effect<A, BusError>) =>
          self.pipe(
            Effect.tapError((e) => (e.reason === "Unavailable" ? outageLog(sub.group, e) : Effect.void)),
            Effect.retry({
              while: (e) => e.reason === "Unavailable",
              schedule: BACKOFF,
            }),
          )

        yield* patiently(
          Effect.tryPromise({ try: () => member.join(), catch: toBusError(`join ${sub.group}`) }),
        )

        const loop = Effect.gen(function* () {
          let delivered: Membership | undefined
          let positions = new Map<string, number>()
          /** A fetch under `m` from the current positions, started now; its outcome never rejects. */
          const fetchAhead = (m: Membership) => ({
            m,
            response: member.fetch(m, new Map(positions)).then(
              (ok) => ({ ok }),
              (error: unknown) => ({ error }),
            ),
          })
          let ahead: ReturnType<typeof fetchAhead> | undefined
          while (true) {
            const seen = member.version
            if (member.failure) return yield* member.failure
            const m = member.current
            if (!m) {
              yield* member.awaitChange(seen)
              continue
            }
            if (m !== delivered) {
              // A new assignment: its commits, read now, are where fetching resumes.
              const commits = yield* patiently(config.readCommits(sub.group, m.partitions))
              const known = new Map(commits.map((c) => [id(c.topic, c.partition), c]))
              const starts = yield* patiently(
                config.earliest(m.partitions.filter((p) => !known.has(id(p.topic, p.partition)))),
              )
              if (member.current !== m) continue
              positions = new Map(starts.map((s) => [id(s.topic, s.partition), s.offset]))
              for (const c of commits) positions.set(id(c.topic, c.partition), c.offset)
              delivered = m
              const assigned: Assigned = {
                _tag: "Assigned",
                generation: m.generation,
                partitions: m.partitions.map(({ topic, partition }) => ({
                  topic,
                  partition,
                  committed: known.get(id(topic, partition)),
                })),
                commit: commitUnder(m),
              }
              yield* Queue.offer(queue, assigned)
              continue
            }
            if (m.partitions.length === 0) {
              yield* member.awaitChange(seen)
              continue
            }
            // The fetch started ahead (while the previous batches were delivered) if it is this
            // assignment's, else a new one.
            const fetch = ahead?.m === m ? ahead : fetchAhead(m)
            ahead = undefined
            const fetched = yield* Effect.promise(() => fetch.response).pipe(
              Effect.flatMap((r) =>
                "ok" in r ? Effect.succeed(r.ok) : Effect.fail(toBusError(`fetch ${sub.group}`)(r.error)),
              ),
              Effect.catch((e) => {
                if (member.current !== m) return Effect.succeed([])
                if (apiIds(e.cause).has("OFFSET_OUT_OF_RANGE"))
                  // Retention removed what a commit points at: resume at the log's start.
                  return config.earliest(m.partitions).pipe(
                    Effect.map((starts) => {
                      for (const s of starts)
                        if ((positions.get(id(s.topic, s.partition)) ?? 0) < s.offset)
                          positions.set(id(s.topic, s.partition), s.offset)
                      return []
                    }),
                  )
                return e.reason === "Unavailable"
                  ? outageLog(sub.group, e).pipe(Effect.andThen(Effect.sleep("1 second")), Effect.as([]))
                  : Effect.fail(e)
              }),
            )
            if (member.current !== m) continue
            const names = member.topicNames()
            const batches: Array<Batch> = []
            for (const response of fetched)
              for (const t of response.responses) {
                const topic = names.get(t.topicId) ?? t.topicId
                for (const part of t.partitions) {
                  const key = id(topic, part.partitionIndex)
                  const from = positions.get(key)
                  if (from === undefined) continue
                  const { records, next } = toRecords(part, from)
                  positions.set(key, next)
                  if (records.length === 0) continue
                  batches.push({
                    _tag: "Batch",
                    topic,
                    partition: part.partitionIndex,
                    records,
                    highWatermark: Number(part.highWatermark),
                    generation: m.generation,
                  })
                }
              }
            // One fetch ahead: the broker reads the next records while these are delivered. At most
            // one response waits here however long the downstream takes.
            if (fetched.length > 0) ahead = fetchAhead(m)
            for (const batch of batches) {
              if (member.current !== m) break
              yield* Queue.offer(queue, batch)
            }
          }
        })
        // Whatever ends the loop but the stream's own end ends the stream: a BusError as it is, a
        // crash (a defect in the client or here) as Unavailable, so the stage ends instead of hanging.
        yield* Effect.forkScoped(
          loop.pipe(
            Effect.catchCause((cause) =>
              Cause.hasInterruptsOnly(cause)
                ? Effect.void
                : Queue.fail(
                    queue,
                    Cause.squash(cause) instanceof BusError
                      ? (Cause.squash(cause) as BusError)
                      : new BusError({
                          reason: "Unavailable",
                          message: `consumer ${sub.group} crashed: ${Cause.pretty(cause)}`,
                          cause: Cause.squash(cause),
                        }),
                  ),
            ),
          ),
        )
      }),
      { bufferSize: sub.bufferBatches ?? 16, strategy: "suspend" },
    )
