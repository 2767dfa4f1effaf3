/**
 * What every Bus layer does the same way (Kafka in kafka/kafka.ts, the in-process logs behind local.ts): the
 * errors the contract names, the checks of a commit, the partition of a key, and the split of a produce
 * call that keeps each (topic, key) all-or-nothing.
 */
import { murmur2, partitionKey } from "./Partitioner.ts"
import { BusError, type Committed, type OutRecord } from "./Records.ts"

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** One string per (topic, partition), for maps keyed by partition. */
export const partitionId = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export const unknownTopic = (topic: string): BusError =>
  new BusError({ reason: "Rejected", message: `topic ${topic} does not exist (run 'tally topics ensure')` })

/** A commit made under an assignment that is over. */
export const rebalanced = (group: string, generation: number): BusError =>
  new BusError({ reason: "Rebalanced", message: `group ${group}: assignment ${generation} is over` })

/** A commit of a partition the committer does not own (`of`: what owns them, for the message). */
export const notOwned = (p: TopicPartition, of: "subscription" | "assignment"): BusError =>
  new BusError({ reason: "Rejected", message: `${p.topic}/${p.partition} is not a partition of this ${of}` })

/** Whether `p` is one of `owned`. */
export const owns = (owned: ReadonlyArray<TopicPartition>, p: TopicPartition): boolean =>
  owned.some((o) => o.topic === p.topic && o.partition === p.partition)

/** Rejected when an offset is not a whole number >= 0. */
export const validOffsets = (offsets: ReadonlyArray<Committed>): BusError | undefined => {
  for (const o of offsets)
    if (!Number.isInteger(o.offset) || o.offset < 0)
      return new BusError({ reason: "Rejected", message: `invalid offset ${o.offset} for ${o.topic}` })
  return undefined
}

/**
 * A key's murmur2 hash of its partition key (non-negative; the partition is it modulo the partition
 * count, as `partitionFor`) and the key's bytes, memoised: tally's keys repeat (raw keys are one per
 * app and process type).
 */
export interface KeyInfo {
  readonly hash: number
  readonly bytes: Buffer
}

const keys = new Map<string, KeyInfo>()
const encoder = new TextEncoder()

export const keyInfo = (key: string): KeyInfo => {
  let k = keys.get(key)
  if (k === undefined) {
    if (keys.size > 50_000) keys.clear()
    k = { hash: murmur2(encoder.encode(partitionKey(key))) & 0x7fffffff, bytes: Buffer.from(key) }
    keys.set(key, k)
  }
  return k
}

/** `partitionFor(key, partitions)`, memoised. */
export const partitionOf = (key: string, partitions: number): number => keyInfo(key).hash % partitions

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
