/**
 * The partitioner shared by every producer of tally: Kafka's own murmur2 (the Java client's
 * DefaultPartitioner, bit for bit) over the `owner:process_type` part of a key. Raw keys are exactly
 * `owner:process_type`; summary keys (`owner:process_type:metric:label:period:start`) are partitioned on
 * that prefix only, so all rollups of one app's process type live on one partition.
 */

const encoder = new TextEncoder()

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit integer. */
export const murmur2 = (data: Uint8Array): number => {
  const length = data.length
  const m = 0x5bd1e995
  let h = 0x9747b28c ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const tail = length & 3
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16
    if (tail >= 2) h ^= data[whole + 1]! << 8
    h ^= data[whole]!
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

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
