/**
 * The fetch loop of a Kafka consume stream (kafkaMember.ts keeps the membership; kafkaGroup.ts joins
 * the two): for every new assignment it reads the commits, delivers an Assigned, then fetches the
 * assigned partitions from those positions with raw Fetch requests to their leaders, one fetch ahead
 * of the batches delivered.
 */
import type { fetchV17 } from "@platformatic/kafka"
import { IS_CONTROL } from "@platformatic/kafka"
import { type Cause, Effect, Queue } from "effect"
import { BACKOFF } from "../../domain/Backoff.ts"
import { partitionId as id } from "../Contract.ts"
import type { Assigned, Batch, BusError, Delivery, InRecord } from "../Records.ts"
import { apiIds, toBusError } from "./kafkaErrors.ts"
import type { GroupConfig, GroupMember, Membership } from "./kafkaMember.ts"

/**
 * A fetch is answered once FETCH_MIN_BYTES are there or after FETCH_WAIT_MS: under load every fetch
 * brings a good batch instead of the few records of the last produce (the broker answers fewer, larger
 * fetches), at the price of at most FETCH_WAIT_MS more latency when little arrives. Each partition of a
 * fetch becomes a Batch that every step of a stage handles on its own: at 20,000 lines/s, 64 KiB and
 * 200 ms gave an aggregator worker ~12 fetches a second of 64 one- or two-record batches; 1 MiB and
 * 500 ms give 2 fetches a second of batches ten times larger (issue 23).
 */
const FETCH_WAIT_MS = 500
const FETCH_MIN_BYTES = 1024 * 1024
/**
 * After a fetch that brought nothing, the next one is a long poll: the broker answers as soon as any
 * record arrives (1 byte), else after IDLE_WAIT_MS. An idle consumer asks twice a second instead of five
 * times, each answer as prompt as before; the first fetch with records goes back to batching.
 */
const IDLE_WAIT_MS = 2000
const IDLE_MIN_BYTES = 1
const PARTITION_MAX_BYTES = 1024 * 1024
const FETCH_MAX_BYTES = 16 * 1024 * 1024
const EMPTY = new Uint8Array(0)
type FetchResponse = fetchV17.FetchResponse

const outageLog = (group: string, e: BusError) =>
  Effect.logWarning(`consumer ${group}: ${e.message}; retrying`)

/** Waits out broker outages (logging each failed attempt); anything else fails. */
export const patiently = <A>(group: string, self: Effect.Effect<A, BusError>) =>
  self.pipe(
    Effect.tapError((e) => (e.reason === "Unavailable" ? outageLog(group, e) : Effect.void)),
    Effect.retry({
      while: (e) => e.reason === "Unavailable",
      schedule: BACKOFF,
    }),
  )

/** Fetches once from every partition of `m` at `positions` (grouped by leader). */
const fetchOnce = async (
  member: GroupMember,
  m: Membership,
  positions: Map<string, number>,
  idle: boolean,
): Promise<Array<FetchResponse>> => {
  const metadata = await member.consumer.metadata({ topics: [...member.sub.topics] })
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
      member.consumer.fetch({
        node,
        topics: [...topics].map(([topicId, partitions]) => ({ topicId, partitions })) as never,
        maxWaitTime: idle ? IDLE_WAIT_MS : FETCH_WAIT_MS,
        minBytes: idle ? IDLE_MIN_BYTES : FETCH_MIN_BYTES,
        maxBytes: FETCH_MAX_BYTES,
      }),
    ),
  )
}

/** Names of the topics of a fetch response, by topic id. */
const topicNames = (member: GroupMember): Map<string, string> => {
  const names = new Map<string, string>()
  for (const [name, t] of member.consumer.currentMetadata?.topics ?? []) names.set(t.id, name)
  return names
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

/** The batches of fetch responses under `m`; moves `positions` past them. */
const toBatches = (
  member: GroupMember,
  m: Membership,
  fetched: ReadonlyArray<FetchResponse>,
  positions: Map<string, number>,
): Array<Batch> => {
  const names = topicNames(member)
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
  return batches
}

/** Delivers every assignment of `member` and the batches fetched under it, until the stream ends. */
export const fetchLoop = (
  config: GroupConfig,
  member: GroupMember,
  queue: Queue.Queue<Delivery, BusError | Cause.Done>,
) =>
  Effect.gen(function* () {
    const group = member.sub.group
    let delivered: Membership | undefined
    let positions = new Map<string, number>()
    /** Whether the last fetch brought no records (the next one is a long poll). */
    let idle = false
    /** A fetch under `m` from the current positions, started now; its outcome never rejects. */
    const fetchAhead = (m: Membership) => ({
      m,
      response: fetchOnce(member, m, new Map(positions), idle).then(
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
        const commits = yield* patiently(group, config.readCommits(group, m.partitions))
        const known = new Map(commits.map((c) => [id(c.topic, c.partition), c]))
        const starts = yield* patiently(
          group,
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
          commit: member.commitUnder(m),
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
          "ok" in r ? Effect.succeed(r.ok) : Effect.fail(toBusError(`fetch ${group}`)(r.error)),
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
            ? outageLog(group, e).pipe(Effect.andThen(Effect.sleep("1 second")), Effect.as([]))
            : Effect.fail(e)
        }),
      )
      if (member.current !== m) continue
      const batches = toBatches(member, m, fetched, positions)
      idle = batches.length === 0
      // One fetch ahead: the broker reads the next records while these are delivered. At most
      // one response waits here however long the downstream takes.
      if (fetched.length > 0) ahead = fetchAhead(m)
      for (const batch of batches) {
        if (member.current !== m) break
        yield* Queue.offer(queue, batch)
      }
    }
  })
