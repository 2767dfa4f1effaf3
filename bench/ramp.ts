/**
 * What the cluster and embedded benchmarks share: one load step against a running tally (tools/load's
 * `loadtest`: Logplex drain bodies, retries with the same Frame-Id, the oracle, every 1-minute rollup
 * verified afterwards) with the processes' CPU and resident memory sampled from /proc while it runs,
 * and the verdict of whether the step's rate was held.
 */
import { readdirSync, readFileSync } from "node:fs"
import { loadavg } from "node:os"
import { type LoadtestOptions, loadtest, type RunSummary } from "../tools/load/index.ts"
import { usage } from "./peers/procs.ts"

export interface Watched {
  readonly name: string
  /** Resolved at every sample: a process may not exist yet, or may have been restarted. */
  readonly pids: () => ReadonlyArray<number>
}

export interface ProcessSample {
  readonly atMs: number
  readonly rss: number
  /** CPU seconds of each watched pid (its whole tree) at this instant. */
  readonly cpu: ReadonlyMap<number, number>
}

/** Samples each watched process's resident memory and CPU time every `intervalMs`. */
export class ProcessSampler {
  readonly samples = new Map<string, Array<ProcessSample>>()
  private readonly timer: NodeJS.Timeout
  private readonly watched: ReadonlyArray<Watched>

  constructor(watched: ReadonlyArray<Watched>, intervalMs = 1000) {
    this.watched = watched
    for (const w of watched) this.samples.set(w.name, [])
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
  }

  sample(): void {
    const atMs = Date.now()
    for (const w of this.watched) {
      const pids = w.pids()
      if (pids.length === 0) continue
      let rss = 0
      const cpu = new Map<number, number>()
      for (const pid of pids) {
        const u = usage([pid])
        rss += u.rss
        cpu.set(pid, u.cpu)
      }
      this.samples.get(w.name)!.push({ atMs, rss, cpu })
    }
  }

  /**
   * Per process between two instants: CPU cores (CPU seconds per wall second), peak and last RSS. CPU is
   * summed sample to sample over the pids present in both, so a process that was restarted (another pid)
   * or a backend that came and went never makes a difference of unrelated counters.
   */
  between(fromMs: number, toMs: number): Array<ProcessUse> {
    return this.watched.map(({ name }) => {
      const within = this.samples.get(name)!.filter((s) => s.atMs >= fromMs && s.atMs <= toMs)
      const first = within[0]
      const last = within[within.length - 1]
      let cpu = 0
      for (let i = 1; i < within.length; i++)
        for (const [pid, now] of within[i]!.cpu) {
          const before = within[i - 1]!.cpu.get(pid)
          if (before !== undefined && now >= before) cpu += now - before
        }
      const cores = first && last && last.atMs > first.atMs ? cpu / ((last.atMs - first.atMs) / 1000) : 0
      return {
        name,
        cores,
        peakRss: within.reduce((a, s) => Math.max(a, s.rss), 0),
        lastRss: last?.rss ?? 0,
      }
    })
  }

  stop(): void {
    clearInterval(this.timer)
  }
}

export interface ProcessUse {
  readonly name: string
  readonly cores: number
  readonly peakRss: number
  readonly lastRss: number
}

/** Pids of processes whose command line contains `needle` (and matches `also`, when given). */
export const pidsMatching = (needle: string, also?: RegExp): Array<number> => {
  const out: Array<number> = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8")
      if (cmd.includes(needle) && (!also || also.test(cmd))) out.push(Number(entry))
    } catch {
      // gone
    }
  }
  return out
}

/** The PostgreSQL server's processes (all of them: the server is shared, its other databases included). */
export const postgresPids = (): Array<number> => {
  const out: Array<number> = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") out.push(Number(entry))
    } catch {
      // gone
    }
  }
  return out
}

export interface StepOptions {
  readonly url: string
  readonly adminToken: string
  readonly rate: number
  readonly seconds: number
  readonly apps?: number
  readonly connections?: number
  readonly linesPerBody?: number
  readonly settleSeconds?: number
  readonly sampler: ProcessSampler
  /** Called once a second with the second's numbers (progress). */
  readonly say?: (line: string) => void
  readonly seed?: number
}

export interface Step {
  readonly rate: number
  readonly seconds: number
  readonly summary: RunSummary
  /** Median of the per-second accepted lines, over the offered period without its first and last 5 s. */
  readonly acceptedPerSecond: number
  readonly processes: ReadonlyArray<ProcessUse>
  readonly loadAverage: { readonly start: number; readonly end: number }
  readonly held: boolean
  /** Why it was not held (empty: held). */
  readonly why: ReadonlyArray<string>
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return 0
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * Held: every determinate rollup exact, no body given up, no drain buffer overflowing, and the accepted
 * rate (median second of the steady part) at least 98% of the offered rate. Latency is reported, not
 * part of "held"; the goals name their own latency bound.
 */
export const heldVerdict = (rate: number, summary: RunSummary, acceptedPerSecond: number) => {
  const why: Array<string> = []
  const { load, verdict } = summary
  if (!verdict.exact)
    why.push(`not exact (${verdict.stoppedBecause}, ${verdict.differenceCount} differences)`)
  if (load.droppedBodies > 0) why.push(`${load.droppedBodies} bodies given up`)
  if (load.overflowedLines > 0) why.push(`${load.overflowedLines} lines overflowed drain buffers`)
  if (acceptedPerSecond < 0.98 * rate)
    why.push(`accepted ${Math.round(acceptedPerSecond)}/s < 98% of offered`)
  return why
}

export const runStep = async (o: StepOptions): Promise<Step> => {
  const load1 = loadavg()[0]!
  const options: LoadtestOptions = {
    url: o.url,
    adminToken: o.adminToken,
    rate: o.rate,
    seconds: o.seconds,
    apps: o.apps ?? 20,
    connections: o.connections ?? 64,
    linesPerBody: o.linesPerBody ?? 200,
    tries: 3,
    settleSeconds: o.settleSeconds ?? 120,
    stableSeconds: 30,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    onSecond: (s) => {
      if (s.second % 10 === 9 || s.overflowed > 0)
        o.say?.(
          `    ${s.second + 1} s: offered ${s.offered}/s, accepted ${s.accepted}/s${s.overflowed ? `, overflow ${s.overflowed}` : ""}, load generator's longest stall ${s.stalledMs} ms`,
        )
    },
    onVerifyStart: () => o.say?.("    load done; verifying every 1-minute rollup…"),
  }
  const summary = await loadtest(options)
  const { load } = summary
  const steady = load.perSecond.slice(5, Math.max(6, Math.floor((load.offerEndMs - load.startMs) / 1000) - 5))
  const acceptedPerSecond = median(steady.map((s) => s.accepted))
  const why = heldVerdict(o.rate, summary, acceptedPerSecond)
  return {
    rate: o.rate,
    seconds: o.seconds,
    summary,
    acceptedPerSecond,
    processes: o.sampler.between(load.startMs, load.offerEndMs),
    loadAverage: { start: load1, end: loadavg()[0]! },
    held: why.length === 0,
    why,
  }
}

export const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)}`
export const ms = (x: number) => (x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString("en-US"))

/** One line of progress for a finished step. */
export const describeStep = (s: Step) => {
  const l = s.summary.load
  return `  ${s.rate}/s × ${s.seconds} s: accepted ${Math.round(s.acceptedPerSecond)}/s, POST p50 ${ms(l.latencyMs.p50)} / p99 ${ms(l.latencyMs.p99)} ms, statuses ${JSON.stringify(l.statuses)}, ${s.summary.verdict.rollups.exact}/${s.summary.verdict.rollups.total} rollups exact → ${s.held ? "HELD" : `not held: ${s.why.join("; ")}`}\n  ${s.processes.map((p) => `${p.name} ${(p.cores * 100).toFixed(0)}% ${mb(p.peakRss)} MB`).join(", ")}; load average ${s.loadAverage.start.toFixed(1)} → ${s.loadAverage.end.toFixed(1)}`
}
