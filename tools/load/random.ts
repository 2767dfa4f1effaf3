/**
 * A small seeded PRNG (sfc32), so a load, its lines and its oracle can be replayed from a seed. No
 * allocation per draw.
 */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed >>> 0
    for (let i = 0; i < 15; i++) this.next()
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1))
  }

  pick<T>(items: ReadonlyArray<T>): T {
    return items[Math.floor(this.float() * items.length)]!
  }

  /** Standard normal (Box-Muller, one of the pair). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.float())) * Math.cos(2 * Math.PI * this.float())
  }

  /** `count` hex digits. */
  hex(count: number): string {
    let s = ""
    while (s.length < count) s += this.next().toString(16).padStart(8, "0")
    return s.slice(0, count)
  }

  /** A random (v4-shaped) UUID. */
  uuid(): string {
    const h = this.hex(32)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
  }
}

/** Picks from weights prepared once: `cumulative[i]` is the sum of weights 0..i, normalised to 1. */
export const cumulative = (weights: ReadonlyArray<number>): Float64Array => {
  const total = weights.reduce((a, b) => a + b, 0)
  const out = new Float64Array(weights.length)
  let run = 0
  for (let i = 0; i < weights.length; i++) out[i] = run += weights[i]! / total
  out[weights.length - 1] = 1
  return out
}

export const draw = (cum: Float64Array, u: number): number => {
  let i = 0
  while (u >= cum[i]!) i++
  return i
}
