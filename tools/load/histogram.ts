/** A latency histogram with 1%-wide logarithmic buckets (no allocation per record): p50/p95/p99 within 1%. */
const GAMMA = 1.02
const LOG_GAMMA = Math.log(GAMMA)
const BUCKETS = 1400 // up to GAMMA^1400 * 0.01 ms: far beyond any timeout

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS)
  count = 0
  max = 0

  record(ms: number): void {
    const i = ms <= 0.01 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / 0.01) / LOG_GAMMA))
    this.counts[i]!++
    this.count++
    if (ms > this.max) this.max = ms
  }

  /** The value at quantile q (rank q * (count - 1)), as a bucket's midpoint. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN
    const rank = q * (this.count - 1)
    let running = 0
    for (let i = 0; i < BUCKETS; i++) {
      running += this.counts[i]!
      if (running > rank) return i === 0 ? 0.01 : (0.01 * GAMMA ** i * 2) / (1 + GAMMA)
    }
    return this.max
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!
    this.count += other.count
    if (other.max > this.max) this.max = other.max
  }
}
