/** The vocabulary of the Bus service: records in and out, batches, offsets and its one error. */
import { type Effect, Schema, type Stream } from "effect"

/**
 * A record to produce. Its partition is `partitionFor(key)` (see Partitioner.ts) on every layer; the
 * records of one key keep their order.
 */
export interface OutRecord {
  readonly topic: string
  readonly key: string
  readonly value: Uint8Array
  /**
   * Milliseconds since the epoch. Raw records: the ingress clock when the drain body was received (the
   * aggregator caps stream time with it); summaries: the window's start.
   */
  readonly timestamp: number
}

/** A consumed record. `offset` is its position in its partition. */
export interface InRecord {
  readonly key: string
  readonly value: Uint8Array
  readonly timestamp: number
  readonly offset: number
}

/** Consecutive records of one partition, in offset order, delivered under one assignment. */
export interface Batch {
  readonly _tag: "Batch"
  readonly topic: string
  readonly partition: number
  readonly records: ReadonlyArray<InRecord>
  /** The offset the next produced record of this partition will get (for lag). */
  readonly highWatermark: number
  /** The generation of the assignment this batch was fetched under (see Assigned). */
  readonly generation: number
}

/** A partition a consumer owns, with the commit it resumes from (read when the assignment began). */
export interface Owned {
  readonly topic: string
  readonly partition: number
  /** The group's commit for this partition at assignment time; undefined when it never committed. */
  readonly committed: Committed | undefined
}

/**
 * A consumer's assignment. A consume stream delivers one first, then batches of the partitions it
 * names, and a new one whenever group membership changes (a rebalance, a session that expired and was
 * rejoined, a standby promoted). Everything a stage built from earlier batches is void then: it resumes
 * from the commits named here, read afresh. A standby gets an assignment with no partitions.
 */
export interface Assigned {
  readonly _tag: "Assigned"
  /** Grows with every new assignment of this consumer. */
  readonly generation: number
  readonly partitions: ReadonlyArray<Owned>
  /**
   * Commits offsets (with metadata) of partitions this assignment owns. Fails "Rebalanced" once the
   * assignment is over: the commit is void, and the stream delivers the next assignment.
   */
  readonly commit: (offsets: ReadonlyArray<Committed>) => Effect.Effect<void, BusError>
}

/** What a consume stream delivers. */
export type Delivery = Assigned | Batch

export interface Subscription {
  /** Offsets are committed and read back per group. */
  readonly group: string
  readonly topics: ReadonlyArray<string>
  /**
   * The fixed partitions of every topic this consumer reads (see partitionsOfWorker). The group's
   * oldest member owns them; any other member of the same group stands by (an empty assignment) and
   * takes over when the owner leaves or loses its membership.
   */
  readonly partitions: ReadonlyArray<number>
  /** How many batches may wait unread before the consumer stops fetching (default 16). */
  readonly bufferBatches?: number
  /** At most this many records a batch (in-process layers; Kafka batches follow the fetch size). */
  readonly maxRecords?: number
}

/** A commit point: `offset` is the next offset to read on restart; `metadata` is free text. */
export interface Committed {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly metadata: string
}

/** The end of a partition: the offset the next record produced to it will get. */
export interface EndOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** A topic as it must be: the catalogue (Topics.ts) lists tally's; `ensureTopics` creates or checks them. */
export interface TopicSpec {
  readonly name: string
  readonly partitions: number
  readonly replicationFactor: number
  /** Topic-level configs that must hold; `tally topics ensure` reports any that differ. */
  readonly config: Readonly<Record<string, string>>
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
  /** The assignment a commit belongs to is over (rebalance, lost membership): the commit is void. */
  "Rebalanced",
])
export type BusErrorReason = typeof BusErrorReason.Type

export class BusError extends Schema.TaggedError<BusError>()("BusError", {
  reason: BusErrorReason,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/** What every Bus layer provides. */
export interface BusApi {
  /**
   * Appends records to their topics; succeeds only when every record is acknowledged by all in-sync
   * replicas. The records one call gives a (topic, key) are appended all or none, one after another
   * among that key's records (no other call's records of the key between them): the aggregator tells a
   * drain batch's first delivery from its retries by that (Rollup.ts; the Bus conformance suite checks it).
   */
  readonly produce: (records: ReadonlyArray<OutRecord>) => Effect.Effect<void, BusError>
  /**
   * Joins the subscription's group and delivers its assignment, then batches of the owned partitions
   * from their committed offsets (the earliest offset when none), buffering at most `bufferBatches`
   * before it stops fetching. Membership is kept (heartbeats) however long the stream's consumer takes
   * over a batch; a lost membership is rejoined and announced by a new Assigned.
   */
  readonly consume: (subscription: Subscription) => Stream.Stream<Delivery, BusError>
  /** The committed offsets of a group for the given topics (partitions without a commit are left out). */
  readonly committed: (
    group: string,
    topics: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<Committed>, BusError>
  /** The end offsets of every partition of these topics (for lag). */
  readonly endOffsets: (topics: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<EndOffset>, BusError>
  /** Succeeds when the broker answers (for /healthz). */
  readonly health: Effect.Effect<void, BusError>
  /** Creates missing topics and reports existing ones whose partitions or settings differ from the spec. */
  readonly ensureTopics: (specs: ReadonlyArray<TopicSpec>) => Effect.Effect<EnsureReport, BusError>
}
