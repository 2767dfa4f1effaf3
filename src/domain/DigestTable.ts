/**
 * A hash table of fixed-size entries outside the JavaScript heap: a set of (owner, 64-bit digest), or a
 * map of them to 64-bit values, where the owner is a small integer (a record key's number) and the digest
 * a cryptographic hash's first 64 bits. At high rates the aggregator remembers millions of (record key,
 * drain batch) pairs; as Map entries of strings they were a third of the live heap, which every full
 * collection marks and the young generation copies. Here an entry is 8 bytes (a set) or 16 (a map) of one
 * Uint32Array, which the collector never looks into.
 *
 * An entry stores the owner folded into the digest (`fold`: each digest word XOR the owner times an odd
 * constant), not the owner itself: for a given owner the fold is a bijection of digests, and for two
 * owners it is a bijection too, so two pairs share a key only if their digests differ by exactly the
 * owners' fold difference — for hash outputs, odds of 2^-64 per pair, the same as two digests colliding.
 * A pair with one digest and two owners never shares a key (multiplication by an odd constant is a
 * bijection of 32-bit words).
 *
 * Open addressing with linear probing over any capacity (the home slot is the key's first word scaled
 * to the capacity), grown by half when 4/5 full: the load stays between 0.53 and 0.8, where doubling at
 * 3/4 kept it between 0.375 and 0.75 (8 bytes an entry cost 10-15 bytes of table).
 * A removal shifts the entries after it back (no tombstones), so a lookup stops at the first empty slot.
 * A first key word of 0 marks an empty slot: a key whose first word folds to 0 is stored with 1 (which
 * only merges two keys that already agree in their other 32 bits).
 */
const SLOTS = 64 // at first; grown by half when 4/5 full
const TWO_32 = 4_294_967_296

export class DigestTable {
  /** Words an entry: the key's two, and the value's two in a map. */
  private readonly words: 2 | 4
  private slots: Uint32Array
  private capacity = SLOTS
  private count = 0
  /** The key `fold` made last (for the `find` or `insert` that called it). */
  private k0 = 0
  private k1 = 0

  /** A set (`"set"`: no values) or a map of 64-bit values (`"map"`). */
  constructor(kind: "set" | "map") {
    this.words = kind === "set" ? 2 : 4
    this.slots = new Uint32Array(SLOTS * this.words)
  }

  get size(): number {
    return this.count
  }

  /** Bytes held by its slots. */
  get bytes(): number {
    return this.slots.byteLength
  }

  /** The slot of (owner, digest), or -1. */
  find(owner: number, d0: number, d1: number): number {
    this.fold(owner, d0, d1)
    const k0 = this.k0
    const k1 = this.k1
    const s = this.slots
    const words = this.words
    let i = this.home(k0)
    for (;;) {
      const at = i * words
      const w = s[at]!
      if (w === 0) return -1
      if (w === k0 && s[at + 1] === k1) return i
      if (++i === this.capacity) i = 0
    }
  }

  /** The value's high and low words of a slot `find` returned (a map's). */
  valueHigh(slot: number): number {
    return this.slots[slot * 4 + 2]!
  }
  valueLow(slot: number): number {
    return this.slots[slot * 4 + 3]!
  }

  /** Adds (owner, digest), with a value in a map; the caller knows it is absent. */
  insert(owner: number, d0: number, d1: number, v0 = 0, v1 = 0): void {
    if ((this.count + 1) * 5 > this.capacity * 4) this.grow()
    this.fold(owner, d0, d1)
    this.place(this.k0, this.k1, v0, v1)
    this.count++
  }

  /** Removes the entry in `slot` (from `find`), moving back the entries probed past it. */
  remove(slot: number): void {
    const s = this.slots
    const n = this.capacity
    const words = this.words
    let hole = slot
    let i = slot + 1 === n ? 0 : slot + 1
    for (;;) {
      const at = i * words
      if (s[at] === 0) break
      const home = this.home(s[at]!)
      // Move i into the hole when its home is not in (hole, i] (cyclically).
      if ((i - home + n) % n >= (i - hole + n) % n) {
        s.copyWithin(hole * words, at, at + words)
        hole = i
      }
      if (++i === n) i = 0
    }
    s.fill(0, hole * words, hole * words + words)
    this.count--
  }

  private fold(owner: number, d0: number, d1: number): void {
    this.k0 = (d0 ^ Math.imul(owner, 0x9e3779b1)) >>> 0 || 1
    this.k1 = (d1 ^ Math.imul(owner, 0x85ebca77)) >>> 0
  }

  /** The key's home slot: its first word scaled to the capacity (below it for any word < 2^32). */
  private home(k0: number): number {
    return Math.floor((k0 / TWO_32) * this.capacity)
  }

  private place(k0: number, k1: number, v0: number, v1: number): void {
    const s = this.slots
    const words = this.words
    let i = this.home(k0)
    while (s[i * words] !== 0) if (++i === this.capacity) i = 0
    const at = i * words
    s[at] = k0
    s[at + 1] = k1
    if (words === 4) {
      s[at + 2] = v0
      s[at + 3] = v1
    }
  }

  private grow(): void {
    const old = this.slots
    const words = this.words
    this.capacity = Math.ceil(this.capacity * 1.5)
    this.slots = new Uint32Array(this.capacity * words)
    for (let at = 0; at < old.length; at += words)
      if (old[at] !== 0)
        this.place(old[at]!, old[at + 1]!, words === 4 ? old[at + 2]! : 0, words === 4 ? old[at + 3]! : 0)
  }
}
