/**
 * The load tool's generator and oracle, watched: which bodies are in flight (sent, not yet answered 204
 * or given up) and when each body carrying poison lines was sent and settled. The chaos run needs both:
 * - live checks compare only minutes no body in flight can still change;
 * - the ingress's poison counter is per process, and a body in flight while the ingress died may have
 *   been counted by the dead process (lost with it, or counted again by the next one), so those bodies
 *   bound how far the summed counter may differ from the poison lines acknowledged.
 */
import {
  type AppExpectation,
  type Body,
  type Fleet,
  Generator,
  type GeneratorOptions,
  Oracle,
} from "../load/index.ts"

interface InFlight {
  readonly app: number
  readonly sentMs: number
  readonly firstMinute: number
  readonly lastMinute: number
}

interface PoisonBody {
  readonly lines: number
  readonly sentMs: number
  readonly settledMs: number
  readonly accepted: boolean
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000

export class Watch {
  readonly inFlight = new Map<Body, InFlight>()
  readonly poisonBodies: Array<PoisonBody> = []

  sent(body: Body): void {
    this.inFlight.set(body, {
      app: body.app,
      sentMs: Date.now(),
      firstMinute: minuteOf(body.firstMs),
      lastMinute: minuteOf(body.lastMs),
    })
  }

  settled(body: Body, accepted: boolean): void {
    const f = this.inFlight.get(body)
    this.inFlight.delete(body)
    if (body.poison.length > 0)
      this.poisonBodies.push({
        lines: body.poison.length,
        sentMs: f?.sentMs ?? Date.now(),
        settledMs: Date.now(),
        accepted,
      })
  }

  /** The first minute (start, ms) of `app` that a body in flight can still change (Infinity: none). */
  firstOpenMinute(app: number): number {
    let first = Number.POSITIVE_INFINITY
    for (const f of this.inFlight.values()) if (f.app === app && f.firstMinute < first) first = f.firstMinute
    return first
  }

  /**
   * Bounds on the ingress's summed poison counter. Each ingress process that died leaves a window:
   * from its last successful scrape (less `marginMs`) to its exit. A body that was in flight during a
   * window may have been counted by the process that died after that scrape (a count lost with it),
   * and counted again by the next process (a retry with the same Frame-Id is new to it).
   */
  poisonBounds(
    windows: ReadonlyArray<{ readonly fromMs: number; readonly toMs: number }>,
    marginMs = 2000,
  ): {
    acknowledged: number
    given: number
    exposed: number
    lo: number
    hi: number
  } {
    let acknowledged = 0
    let given = 0
    let exposed = 0
    let lo = 0
    let hi = 0
    for (const b of this.poisonBodies) {
      const deaths = windows.filter((w) => b.sentMs <= w.toMs && b.settledMs >= w.fromMs - marginMs).length
      if (b.accepted) acknowledged += b.lines
      else given += b.lines
      if (deaths > 0) exposed += b.lines
      if (b.accepted) {
        lo += deaths > 0 ? 0 : b.lines
        hi += b.lines * (1 + deaths)
      } else hi += b.lines * deaths
    }
    return { acknowledged, given, exposed, lo, hi }
  }
}

export class WatchedGenerator extends Generator {
  private readonly watch: Watch

  constructor(fleet: Fleet, options: GeneratorOptions, watch: Watch) {
    super(fleet, options)
    this.watch = watch
  }

  override body(app: number, endMs: number, lines: number, overflow?: { dropped: number; sinceMs: number }) {
    const b = super.body(app, endMs, lines, overflow)
    this.watch.sent(b)
    return b
  }
}

export class WatchedOracle extends Oracle {
  private readonly watch: Watch

  constructor(fleet: Fleet, watch: Watch) {
    super(fleet)
    this.watch = watch
  }

  private frozen = false

  override accept(body: Body): void {
    if (this.frozen) return
    super.accept(body)
    this.watch.settled(body, true)
  }

  override markUncertain(body: Body): void {
    if (this.frozen) return
    super.markUncertain(body)
    this.watch.settled(body, false)
  }

  /**
   * Gives up on the bodies still in flight (they become uncertain) and ignores whatever happens to
   * them later: the verdict is taken while they may still be retried. Returns how many there were.
   */
  freeze(): number {
    const pending = [...this.watch.inFlight.keys()]
    for (const body of pending) this.markUncertain(body)
    this.frozen = true
    return pending.length
  }
}

const minuteOfKey = (key: string) => Number(key.slice(key.lastIndexOf("|") + 1))

/**
 * What an app must show in the whole minutes before `limitMs` (a minute boundary): the live checks
 * compare these while the load goes on.
 */
export const before = (x: AppExpectation, limitMs: number): AppExpectation => {
  const keep = (minute: number) => minute + 60_000 <= limitMs
  const rollups = new Map([...x.rollups].filter(([, r]) => keep(r.minute)))
  const indeterminate = new Set([...x.indeterminate].filter((k) => keep(minuteOfKey(k))))
  const early = <T extends { timeMs: number }>(items: ReadonlyArray<T>) =>
    items.filter((e) => keep(minuteOf(e.timeMs)))
  return {
    app: x.app,
    rollups,
    indeterminate,
    events: early(x.events),
    uncertainEvents: early(x.uncertainEvents),
    poison: early(x.poison),
    uncertainPoison: early(x.uncertainPoison),
  }
}

export { minuteOf }
