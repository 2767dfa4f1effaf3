/**
 * Event-time tumbling windows for one partition, driven by its stream time (the largest event time
 * seen), never by the wall clock. A record counts if its window has not closed:
 * `window end + lateness > stream time`. Windows close when stream time passes `end + lateness`.
 * Each window remembers the first offset that touched it, so the partition's commit point is the
 * smallest first-seen offset among open windows: replaying from there rebuilds every open window.
 */

export interface Period {
  readonly name: string
  readonly sizeMs: number
}

export interface Window<S> {
  readonly period: number
  readonly startMs: number
  readonly endMs: number
  readonly firstOffset: number
  readonly state: S
  /** Processing time when it became dirty (changed since its last emission); NaN when clean. */
  dirtySince: number
}

export interface WindowsOptions {
  readonly periods: ReadonlyArray<Period>
  readonly latenessMs: number
}

/** UTC-aligned start of the window of `sizeMs` holding `t`. */
export const windowStart = (t: number, sizeMs: number) => t - (((t % sizeMs) + sizeMs) % sizeMs)

export class PartitionWindows<S> {
  streamTimeMs = Number.NEGATIVE_INFINITY
  private readonly open = new Map<number, Window<S>>()
  /** The window each period handed out last (most records fall in it again). */
  private readonly last: Array<Window<S> | undefined> = []

  private readonly options: WindowsOptions
  private readonly create: (period: number, startMs: number) => S

  constructor(options: WindowsOptions, create: (period: number, startMs: number) => S) {
    this.options = options
    this.create = create
  }

  /** Advances stream time to include an event at `t`. */
  observe(t: number): void {
    if (t > this.streamTimeMs) this.streamTimeMs = t
  }

  /** Whether the window of `period` holding `t` has closed (its records are late). */
  isClosed(period: number, t: number): boolean {
    const size = this.options.periods[period]!.sizeMs
    return windowStart(t, size) + size + this.options.latenessMs <= this.streamTimeMs
  }

  /** The open window of `period` holding `t` (created on first touch at `offset`), or undefined when closed. */
  windowFor(period: number, t: number, offset: number): Window<S> | undefined {
    const last = this.last[period]
    if (last !== undefined && t >= last.startMs && t < last.endMs)
      return last.endMs + this.options.latenessMs <= this.streamTimeMs ? undefined : last
    const size = this.options.periods[period]!.sizeMs
    const startMs = windowStart(t, size)
    if (startMs + size + this.options.latenessMs <= this.streamTimeMs) return undefined
    const id = startMs * 4 + period
    let w = this.open.get(id)
    if (!w) {
      w = {
        period,
        startMs,
        endMs: startMs + size,
        firstOffset: offset,
        state: this.create(period, startMs),
        dirtySince: Number.NaN,
      }
      this.open.set(id, w)
    }
    this.last[period] = w
    return w
  }

  /** Removes and returns the windows that stream time has closed, oldest first. */
  takeClosed(): Array<Window<S>> {
    const closed: Array<Window<S>> = []
    for (const [id, w] of this.open)
      if (w.endMs + this.options.latenessMs <= this.streamTimeMs) {
        closed.push(w)
        this.open.delete(id)
      }
    return closed.sort((a, b) => a.startMs - b.startMs || a.period - b.period)
  }

  /** Open windows dirty for at least `flushAfterMs` of processing time at `nowMs`. */
  dueForFlush(nowMs: number, flushAfterMs: number): Array<Window<S>> {
    const due: Array<Window<S>> = []
    for (const w of this.open.values()) if (nowMs - w.dirtySince >= flushAfterMs) due.push(w)
    return due
  }

  /** Every open window (for a final flush). */
  openWindows(): IterableIterator<Window<S>> {
    return this.open.values()
  }

  get openCount(): number {
    return this.open.size
  }

  /** Where a restart must begin: the smallest first-seen offset among open windows, else `nextOffset`. */
  commitPoint(nextOffset: number): number {
    let point = nextOffset
    for (const w of this.open.values()) if (w.firstOffset < point) point = w.firstOffset
    return point
  }

  /** The open window that started first (for commit metadata). */
  oldestOpen(): Window<S> | undefined {
    let oldest: Window<S> | undefined
    for (const w of this.open.values()) if (!oldest || w.startMs < oldest.startMs) oldest = w
    return oldest
  }
}
