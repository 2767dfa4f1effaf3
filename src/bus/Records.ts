/** The vocabulary of the Bus service: records in and out, batches, offsets and its one error. */
import { type Effect, Schema, type Stream } from "effect"
import type { TopicSpec } from "./Topics.ts"

/**
 * A record to produce. Its partition is `partitionFor(key)` (see Partitioner.ts) on every layer; the
 * records of one key keep their order.
 */
export interface OutRecord {
  readonly topic: string
  readonly key: string
  readonly value: Uint8Array
  /** Milliseconds since the epoch; tally sets it to the event time. */
  readonly timestamp: number
}

/** A consumed record. `offset` is its position in its partition. */
export interface InRecord {
  readonly key: string
  readonly value: Uint8Array
  readonly timestamp: number
  readonly offset: number
}

/** Consecutive records of one partition, in offset order. */
export interface Batch {
  readonly topic: string
  readonly partition: number
  readonly records: ReadonlyArray<InRecord>
  /** The offset the next produced record of this partition will get (for lag). */
  readonly highWatermark: number
}

export interface Subscription {
  /** Offsets are committed and read back per group. */
  readonly group: string
  readonly topics: ReadonlyArray<string>
  /** The fixed partitions of every topic this consumer reads (see partitionsOfWorker). */
  readonly partitions: ReadonlyArray<number>
  /** How many batches may wait unread before the consumer stops fetching (default 16). */
  readonly bufferBatches?: number
  /** At most this many records a batch (in-memory layer; Kafka batches follow the fetch size). */
  readonly maxRecords?: number
}

/** A commit point: `offset` is the next offset to read on restart; `metadata` is free text. */
export interface Committed {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly metadata: string
}

export interface TopicMismatch {
  readonly topic: string
  readonly setting: string
  readonly expected: string
  readonly actual: string
}

export interface EnsureReport {
  readonly created: ReadonlyArray<string>
  readonly existing: ReadonlyArray<string>
  readonly mismatched: ReadonlyArray<TopicMismatch>
}

export const BusErrorReason = Schema.Literals([
  /** The broker cannot be reached or did not acknowledge in time: try again later. */
  "Unavailable",
  /** The request is wrong (unknown topic, invalid offset...): retrying will not help. */
  "Rejected",
  /** `commit` was called for a group that has no running consumer in this process. */
  "NotConsuming",
])
export type BusErrorReason = typeof BusErrorReason.Type

export class BusError extends Schema.TaggedError<BusError>()("BusError", {
  reason: BusErrorReason,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/** What every Bus layer provides. */
export interface BusApi {
  /** Appends records to their topics; succeeds only when every record is acknowledged by all in-sync replicas. */
  readonly produce: (records: ReadonlyArray<OutRecord>) => Effect.Effect<void, BusError>
  /**
   * Reads the subscription's fixed partitions from their committed offsets (the earliest offset when none)
   * as batches, buffering at most `bufferBatches` before it stops fetching.
   */
  readonly consume: (subscription: Subscription) => Stream.Stream<Batch, BusError>
  /** Commits offsets (with metadata) for a group that is consuming in this process. */
  readonly commit: (group: string, offsets: ReadonlyArray<Committed>) => Effect.Effect<void, BusError>
  /** The committed offsets of a group for the given topics (partitions without a commit are left out). */
  readonly committed: (
    group: string,
    topics: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<Committed>, BusError>
  /** Succeeds when the broker answers (for /healthz). */
  readonly health: Effect.Effect<void, BusError>
  /** Creates missing topics and reports existing ones whose partitions or settings differ from the spec. */
  readonly ensureTopics: (specs: ReadonlyArray<TopicSpec>) => Effect.Effect<EnsureReport, BusError>
}
