/**
 * A consume stream on @platformatic/kafka: group membership for tally's fixed assignment (here), and
 * a fetch loop of our own (kafkaFetch.ts) that delivers each assignment (Assigned) and then the
 * batches fetched under it.
 *
 * Membership lives on the client's own timers: heartbeats go out every `heartbeatIntervalMs` whatever
 * the stream's consumer is doing, and a heartbeat that learns of a rebalance, an unknown member or an
 * illegal generation makes the client rejoin at once (a new member id when the old one is unknown).
 * Every completed join is a new generation and this stream delivers a new Assigned for it, with the
 * commits read afresh; commits are bound to the generation and member they were made under, so the
 * broker refuses those of an ended assignment and they fail "Rebalanced" without retries.
 */

import type { API, Connection } from "@platformatic/kafka"
import { Consumer, kGetApi, kGetConnection } from "@platformatic/kafka"
import { Cause, Effect, Queue, Stream } from "effect"
import {
  partitionId as id,
  notOwned,
  owns,
  rebalanced,
  type TopicPartition,
  validOffsets,
} from "./Contract.ts"
import { ASSIGNER_NAME, chooseOwner, decodeClaim, encodeClaim } from "./FixedAssigner.ts"
import { toBusError } from "./kafkaErrors.ts"
import { fetchLoop, patiently } from "./kafkaFetch.ts"
import { BusError, type Committed, type Delivery, type EndOffset, type Subscription } from "./Records.ts"

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
export interface Membership {
  readonly generation: number
  readonly memberId: string
  readonly partitions: ReadonlyArray<TopicPartition>
}

const callback = <A>(f: (cb: (error: Error | null, value?: A) => void) => void) =>
  new Promise<A>((resolve, reject) => f((error, value) => (error ? reject(error) : resolve(value as A))))

/** This process's place in one consumer group, kept by the client's heartbeat timers. */
export class GroupMember {
  readonly consumer: Consumer
  current: Membership | undefined
  failure: BusError | undefined
  /** Grows with every change of `current` or `failure`. */
  version = 0
  private readonly waiters = new Set<() => void>()
  private readonly since = Date.now()
  private owns = -1
  private closed = false
  readonly sub: Subscription

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

  /** The commit of an Assigned for `m`: checked here, then refused by the broker once `m` is over. */
  commitUnder(m: Membership): (offsets: ReadonlyArray<Committed>) => Effect.Effect<void, BusError> {
    return (offsets) =>
      Effect.suspend(() => {
        if (this.current !== m || m.partitions.length === 0)
          return Effect.fail(rebalanced(this.sub.group, m.generation))
        const invalid = validOffsets(offsets)
        if (invalid) return Effect.fail(invalid)
        const foreign = offsets.find((o) => !owns(m.partitions, o))
        if (foreign) return Effect.fail(notOwned(foreign, "assignment"))
        if (offsets.length === 0) return Effect.void
        return Effect.tryPromise({
          try: () => this.commit(m, offsets),
          catch: toBusError(`commit ${this.sub.group}`),
        })
      })
  }

  /** Commits under the generation and member id of `m`; the broker refuses them once `m` is over. */
  private async commit(m: Membership, offsets: ReadonlyArray<Committed>): Promise<void> {
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

  async close(): Promise<void> {
    this.closed = true
    this.changed()
    await this.consumer.close(true).catch(() => undefined)
  }
}

/** The longest a consume stream's end waits for its consumer to leave the group and close. */
export const CLOSE_WAIT_MS = 2000

export const consumeGroup =
  (config: GroupConfig) =>
  (sub: Subscription): Stream.Stream<Delivery, BusError> =>
    Stream.callback<Delivery, BusError>(
      Effect.fnUntraced(function* (queue) {
        yield* config.checkTopics(sub.topics)
        // Leaving the group is a request to the coordinator: one that does not answer (a node down or
        // out of reach) is not waited for past CLOSE_WAIT_MS, so a stop stays bounded (the broker ends
        // the membership at its session timeout anyway).
        const member = yield* Effect.acquireRelease(
          Effect.sync(() => new GroupMember(config, sub)),
          (m) => Effect.promise(() => m.close()).pipe(Effect.timeoutOption(CLOSE_WAIT_MS)),
        )
        yield* patiently(
          sub.group,
          Effect.tryPromise({ try: () => member.join(), catch: toBusError(`join ${sub.group}`) }),
        )
        // Whatever ends the loop but the stream's own end ends the stream: a BusError as it is, a
        // crash (a defect in the client or here) as Unavailable, so the stage ends instead of hanging.
        yield* Effect.forkScoped(
          fetchLoop(config, member, queue).pipe(
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
