/**
 * The partitioner shared by every producer of tally: Kafka's own murmur2 (the Java client's
 * DefaultPartitioner, bit for bit) over the `owner:process_type` part of a key. Raw keys are exactly
 * `owner:process_type`; summary keys (`owner:process_type:metric:label:period:start`) are partitioned on
 * that prefix only, so all rollups of one app's process type live on one partition.
 */

import { murmur2 } from "../domain/Murmur2.ts"

export { murmur2 }

const encoder = new TextEncoder()

/** The part of a key that decides its partition: everything before the second `:`. */
export const partitionKey = (key: string): string => {
  const first = key.indexOf(":")
  if (first < 0) return key
  const second = key.indexOf(":", first + 1)
  return second < 0 ? key : key.slice(0, second)
}

/** The partition of a key among `partitions`, as Kafka's Java client would choose it for `partitionKey(key)`. */
export const partitionFor = (key: string, partitions: number): number =>
  (murmur2(encoder.encode(partitionKey(key))) & 0x7fffffff) % partitions

/** Worker i of N owns the partitions p with p mod N == i (DESIGN.md semantics 9). */
export const partitionsOfWorker = (
  index: number,
  workers: number,
  partitions: number,
): ReadonlyArray<number> => {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be >= 1, got ${workers}`)
  if (!Number.isInteger(index) || index < 0 || index >= workers)
    throw new RangeError(`worker index must be in [0, ${workers}), got ${index}`)
  const owned: Array<number> = []
  for (let p = index; p < partitions; p += workers) owned.push(p)
  return owned
}
