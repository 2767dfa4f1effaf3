/**
 * `npm start` under sustained drain load (issue 11): one `node src/main.ts all` on a fresh data dir
 * (durable embedded log, aggregator, sink, PGlite, ingress and API in one process), tools/load's drain
 * load (20 apps, bodies of 200 lines, 64 connections, Logplex retries).
 *
 *   npm run bench -- embedded [--rates 20000,35000,50000,65000,80000] [--ramp-seconds 60] [--minutes 10]
 *   npm run bench -- embedded --minutes 2          (a short version; the recorded run is 10 minutes)
 *   npm run bench -- embedded --profile ...        (--cpu-prof of the process, every thread)
 *
 * 0. Warm-up: the first rate for --warmup-seconds (20), shown but not judged: a cold process loses lines
 *    in its first seconds (code not yet optimised, first windows and tables) at any rate.
 * 1. Ramp: each rate for --ramp-seconds, new apps each step, every 1-minute rollup verified; stops at
 *    the first step not held. 2. Sustained: the highest rate held, for --minutes (if that is not held,
 *    the next lower rate once). 3. Overload: twice that rate for --minutes (the excess gets 503s from
 *    backpressure). Resident memory of the process is sampled every 10 s throughout.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { awaitHealthy, freePort } from "./cluster.ts"
import { formatSummary, profilesIn, summarise } from "./cpuprofile.ts"
import { start, stop } from "./peers/procs.ts"
import { describeStep, mb, ms, type ProcessSample, ProcessSampler, runStep, type Step } from "./ramp.ts"
import { fmt, loadNote, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")

interface Trend {
  /** MB per minute over the window (least squares). */
  readonly slopeMbPerMin: number
  readonly meanMb: number
  readonly maxMb: number
  /** Rise over the window by the fitted line, as a share of the mean. */
  readonly rise: number
  readonly flat: boolean
}

/** The RSS trend of the samples in [fromMs, toMs]; flat = the fitted rise is under 5% of the mean. */
export const trend = (samples: ReadonlyArray<ProcessSample>, fromMs: number, toMs: number): Trend => {
  const xs = samples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs)
  const n = xs.length
  const mean = (f: (s: ProcessSample) => number) => xs.reduce((a, s) => a + f(s), 0) / Math.max(1, n)
  const mx = mean((s) => s.atMs / 60_000)
  const my = mean((s) => s.rss / 2 ** 20)
  let sxy = 0
  let sxx = 0
  for (const s of xs) {
    const dx = s.atMs / 60_000 - mx
    sxy += dx * (s.rss / 2 ** 20 - my)
    sxx += dx * dx
  }
  const slope = sxx > 0 ? sxy / sxx : 0
  const minutes = (toMs - fromMs) / 60_000
  const rise = my > 0 ? (slope * minutes) / my : 0
  return {
    slopeMbPerMin: slope,
    meanMb: my,
    maxMb: xs.reduce((a, s) => Math.max(a, s.rss / 2 ** 20), 0),
    rise,
    flat: rise < 0.05,
  }
}

interface Phase {
  readonly name: string
  readonly step: Step
  readonly trend: Trend
  readonly samples: ReadonlyArray<ProcessSample>
}

export const run = async () => {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rates: { type: "string", default: "20000,35000,50000,65000,80000" },
      "ramp-seconds": { type: "string", default: "60" },
      "warmup-seconds": { type: "string", default: "20" },
      minutes: { type: "string", default: "10" },
      profile: { type: "boolean", default: false },
    },
    strict: false,
    allowPositionals: true,
  })
  const rates = String(values.rates).split(",").map(Number)
  const rampSeconds = Number(values["ramp-seconds"])
  const minutes = Number(values.minutes)
  const profile = values.profile === true
  const stamp = Date.now().toString(36)
  const runDir = join(root, "test-output", `bench-embedded-${stamp}`)
  mkdirSync(runDir, { recursive: true })
  const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-embedded-"))
  const profileDir = join(runDir, "profile")
  if (profile) mkdirSync(profileDir, { recursive: true })
  const say = (line: string) => console.log(line)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const adminToken = `tly_bench_${randomBytes(12).toString("hex")}`
  const started = Date.now()
  const child = start(
    process.execPath,
    [join(root, "src/main.ts"), "all"],
    {
      ...startEnv(),
      ...process.env,
      TALLY_KAFKA_BROKERS: "",
      TALLY_PG_SHARDS: "",
      TALLY_DATA_DIR: dataDir,
      TALLY_PORT: String(port),
      TALLY_ADMIN_TOKEN: adminToken,
      TALLY_LOG_LEVEL: "Warn",
      // BENCH_NODE_OPTIONS: flags for tally alone, not the load generator (experiments: a preload).
      ...childNodeOptions(
        process.env.BENCH_NODE_OPTIONS,
        profile ? `--cpu-prof --cpu-prof-dir=${profileDir}` : undefined,
      ),
    },
    join(runDir, "tally-all.log"),
  )
  const sampler = new ProcessSampler([{ name: "tally all", pids: () => [child.pid!] }], 10_000)
  const warmupSeconds = Number(values["warmup-seconds"])
  let warmup: Step | undefined
  const ramp: Array<Step> = []
  const phases: Array<Phase> = []
  try {
    await awaitHealthy("tally all", port, 180_000, () => child.exitCode === null && child.signalCode === null)
    say(
      `npm start is up (${((Date.now() - started) / 1000).toFixed(0)} s), data in ${dataDir}, log in ${runDir}`,
    )
    const alive = () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error("tally all exited (see its log)")
    }
    if (warmupSeconds > 0) {
      say(`warm-up (not judged): ${fmt(rates[0]!)} lines/s for ${warmupSeconds} s`)
      warmup = await runStep({ url, adminToken, rate: rates[0]!, seconds: warmupSeconds, sampler, say })
      say(describeStep(warmup))
      alive()
    }
    for (const rate of rates) {
      say(`ramp: ${fmt(rate)} lines/s for ${rampSeconds} s`)
      const step = await runStep({ url, adminToken, rate, seconds: rampSeconds, sampler, say })
      ramp.push(step)
      say(describeStep(step))
      alive()
      if (!step.held) break
    }
    const heldRates = ramp.filter((s) => s.held).map((s) => s.rate)
    const tries = heldRates.slice(-2).reverse()
    const sustained = async (name: string, rate: number) => {
      say(`${name}: ${fmt(rate)} lines/s for ${minutes} min`)
      const step = await runStep({
        url,
        adminToken,
        rate,
        seconds: minutes * 60,
        sampler,
        say,
        settleSeconds: 180,
      })
      say(describeStep(step))
      const end = step.summary.load.offerEndMs
      const samples = sampler.samples
        .get("tally all")!
        .filter((s) => s.atMs >= step.summary.load.startMs && s.atMs <= end)
      const phase = {
        name,
        step,
        trend: trend(samples, end - Math.min(5, minutes / 2) * 60_000, end),
        samples,
      }
      say(
        `  RSS over the last ${Math.min(5, minutes / 2)} min: mean ${phase.trend.meanMb.toFixed(0)} MB, max ${phase.trend.maxMb.toFixed(0)} MB, ${phase.trend.slopeMbPerMin.toFixed(1)} MB/min → ${phase.trend.flat ? "flat" : "growing"}`,
      )
      phases.push(phase)
      alive()
      return step
    }
    let base: number | undefined
    for (const rate of tries) {
      const step = await sustained("sustained", rate)
      if (step.held) {
        base = rate
        break
      }
    }
    if (base !== undefined || tries.length > 0)
      await sustained("overload (2×)", 2 * (base ?? tries[tries.length - 1]!))
  } finally {
    sampler.stop()
    const code = await stop(child, 60_000)
    say(`tally all stopped (exit ${code})`)
    rmSync(dataDir, { recursive: true, force: true })
  }
  const profiles = profile ? profilesIn(profileDir).map((f) => summarise(f)) : []
  for (const p of profiles) say(formatSummary(p))
  writeFileSync(join(runDir, "result.json"), JSON.stringify({ warmup, ramp, phases, profiles }, null, 2))
  writeSection(
    profile ? "embedded-profile" : "embedded",
    render(warmup, ramp, phases, {
      rampSeconds,
      minutes,
      wallSeconds: (Date.now() - started) / 1000,
      profiles: profiles.filter((p) => p.busyMs + p.gcMs > 1000).map((p) => formatSummary(p, 8)),
    }),
  )
}

/**
 * The environment `npm start` sets (its script's leading NAME=value words: glibc's malloc settings), so
 * the benchmark measures the process as `npm start` runs it (a variable set here wins, for experiments).
 */
export const startEnv = (): Record<string, string> => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { start: string } }
  const env: Record<string, string> = {}
  for (const word of pkg.scripts.start.split(/\s+/)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word)
    if (m === null) break
    env[m[1]!] = m[2]!
  }
  return env
}

/** NODE_OPTIONS for the child when any are given (else it inherits this process's). */
export const childNodeOptions = (...flags: ReadonlyArray<string | undefined>) => {
  const given = flags.filter((f) => f !== undefined && f !== "")
  return given.length > 0 ? { NODE_OPTIONS: given.join(" ") } : {}
}

const GOAL = { rate: 50_000, rssMb: 500 }

const render = (
  warmup: Step | undefined,
  ramp: ReadonlyArray<Step>,
  phases: ReadonlyArray<Phase>,
  c: {
    rampSeconds: number
    minutes: number
    wallSeconds: number
    profiles: ReadonlyArray<string>
  },
) => {
  const steps = [...(warmup ? [warmup] : []), ...ramp, ...phases.map((p) => p.step)]
  const loads = steps.flatMap((s) => [s.loadAverage.start, s.loadAverage.end])
  const load = { start: loads[0] ?? 0, end: loads.at(-1) ?? 0 }
  const row = (name: string, s: Step, t?: Trend, judged = true) => {
    const l = s.summary.load
    const statuses = Object.entries(l.statuses)
      .map(([k, v]) => `${k}×${fmt(v)}`)
      .join(" ")
    return `| ${name} | ${fmt(s.rate)} × ${s.seconds >= 120 ? `${s.seconds / 60} min` : `${s.seconds} s`} | ${fmt(s.acceptedPerSecond)} | ${ms(l.latencyMs.p50)} / ${ms(l.latencyMs.p99)} ms | ${statuses} | ${fmt(s.summary.verdict.rollups.exact)}/${fmt(s.summary.verdict.rollups.total)} | ${t ? `${t.maxMb.toFixed(0)} MB max, ${t.slopeMbPerMin >= 0 ? "+" : ""}${t.slopeMbPerMin.toFixed(1)} MB/min (${t.flat ? "flat" : "growing"})` : `${mb(s.processes[0]?.peakRss ?? 0)} MB peak`} | ${(100 * (s.processes[0]?.cores ?? 0)).toFixed(0)}% | ${s.loadAverage.start.toFixed(1)} | ${judged ? "" : "not judged: "}${s.held ? "held" : s.why.join("; ")} |`
  }
  const held = phases.find((p) => p.name === "sustained" && p.step.held)
  const overload = phases.find((p) => p.name.startsWith("overload"))
  const goals = [
    `- ≥ ${fmt(GOAL.rate)} lines/s held for ${c.minutes} min: ${held ? `${fmt(held.step.rate)} lines/s — ${held.step.rate >= GOAL.rate ? "met" : "not met"}` : "nothing held"}`,
    `- RSS < ${GOAL.rssMb} MB and flat at that rate: ${held ? `${held.trend.maxMb.toFixed(0)} MB max, ${held.trend.flat ? "flat" : "growing"} — ${held.trend.maxMb < GOAL.rssMb && held.trend.flat ? "met" : "not met"}` : "-"}`,
    `- the same when offered twice that rate: ${overload ? `${overload.trend.maxMb.toFixed(0)} MB max, ${overload.trend.flat ? "flat" : "growing"} — ${overload.trend.maxMb < GOAL.rssMb && overload.trend.flat ? "met" : "not met"}` : "-"}`,
  ]
  const rss = phases
    .map(
      (p) =>
        `${p.name} (${fmt(p.step.rate)} lines/s), MB every 10 s: ${p.samples.map((s) => (s.rss / 2 ** 20).toFixed(0)).join(" ")}`,
    )
    .join("\n\n")
  const title = c.profiles.length > 0 ? "profiled run (`--profile`)" : "under sustained load"
  return `## Embedded: \`npm start\` ${title} (issue 11)

${loadNote(load.start, load.end)} Load average at each step's start in the table. \`npm run bench -- embedded\` (bench/embedded.ts; ramp steps of ${c.rampSeconds} s, sustained phases of
${c.minutes} min; ${Math.round(c.wallSeconds / 60)} min in all). One \`node src/main.ts all\` on a fresh data dir (durable
embedded log, aggregator, sink, retrier, PGlite, ingress and API in one process; default settings:
TALLY_FLUSH_AFTER 10s, TALLY_MAX_LAG 2m). Load: tools/load \`loadtest()\` from the benchmark's process — 20
apps, bodies of 200 lines, 64 connections, Logplex retries (same Frame-Id, 3 tries, Retry-After honoured
up to 5 s), new apps per phase, every 1-minute rollup verified after each phase. **Held** = every
determinate rollup exact, no body given up, no drain buffer overflow, median accepted second ≥ 98% of
offered. ${
    warmup
      ? `A warm-up of ${warmup.seconds} s at the first rate comes first (not judged: a cold process loses lines in its first
seconds at any rate). `
      : ""
  }The ramp stops at its first step not held; the highest rate held is then offered for
${c.minutes} min, then twice that rate for ${c.minutes} min. RSS of the process sampled every 10 s; "flat" =
the least-squares rise over the phase's last ${Math.min(5, c.minutes / 2)} minutes is under 5% of its mean.

${goals.join("\n")}

| phase | offered lines/s | accepted lines/s (median second) | POST p50 / p99 | statuses | rollups exact | RSS | CPU (% of a core) | load avg | verdict |
|---|--:|--:|--:|---|--:|---|--:|--:|---|
${[...(warmup ? [row("warm-up", warmup, undefined, false)] : []), ...ramp.map((s) => row("ramp", s)), ...phases.map((p) => row(p.name, p.step, p.trend))].join("\n")}

${rss}${c.profiles.length > 0 ? `\n\nProfile of the process (every thread):\n\n\`\`\`\n${c.profiles.join("\n")}\n\`\`\`` : ""}`
}
