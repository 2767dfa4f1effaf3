/**
 * An in-process partitioned log with Kafka's semantics that tally relies on: per-partition offsets from
 * 0, timestamps, committed offsets with metadata per group, group membership, and compaction on read for
 * compacted topics (a record is skipped when a later record of its partition has the same key).
 * Deterministic: no clock, no randomness. It keeps every record for its lifetime: it is the tests' log,
 * never `npm start`'s. `available = false` makes every produce and fetch fail, to play a broker outage.
 */
import { Context, Effect, Layer } from "effect"
import { partitionOf } from "../Contract.ts"
import { LocalGroups, type LocalLog, Wakeups } from "../LocalLog.ts"
import { BusError, type Committed, type InRecord, type OutRecord } from "../Records.ts"
import { isCompacted, type TopicSpec } from "../Topics.ts"

interface Partition {
  readonly records: Array<InRecord>
  /** key -> offset of its latest record, for compaction on read. */
  readonly latest: Map<string, number>
}

interface Topic {
  readonly spec: TopicSpec
  readonly partitions: ReadonlyArray<Partition>
}

const unavailable = () =>
  new BusError({ reason: "Unavailable", message: "the in-memory broker is unavailable" })

export class PartitionedLog implements LocalLog {
  readonly groups = new LocalGroups()
  private readonly topics = new Map<string, Topic>()
  private readonly commits = new Map<string, Map<string, { offset: number; metadata: string }>>()
  private readonly appended = new Wakeups()
  private up = true

  get available(): boolean {
    return this.up
  }

  /** Plays a broker outage (false) and its end (true); readers resume on the way back up. */
  setAvailable(up: boolean): void {
    this.up = up
    if (up) this.notify()
  }

  createTopic(spec: TopicSpec): boolean {
    if (this.topics.has(spec.name)) return false
    const partitions = Array.from({ length: spec.partitions }, () => ({ records: [], latest: new Map() }))
    this.topics.set(spec.name, { spec, partitions })
    return true
  }

  topic(name: string): TopicSpec | undefined {
    return this.topics.get(name)?.spec
  }

  /** Appends records (all, or none when the log is down), then wakes the readers. */
  readonly append = (records: ReadonlyArray<OutRecord>): Effect.Effect<void, BusError> =>
    Effect.suspend(() => {
      if (!this.up) return Effect.fail(unavailable())
      for (const r of records) this.appendOne(r.topic, r.key, r.value, r.timestamp)
      if (records.length > 0) this.notify()
      return Effect.void
    })

  /** Appends one record to the partition its key maps to and returns [partition, offset] (no wake-up). */
  appendOne(topic: string, key: string, value: Uint8Array, timestamp: number): readonly [number, number] {
    const t = this.topics.get(topic)
    if (!t) throw new Error(`unknown topic ${topic}`)
    const partition = partitionOf(key, t.partitions.length)
    const p = t.partitions[partition]!
    const offset = p.records.length
    p.records.push({ key, value, timestamp, offset })
    p.latest.set(key, offset)
    return [partition, offset]
  }

  /** Wakes every reader waiting for new records (call once after a batch of appends). */
  notify(): void {
    this.appended.wakeAll()
  }

  /** Registers a one-shot wake-up for the next `notify`; returns its cancel function. */
  onAppend(wake: () => void): () => void {
    return this.appended.add(wake)
  }

  highWatermark(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.records.length ?? 0
  }

  /** Up to `max` records from `from` on; for compacted topics superseded records are skipped. */
  read(
    topic: string,
    partition: number,
    from: number,
    max: number,
  ): { records: Array<InRecord>; next: number } {
    const t = this.topics.get(topic)
    const p = t?.partitions[partition]
    if (!t || !p) return { records: [], next: from }
    const compacted = isCompacted(t.spec)
    const records: Array<InRecord> = []
    let next = from
    while (next < p.records.length && records.length < max) {
      const r = p.records[next]!
      next++
      if (compacted && p.latest.get(r.key)! > r.offset) continue
      records.push(r)
    }
    return { records, next }
  }

  /** Every record of a partition, superseded ones included (what a consumer that kept up would have seen). */
  readAll(topic: string, partition: number): ReadonlyArray<InRecord> {
    return this.topics.get(topic)?.partitions[partition]?.records ?? []
  }

  readonly commit = (group: string, offsets: ReadonlyArray<Committed>): Effect.Effect<void, BusError> =>
    Effect.suspend(() => {
      if (!this.up) return Effect.fail(unavailable())
      for (const o of offsets) this.commitOne(group, o.topic, o.partition, o.offset, o.metadata)
      return Effect.void
    })

  commitOne(group: string, topic: string, partition: number, offset: number, metadata: string): void {
    let g = this.commits.get(group)
    if (!g) {
      g = new Map()
      this.commits.set(group, g)
    }
    g.set(`${topic}\u0000${partition}`, { offset, metadata })
  }

  committed(
    group: string,
    topic: string,
    partition: number,
  ): { offset: number; metadata: string } | undefined {
    return this.commits.get(group)?.get(`${topic}\u0000${partition}`)
  }
}

/** The shared in-memory log behind `Bus.layerMemory`; tests reach it to inspect or to play outages. */
export class MemoryLog extends Context.Service<MemoryLog, PartitionedLog>()("tally/bus/MemoryLog") {
  static readonly layer = Layer.effect(
    MemoryLog,
    Effect.sync(() => new PartitionedLog()),
  )
}
