/**
 * The load tool's generator and oracle, watched: which bodies are in flight (sent, not yet answered 204
 * or given up) and when each body carrying poison lines was sent and settled. The chaos run needs both:
 * - live checks leave out the rollups a body in flight (or sent while the check reads) can still change:
 *   with late lines, any body can touch minutes up to 4 minutes old;
 * - the ingress's poison counter is per process, and a body in flight while the ingress died may have
 *   been counted by the dead process (lost with it, or counted again by the next one), so those bodies
 *   bound how far the summed counter may differ from the poison lines acknowledged.
 */
import {
  type AppExpectation,
  type Body,
  type ExpectedEvent,
  type Fleet,
  Generator,
  type GeneratorOptions,
  Oracle,
  type OracleOptions,
  rollupKey,
} from "../load/index.ts"

interface InFlight {
  readonly app: number
  readonly sentMs: number
  readonly firstMinute: number
  readonly lastMinute: number
}

/** The rollups (1m and 15m keys) and events bodies can still change: left out of a live check. */
export interface Open {
  readonly minutes: Set<string>
  readonly quarters: Set<string>
  readonly events: Array<ExpectedEvent>
}

interface PoisonBody {
  readonly lines: number
  readonly sentMs: number
  readonly settledMs: number
  readonly accepted: boolean
  /** Tries made (each one an ingress may have parsed, refusing and counting its poison lines). */
  readonly tries: number
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000

/** How long acknowledged bodies are remembered for the live checks (Watch.acknowledgedSince). */
const RECENT_MS = 60_000

export class Watch {
  readonly inFlight = new Map<Body, InFlight>()
  readonly poisonBodies: Array<PoisonBody> = []
  /** Bodies sent while a live check reads (each open check collects them). */
  private readonly collectors = new Set<Array<Body>>()
  /** Bodies acknowledged in the last RECENT_MS, oldest first, with when each got its 204. */
  private readonly recent: Array<{ readonly body: Body; readonly atMs: number }> = []
  /** Too-late lines sent, and when each acknowledged body that carried some got its 204. */
  tooLateSent = 0
  readonly tooLateAcknowledged: Array<{ readonly atMs: number; readonly lines: number }> = []

  /** Starts collecting the bodies sent from now on; the returned function stops and gives them. */
  collect(): () => Array<Body> {
    const list: Array<Body> = []
    this.collectors.add(list)
    return () => {
      this.collectors.delete(list)
      return list
    }
  }

  sent(body: Body): void {
    for (const c of this.collectors) c.push(body)
    this.tooLateSent += body.tooLate
    this.inFlight.set(body, {
      app: body.app,
      sentMs: Date.now(),
      firstMinute: minuteOf(body.firstMs),
      lastMinute: minuteOf(body.lastMs),
    })
  }

  settled(body: Body, accepted: boolean, tries = 1): void {
    const f = this.inFlight.get(body)
    this.inFlight.delete(body)
    if (accepted) {
      const now = Date.now()
      this.recent.push({ body, atMs: now })
      let drop = 0
      while (drop < this.recent.length && this.recent[drop]!.atMs < now - RECENT_MS) drop++
      if (drop > 0) this.recent.splice(0, drop)
    }
    if (accepted && body.tooLate > 0) this.tooLateAcknowledged.push({ atMs: Date.now(), lines: body.tooLate })
    if (body.poison.length > 0)
      this.poisonBodies.push({
        lines: body.poison.length,
        sentMs: f?.sentMs ?? Date.now(),
        settledMs: Date.now(),
        accepted,
        tries,
      })
  }

  /**
   * Bodies acknowledged since `sinceMs` (at most RECENT_MS ago): acknowledged, but their lines may still
   * be on their way through the pipeline to the rollups (a late line among them changes a minute long
   * ended), so a live check treats what they touch as still open.
   */
  acknowledgedSince(sinceMs: number): Array<Body> {
    return this.recent.filter((r) => r.atMs >= sinceMs).map((r) => r.body)
  }

  /** Too-late lines in bodies acknowledged within `windowMs` before (or 5 s after) one of `times`. */
  tooLateNear(times: ReadonlyArray<number>, windowMs: number): number {
    let n = 0
    for (const b of this.tooLateAcknowledged)
      if (times.some((t) => b.atMs >= t - windowMs && b.atMs <= t + 5000)) n += b.lines
    return n
  }

  /** The first minute (start, ms) of `app` that a body in flight can still change (Infinity: none). */
  firstOpenMinute(app: number): number {
    let first = Number.POSITIVE_INFINITY
    for (const f of this.inFlight.values()) if (f.app === app && f.firstMinute < first) first = f.firstMinute
    return first
  }

  /**
   * Bounds on the ingress's summed poison counter. Each try of a body that reached an ingress may have
   * been parsed and its poison lines counted (a try that timed out, or got 503, included: only an
   * acknowledged Frame-Id is remembered), so at most lines × tries. Each ingress process that died
   * leaves a window: from its last successful scrape (less `marginMs`) to its exit. A body that was in
   * flight during a window may have been counted by the process that died after that scrape (a count
   * lost with it); an acknowledged body outside every window was counted at least once.
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
      if (b.accepted && deaths === 0) lo += b.lines
      hi += b.lines * b.tries
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

  constructor(fleet: Fleet, watch: Watch, options: OracleOptions = {}) {
    super(fleet, options)
    this.watch = watch
  }

  private frozen = false

  override accept(body: Body, tries = 1): void {
    if (this.frozen) return
    super.accept(body, tries)
    this.watch.settled(body, true, tries)
  }

  override markUncertain(body: Body, tries = 1): void {
    if (this.frozen) return
    super.markUncertain(body, tries)
    this.watch.settled(body, false, tries)
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

/** What the bodies of `app` among `bodies` can change: their rollup keys of both periods, their events. */
export const openOf = (fleet: Fleet, app: number, bodies: Iterable<Body>): Open => {
  const series = fleet.apps[app]!.series
  const open: Open = { minutes: new Set(), quarters: new Set(), events: [] }
  for (const b of bodies) {
    if (b.app !== app) continue
    open.events.push(...b.events)
    for (let i = 0; i < b.samples; i++) {
      const slot = b.slots[i]!
      const m = b.minutes[i]!
      const pt = series.processType[slot]!
      const metric = series.metric[slot]!
      const label = series.label[slot]!
      open.minutes.add(rollupKey(pt, metric, label, m))
      open.quarters.add(rollupKey(pt, metric, label, m - (m % 900_000)))
    }
  }
  return open
}

/**
 * What a live check compares: windows that ended by `untilMs`, without the rollups and events `open`
 * bodies can still change (they become indeterminate: whatever the API shows for them is accepted).
 */
export const liveView = (x: AppExpectation, untilMs: number, open: Open): AppExpectation => {
  const ended = (start: number, size: number) => start + size <= untilMs
  const rollups = new Map([...x.rollups].filter(([k, r]) => ended(r.minute, 60_000) && !open.minutes.has(k)))
  const indeterminate = new Set([...x.indeterminate, ...open.minutes])
  const rollups15 = x.rollups15
    ? new Map([...x.rollups15].filter(([k, r]) => ended(r.minute, 900_000) && !open.quarters.has(k)))
    : undefined
  const indeterminate15 = new Set([...(x.indeterminate15 ?? []), ...open.quarters])
  const early = <T extends { timeMs: number }>(items: ReadonlyArray<T>) =>
    items.filter((e) => ended(minuteOf(e.timeMs), 60_000))
  return {
    ...x,
    rollups,
    indeterminate,
    ...(rollups15 ? { rollups15, indeterminate15 } : {}),
    events: early(x.events),
    uncertainEvents: [...x.uncertainEvents, ...open.events],
    poison: early(x.poison),
    uncertainPoison: early(x.uncertainPoison),
    until: untilMs,
  }
}

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
