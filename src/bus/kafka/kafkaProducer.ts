/**
 * The Kafka Bus's produce: a group commit over one idempotent acks=all @platformatic/kafka Producer.
 *
 * Produce calls that arrive while a send is in flight, or within the linger of the first one waiting,
 * are merged into the next send, so concurrent drain requests share round trips to the broker (and the
 * broker appends fewer, larger batches). Each caller still learns the outcome of the very sends that
 * carried its records. One partition's share of a request stays under MAX_PARTITION_BYTES (its record
 * batch under the broker's default message.max.bytes, 1 MiB), and a request under MAX_REQUEST_BYTES; a
 * produce call larger than a partition's share is split over several requests without splitting any
 * (topic, key) (splitByKey).
 */
import type { Producer } from "@platformatic/kafka"
import { Effect, Schedule } from "effect"
import { keyInfo, splitByKey } from "../Contract.ts"
import { BusError, type OutRecord } from "../Records.ts"
import { call, toBusError } from "./kafkaErrors.ts"

export interface GroupCommitOptions {
  /** How long a produce may take before it counts as Unavailable. */
  readonly produceTimeoutMs: number
  /** How long a produce call waits for others to share its request when none is in flight. */
  readonly lingerMs: number
}

const MAX_PARTITION_BYTES = 512 * 1024
const MAX_REQUEST_BYTES = 1024 * 1024
/** Bytes queued behind a send that is slow to end; further calls are answered Unavailable at once. */
const MAX_WAITING_BYTES = 64 * 1024 * 1024
const sizeOf = (r: OutRecord) => r.value.byteLength + r.key.length + 24

interface Waiting {
  readonly records: ReadonlyArray<OutRecord>
  readonly bytes: number
  /** When it was queued: a call whose answer is already overdue is not sent. */
  readonly atMs: number
  readonly done: (error?: unknown) => void
}

/** The produce of a Bus over `producer`: succeeds once the broker acknowledged every record. */
export const groupCommit = (
  producer: Producer,
  options: GroupCommitOptions,
): ((records: ReadonlyArray<OutRecord>) => Effect.Effect<void, BusError>) => {
  const produceTimeout = options.produceTimeoutMs
  const LINGER_MS = options.lingerMs
  const noAcknowledgement = () =>
    new BusError({ reason: "Unavailable", message: `produce: no acknowledgement in ${produceTimeout} ms` })
  const waiting: Array<Waiting> = []
  let waitingBytes = 0
  let sending = false
  let lingering: NodeJS.Timeout | undefined
  const partitionsOf = (topic: string) => producer.currentMetadata?.topics.get(topic)?.partitionsCount ?? 1

  /**
   * One send: its callers are answered Unavailable after the produce timeout even while the client still
   * retries it, but the next send waits until this one is over (`settled`). Two sends in flight at once
   * let a retried one land after a later one, and the client's recovery from the broken sequence resends
   * records under a new producer id that the first attempt had already appended: the same records twice
   * in the log (test/chaos/cluster.test.ts).
   */
  const sendWithin = (messages: Parameters<typeof producer.send>[0]["messages"]) => {
    let timer: NodeJS.Timeout | undefined
    const settled = producer.send({ messages }).finally(() => clearTimeout(timer))
    const answered = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(noAcknowledgement()), produceTimeout)
      settled.then(() => resolve(), reject)
    })
    return {
      answered,
      settled: settled.then(
        () => undefined,
        () => undefined,
      ),
    }
  }

  /** How many waiting calls the next request takes: whole calls, while every share and the request fit. */
  const nextTake = (): { take: number; bytes: number } => {
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
        const share = `${r.topic}\u0000${keyInfo(r.key).hash % n}`
        added.set(share, (added.get(share) ?? 0) + sizeOf(r))
      }
      for (const [share, size] of added)
        if ((shares.get(share) ?? 0) + size > MAX_PARTITION_BYTES) fits = false
      if (take > 0 && !fits) break
      for (const [share, size] of added) shares.set(share, (shares.get(share) ?? 0) + size)
      bytes += call.bytes
    }
    return { take, bytes }
  }

  const sendWaiting = async () => {
    if (sending) return
    sending = true
    try {
      while (waiting.length > 0) {
        // Calls that waited a whole produce timeout (the send before was slow to end) are answered
        // Unavailable without being sent: their callers stop waiting then, and the queue stays short.
        const now = Date.now()
        while (waiting.length > 0 && now - waiting[0]!.atMs >= produceTimeout) {
          const stale = waiting.shift()!
          waitingBytes -= stale.bytes
          stale.done(noAcknowledgement())
        }
        if (waiting.length === 0) break
        const { take, bytes } = nextTake()
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
        const send = sendWithin(messages)
        try {
          await send.answered
          for (const b of batch) b.done()
        } catch (e) {
          for (const b of batch) b.done(e)
        }
        await send.settled
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

  /** Queues one piece of a call for the next send; resolves with the send that carried it. */
  const enqueue = (piece: ReadonlyArray<OutRecord>) =>
    new Promise<void>((resolve, reject) => {
      let bytes = 0
      for (const r of piece) bytes += sizeOf(r)
      if (waitingBytes + bytes > MAX_WAITING_BYTES && waiting.length > 0)
        return reject(
          new BusError({ reason: "Unavailable", message: "produce: too many records wait for the broker" }),
        )
      waiting.push({
        records: piece,
        bytes,
        atMs: Date.now(),
        done: (error) => (error === undefined ? resolve() : reject(error)),
      })
      waitingBytes += bytes
      schedule()
    })

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

  return (records) => {
    if (records.length === 0) return Effect.void
    const pieces = splitByKey(records, MAX_PARTITION_BYTES, sizeOf)
    // The acknowledgement is bounded by the produce timeout; the topic check before it by its own
    // schedule and the client's request timeout (under load its retries alone took longer than the
    // produce timeout, and an unknown topic then failed Unavailable instead of Rejected).
    return knownTopics(records).pipe(
      Effect.andThen(
        Effect.tryPromise({ try: () => Promise.all(pieces.map(enqueue)), catch: toBusError("produce") }).pipe(
          Effect.timeoutOrElse({
            duration: produceTimeout + 1000,
            orElse: () => Effect.fail(noAcknowledgement()),
          }),
        ),
      ),
      Effect.asVoid,
    )
  }
}
