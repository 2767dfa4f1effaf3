/**
 * Strings decoded from bytes, held once while they recur. One drain POST reaches many partitions (one
 * per record key and measurement type), and each partition's aggregator remembers the batch's id and
 * delivery for up to 20 minutes: decoded separately, the same text would be held once per partition.
 * A small table by hash of recently decoded ASCII strings hands back the copy already held. It changes
 * only which copy is kept, never a string's value (a hash collision just decodes a new copy).
 */
import { utf8 } from "./ProtoBytes.ts"

export class RecentStrings {
  private readonly mask: number
  private readonly kept: Array<string | undefined>

  /** `size` slots, a power of two. */
  constructor(size = 4096) {
    this.mask = size - 1
    this.kept = Array.from({ length: size }, () => undefined)
  }

  /** The text of `bytes[start, end)`: the copy held already when it is the same text. */
  of(bytes: Uint8Array, start: number, end: number): string {
    let h = 0x811c9dc5
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
    const slot = (h >>> 0) & this.mask
    const kept = this.kept[slot]
    if (kept !== undefined && kept.length === end - start) {
      let i = 0
      while (i < kept.length && kept.charCodeAt(i) === bytes[start + i]) i++
      if (i === kept.length) return kept
    }
    const s = utf8(bytes, start, end)
    this.kept[slot] = s
    return s
  }
}
