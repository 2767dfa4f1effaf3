/**
 * The load: a fixed offered rate (lines/s) spread evenly over the apps, each app a Logplex drain with
 * a buffer of at most `bufferLines` (1024, as Logplex): lines arrive in the buffer at the app's rate and
 * leave as a body of `linesPerBody` (or what is there after `lingerMs`) when one of the `connections` is
 * free. A buffer that overflows drops lines and reports them in its next body's first frame (L10), as
 * Logplex does. Event time = send time. Bodies that get a 204 count in the oracle; the others make their
 * rollups indeterminate. Measures POST latency, statuses, offered vs accepted lines per second, and this
 * process's own CPU.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import type { Body } from "./body.ts"
import { type ClientOptions, DrainClient, type DrainTarget } from "./client.ts"
import type { Generator } from "./generator.ts"
import type { Oracle } from "./oracle.ts"

export interface LoadOptions extends ClientOptions {
  /** Offered lines per second, all apps together. */
  readonly rate: number
  readonly seconds: number
  readonly linesPerBody?: number
  /** A drain sends a partial body once this long has passed since its last one (default 500 ms). */
  readonly lingerMs?: number
  /** Lines a drain buffers before it drops (default 1024, as Logplex). */
  readonly bufferLines?: number
  /** Called once a second with that second's numbers. */
  readonly onSecond?: (s: SecondStats) => void
  /** Once aborted, no more bodies are made (what the drains buffered is dropped); those in flight go on. */
  readonly signal?: AbortSignal
}

export interface SecondStats {
  readonly second: number
  /** Lines that arrived in the drains' buffers (the offered rate). */
  offered: number
  /** Lines in bodies posted for the first time. */
  sent: number
  /** Lines in bodies that got their 204 in this second. */
  accepted: number
  /** Lines dropped by a full buffer (reported as L10). */
  overflowed: number
  /**
   * The longest wait of this process's own loop in this second (ms): a load generator that is not
   * scheduled neither sends nor reads answers, so its drains fill whatever the server does.
   */
  stalledMs: number
}

export interface LoadReport {
  readonly startMs: number
  /** When the offered period ended, and when the last body was settled (204 or given up). */
  readonly offerEndMs: number
  readonly endMs: number
  readonly offeredLines: number
  readonly sentLines: number
  readonly acceptedLines: number
  readonly overflowedLines: number
  readonly bodies: number
  readonly acceptedBodies: number
  /** Bodies given up (after their last try, or at once on a 4xx) and their lines. */
  readonly droppedBodies: number
  readonly droppedLines: number
  /** Bodies without a Frame-Id that needed a retry: may have counted twice. */
  readonly ambiguousBodies: number
  readonly retries: number
  readonly statuses: Record<string, number>
  readonly latencyMs: {
    readonly p50: number
    readonly p95: number
    readonly p99: number
    readonly max: number
  }
  readonly perSecond: ReadonlyArray<SecondStats>
  /** This process's CPU during the load: seconds, and cores = CPU seconds per wall second. */
  readonly cpu: { readonly userSeconds: number; readonly systemSeconds: number; readonly cores: number }
  readonly eventLoopDelayP99Ms: number
}

interface Drain {
  readonly app: number
  readonly target: DrainTarget
  /** Lines waiting (fractional: arrivals accrue continuously). */
  buffered: number
  overflowed: number
  overflowSinceMs: number
  lastSendMs: number
}

/** Runs the load to the end and waits until every body is settled. `targets[i]` is app i's drain. */
export const runLoad = async (
  generator: Generator,
  oracle: Oracle,
  targets: ReadonlyArray<DrainTarget>,
  options: LoadOptions,
): Promise<LoadReport> => {
  const client = new DrainClient(options)
  const connections = options.connections ?? 64
  const perBody = options.linesPerBody ?? 200
  const linger = options.lingerMs ?? 500
  const capacity = Math.max(options.bufferLines ?? 1024, perBody)
  const perApp = options.rate / targets.length / 1000 // lines per ms per app
  const drains: Array<Drain> = targets.map((target, app) => ({
    app,
    target,
    buffered: 0,
    overflowed: 0,
    overflowSinceMs: 0,
    lastSendMs: 0,
  }))
  const seconds: Array<SecondStats> = []
  const secondOf = (ms: number) => {
    const s = Math.floor((ms - startMs) / 1000)
    while (seconds.length <= s)
      seconds.push({ second: seconds.length, offered: 0, sent: 0, accepted: 0, overflowed: 0, stalledMs: 0 })
    return seconds[s]!
  }
  const totals = {
    offered: 0,
    sent: 0,
    accepted: 0,
    bodies: 0,
    acceptedBodies: 0,
    dropped: 0,
    droppedLines: 0,
  }
  let ambiguous = 0
  let inFlight = 0
  let next = 0
  let offering = true
  let reported = 0
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const cpu0 = process.cpuUsage()
  const startMs = Date.now()
  let lastMs = startMs
  const offerEnd = startMs + options.seconds * 1000
  let settle: () => void = () => {}
  const settled = new Promise<void>((r) => (settle = r))

  const send = (d: Drain, lines: number, now: number) => {
    d.buffered -= lines
    d.lastSendMs = now
    const overflow = d.overflowed > 0 ? { dropped: d.overflowed, sinceMs: d.overflowSinceMs } : undefined
    d.overflowed = 0
    const body: Body = generator.body(d.app, now, lines, overflow)
    oracle.sent(body)
    totals.bodies++
    totals.sent += body.frames
    secondOf(now).sent += body.frames
    inFlight++
    client.deliver(d.target, body).then((outcome) => {
      inFlight--
      const at = Date.now()
      if (outcome.delivered) {
        totals.acceptedBodies++
        totals.accepted += body.frames
        secondOf(at).accepted += body.frames
        if (d.target.shield && outcome.retried) {
          ambiguous++
          oracle.markUncertain(body, outcome.tries)
        } else oracle.accept(body, outcome.tries)
      } else {
        totals.dropped++
        totals.droppedLines += body.frames
        oracle.markUncertain(body, outcome.tries)
      }
      pump()
    })
  }

  let lastPumpMs = Date.now()
  /** Accrues arrivals up to now, then sends what is due while connections are free. */
  const pump = () => {
    const wall = Date.now()
    const stall = secondOf(wall)
    stall.stalledMs = Math.max(stall.stalledMs, wall - lastPumpMs)
    lastPumpMs = wall
    const now = Math.min(wall, offerEnd)
    if (offering && now > lastMs) {
      const arrive = (now - lastMs) * perApp
      const s = secondOf(now)
      for (const d of drains) {
        d.buffered += arrive
        if (d.buffered > capacity) {
          const lost = Math.floor(d.buffered - capacity)
          if (lost > 0) {
            if (d.overflowed === 0) d.overflowSinceMs = now
            d.overflowed += lost
            d.buffered -= lost
            s.overflowed += lost
          }
        }
      }
      s.offered += arrive * drains.length
      totals.offered += arrive * drains.length
      lastMs = now
    }
    if (offering && now >= offerEnd) offering = false
    if (options.signal?.aborted) {
      offering = false
      for (const d of drains) d.buffered = 0
    }
    const current = Math.floor((Date.now() - startMs) / 1000)
    while (reported < current && reported < seconds.length) {
      const s = seconds[reported++]!
      options.onSecond?.({ ...s, offered: Math.round(s.offered) })
    }
    for (let scanned = 0; inFlight < connections && scanned < drains.length; ) {
      const d = drains[next]!
      next = (next + 1) % drains.length
      const whole = Math.floor(d.buffered)
      const due = whole >= perBody || (whole > 0 && (now - d.lastSendMs >= linger || !offering))
      if (due) {
        send(d, Math.min(perBody, whole), now)
        scanned = 0
      } else scanned++
    }
    if (!offering && inFlight === 0 && drains.every((d) => Math.floor(d.buffered) === 0)) settle()
  }

  const timer = setInterval(pump, 5)
  pump()
  await settled
  clearInterval(timer)
  const endMs = Date.now()
  const cpu = process.cpuUsage(cpu0)
  loopDelay.disable()
  client.close()
  for (const s of seconds) s.offered = Math.round(s.offered)
  return {
    startMs,
    offerEndMs: offerEnd,
    endMs,
    offeredLines: Math.round(totals.offered),
    sentLines: totals.sent,
    acceptedLines: totals.accepted,
    overflowedLines: seconds.reduce((a, s) => a + s.overflowed, 0),
    bodies: totals.bodies,
    acceptedBodies: totals.acceptedBodies,
    droppedBodies: totals.dropped,
    droppedLines: totals.droppedLines,
    ambiguousBodies: ambiguous,
    retries: client.retries,
    statuses: Object.fromEntries(client.statuses),
    latencyMs: {
      p50: client.latency.quantile(0.5),
      p95: client.latency.quantile(0.95),
      p99: client.latency.quantile(0.99),
      max: client.latency.max,
    },
    perSecond: seconds,
    cpu: {
      userSeconds: cpu.user / 1e6,
      systemSeconds: cpu.system / 1e6,
      cores: (cpu.user + cpu.system) / 1e3 / Math.max(1, endMs - startMs),
    },
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  }
}
