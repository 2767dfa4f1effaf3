/** Which shard holds a key: the same function in the sink, the retrier and the API. */
import { murmur2 } from "../domain/Murmur2.ts"

const encoder = new TextEncoder()

/** Stable hash of `owner:process_type` onto `shards` shards. */
export const shardFor = (owner: string, processType: string, shards: number): number =>
  shards === 1 ? 0 : ((murmur2(encoder.encode(`${owner}:${processType}`)) & 0x7fffffff) >>> 0) % shards
