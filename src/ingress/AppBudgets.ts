/**
 * Each app's share of one ingress process (DESIGN.md "Tenants"), as plain TypeScript: what an app's drain
 * bodies hold while they are read and processed, and how many bytes of it were accepted lately. An app
 * is one Map entry, looked up once per request; the request's body keeps the entry, so reading a body
 * and acknowledging it look nothing up again.
 *
 * - **In-flight bytes.** The bytes of an app's bodies read and not yet answered may be at most
 *   `max(TALLY_APP_MAX_INFLIGHT, TALLY_MAX_BODY)` (so one body of the largest size always fits alone):
 *   a body whose reading passes it, or whose declared Content-Length cannot fit, gets 503. The process's
 *   own cap (MAX_INFLIGHT_BYTES) stays as the bound over all apps.
 * - **Share under backpressure** (see Backpressure.ts for when): an app's accepted bytes are counted in
 *   10-second buckets; its *recent* bytes are those of the current and the previous bucket (the last 10
 *   to 20 seconds). While the pipeline is behind, an app is accepted only while its recent bytes are
 *   below the mean of the apps that had bytes accepted in that time; at or above it, it is refused. So
 *   an app alone (at the mean) is refused as soon as the pipeline is behind (DESIGN.md semantics 12),
 *   when every app sends alike about half of them are, a flooding app is and the apps under the mean
 *   (and those that sent nothing lately) are not; an app refused for a while falls below it again.
 *
 * An app's entry is dropped at a bucket's turn once it has no body open, nothing recent and was not
 * looked up since the last turn.
 *
 * And one budget of every body (SlowBodies): **a minimum rate.** Once a body has been read for 5 s, it
 * must have arrived at TALLY_MIN_BODY_RATE bytes/s or more over the last 5 s (checked every second), or
 * it is cut off with 503, Retry-After and `Connection: close`. A body that stalls one byte short of its
 * end is cut 5-7 s after it started; one that arrives at the rate, however large, never is.
 */

/** One app's use of this ingress process. */
export class AppLoad {
  /** Bytes of its bodies read and not yet answered. */
  inflight = 0
  /** Bodies open (checked and not yet settled): while any is, the entry is kept. */
  bodies = 0
  /** Bytes accepted in the current bucket and the previous one. */
  current = 0
  previous = 0
  /** Looked up since the last bucket's turn (so an entry just handed out is not dropped under its user). */
  touched = true
}

export const BUCKET_MS = 10_000

export class AppBudgets {
  readonly maxInflight: number
  private readonly apps = new Map<string, AppLoad>()
  /** The current bucket (time / BUCKET_MS). */
  private bucket = Number.NEGATIVE_INFINITY
  /** Recent bytes of every app, and how many apps have any. */
  private recentTotal = 0
  private recentApps = 0

  constructor(maxInflight: number) {
    this.maxInflight = maxInflight
  }

  /** The app's entry (made on its first request). */
  of(owner: string): AppLoad {
    let app = this.apps.get(owner)
    if (app === undefined) {
      app = new AppLoad()
      this.apps.set(owner, app)
    } else app.touched = true
    return app
  }

  /** Apps with an entry. */
  get size(): number {
    return this.apps.size
  }

  /** Would `bytes` more (read or declared) pass the app's in-flight budget? */
  over(app: AppLoad, bytes: number): boolean {
    return app.inflight + bytes > this.maxInflight
  }

  /** Bytes of the app's body acknowledged at `now`. */
  accepted(app: AppLoad, bytes: number, now: number): void {
    this.turn(now)
    if (app.current + app.previous === 0) this.recentApps++
    app.current += bytes
    this.recentTotal += bytes
  }

  /** Are the app's recent bytes at or above the mean of the apps with any (the share rule under backpressure)? */
  overShare(app: AppLoad, now: number): boolean {
    this.turn(now)
    return (app.current + app.previous) * this.recentApps >= this.recentTotal
  }

  /** The recent bytes of an app and the mean over the apps with any (for tests and messages). */
  recent(app: AppLoad, now: number): { readonly bytes: number; readonly mean: number } {
    this.turn(now)
    return {
      bytes: app.current + app.previous,
      mean: this.recentApps === 0 ? 0 : this.recentTotal / this.recentApps,
    }
  }

  /** At a new bucket: every app's buckets move on (O(apps), once per 10 s); idle apps are dropped. */
  private turn(now: number): void {
    const bucket = Math.floor(now / BUCKET_MS)
    if (bucket === this.bucket) return
    const moved = bucket - this.bucket
    this.bucket = bucket
    this.recentTotal = 0
    this.recentApps = 0
    for (const [owner, app] of this.apps) {
      app.previous = moved === 1 ? app.current : 0
      app.current = 0
      if (app.previous > 0) {
        this.recentTotal += app.previous
        this.recentApps++
      } else if (app.bodies === 0 && app.inflight === 0 && !app.touched) this.apps.delete(owner)
      app.touched = false
    }
  }
}

/** A body being read, as SlowBodies sees it. */
export interface ReadingBody {
  /** When its request was opened. */
  readonly started: number
  /** Bytes read so far. */
  read: number
  /** (time, bytes read) pairs the sweeps took, oldest first (from the first sweep that saw it). */
  samples: Array<number> | undefined
}

/** The window over which a body's rate is taken, and the grace before the first check. */
export const RATE_WINDOW_MS = 5_000
/** How often bodies are checked. */
export const SWEEP_MS = 1_000

/** The bodies being read, checked against the minimum rate (every SWEEP_MS, by the ingress). */
export class SlowBodies<B extends ReadingBody = ReadingBody> {
  readonly minRate: number
  private readonly reading = new Set<B>()
  private lastSweep = Number.NaN

  constructor(minRate: number) {
    this.minRate = minRate
  }

  add(body: B): void {
    this.reading.add(body)
  }

  delete(body: B): void {
    this.reading.delete(body)
  }

  get size(): number {
    return this.reading.size
  }

  /**
   * Takes a sample of every body and returns (and forgets) those that arrived slower than the minimum
   * rate over the last RATE_WINDOW_MS. A sweep that comes late (the event loop was held up, so the bytes
   * that arrived meanwhile may not have been read yet) only samples.
   */
  sweep(now: number): Array<B> {
    const late = now - this.lastSweep > 2.5 * SWEEP_MS
    this.lastSweep = now
    const slow: Array<B> = []
    for (const body of this.reading) {
      let s = body.samples
      if (s === undefined) s = body.samples = [body.started, 0]
      if (!late && now - body.started >= RATE_WINDOW_MS) {
        // The base: the latest sample at least a window old.
        let i = 0
        while (i + 2 < s.length && s[i + 2]! <= now - RATE_WINDOW_MS) i += 2
        if (i > 0) s.splice(0, i)
        if ((body.read - s[1]!) * 1000 < this.minRate * (now - s[0]!)) {
          this.reading.delete(body)
          slow.push(body)
          continue
        }
      }
      s.push(now, body.read)
    }
    return slow
  }
}
