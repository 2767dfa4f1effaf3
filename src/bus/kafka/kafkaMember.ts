/**
 * This process's place in one consumer group on @platformatic/kafka (tally's fixed assignment), kept by
 * the client's own timers; kafkaGroup.ts builds a consume stream from it and the fetch loop
 * (kafkaFetch.ts). Its own module so that both take it from here and the arrows run one way.
 */

import type { API, Connection } from "@platformatic/kafka"
import { Consumer, kGetApi, kGetConnection } from "@platformatic/kafka"
import { Effect } from "effect"
import {
  partitionId as id,
  notOwned,
  owns,
  rebalanced,
  type TopicPartition,
  validOffsets,
} from "../Contract.ts"
import { BusError, type Committed, type EndOffset, type Subscription } from "../Records.ts"
import { ASSIGNER_NAME, chooseOwner, decodeClaim, encodeClaim } from "./FixedAssigner.ts"
import { toBusError } from "./kafkaErrors.ts"

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
