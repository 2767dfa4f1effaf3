/**
 * A hash table of fixed-size entries outside the JavaScript heap: a small integer owner (a record key's
 * number), a 64-bit digest, and a 64-bit value. At high rates the aggregator remembers millions of
 * (record key, drain batch) pairs; as Map entries of strings they were a third of the live heap, which
 * every full collection marks and the young generation copies. Here an entry is 20 bytes of one
 * Uint32Array, which the collector never looks into.
 *
 * Open addressing with linear probing; a removal shifts the entries after it back (no tombstones), so a
 * lookup stops at the first empty slot. Owner 0 marks an empty slot: owners are >= 1.
 */
const WORDS = 5 // owner, digest (2 words), value (2 words)
const SLOTS = 64 // at first; doubled when 3/4 full

export class DigestTable {
  private slots = new Uint32Array(SLOTS * WORDS)
  private mask = SLOTS - 1
  private count = 0

  get size(): number {
    return this.count
  }

  /** Bytes held by its slots. */
  get bytes(): number {
    return this.slots.byteLength
  }

  /** The slot of (owner, digest), or -1. */
  find(owner: number, d0: number, d1: number): number {
    const s = this.slots
    let i = this.home(owner, d0)
    for (;;) {
      const at = i * WORDS
      const o = s[at]!
      if (o === 0) return -1
      if (o === owner && s[at + 1] === d0 && s[at + 2] === d1) return i
      i = (i + 1) & this.mask
    }
  }

  /** The value's high and low words of a slot `find` returned. */
  valueHigh(slot: number): number {
    return this.slots[slot * WORDS + 3]!
  }
  valueLow(slot: number): number {
    return this.slots[slot * WORDS + 4]!
  }

  /** Adds (owner, digest) -> value; the caller knows it is absent. */
  insert(owner: number, d0: number, d1: number, v0: number, v1: number): void {
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow()
    this.place(owner, d0, d1, v0, v1)
    this.count++
  }

  /** Removes the entry in `slot` (from `find`), moving back the entries probed past it. */
  remove(slot: number): void {
    const s = this.slots
    const mask = this.mask
    let hole = slot
    let i = (slot + 1) & mask
    for (;;) {
      const at = i * WORDS
      if (s[at] === 0) break
      const home = this.home(s[at]!, s[at + 1]!)
      // Move i into the hole when its home is not in (hole, i] (cyclically).
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        s.copyWithin(hole * WORDS, at, at + WORDS)
        hole = i
      }
      i = (i + 1) & mask
    }
    s.fill(0, hole * WORDS, hole * WORDS + WORDS)
    this.count--
  }

  private home(owner: number, d0: number): number {
    return (Math.imul(owner, 0x9e3779b1) ^ d0) & this.mask
  }

  private place(owner: number, d0: number, d1: number, v0: number, v1: number): void {
    const s = this.slots
    let i = this.home(owner, d0)
    while (s[i * WORDS] !== 0) i = (i + 1) & this.mask
    const at = i * WORDS
    s[at] = owner
    s[at + 1] = d0
    s[at + 2] = d1
    s[at + 3] = v0
    s[at + 4] = v1
  }

  private grow(): void {
    const old = this.slots
    this.slots = new Uint32Array(old.length * 2)
    this.mask = this.mask * 2 + 1
    for (let at = 0; at < old.length; at += WORDS)
      if (old[at] !== 0) this.place(old[at]!, old[at + 1]!, old[at + 2]!, old[at + 3]!, old[at + 4]!)
  }
}
