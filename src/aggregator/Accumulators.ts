/**
 * The aggregator's mergeable accumulator of one rollup series: count, sum, sum of squares, min, max,
 * and, for latencies, the DDSketch bins (domain/Sketch.ts). Adding is plain arithmetic and one
 * typed-array increment; the sketch is only turned into DDSketch protobuf bytes when a snapshot is
 * emitted.
 */
import { Sketch } from "../domain/Sketch.ts"

/**
 * One rollup series in one window: count, sum, sum of squares, min, max, the sketch's bins when
 * `sketched` (all in one object), and the version of its last emitted snapshot (the current version is
 * `count`, which only grows).
 */
export class Accumulator extends Sketch {
  count = 0
  sum = 0
  sumsq = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  /** Version of the last emitted snapshot. */
  emitted = 0
  readonly sketched: boolean

  constructor(sketched: boolean) {
    super()
    this.sketched = sketched
  }

  override add(value: number): void {
    this.count++
    this.sum += value
    this.sumsq += value * value
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
    if (this.sketched) super.add(value)
  }

  get dirty(): boolean {
    return this.count !== this.emitted
  }
}
