/**
 * CPU time per line (issue 23): the cluster as deployed (bench/cluster.ts's launchCluster: every stage its
 * own process — ingress, aggregator workers, sink, retrier — on the project's broker and 3 fresh Postgres
 * shard databases) at a fixed rate well under saturation, every 1-minute rollup verified. Per process and
 * for the broker: CPU seconds (user + system, from /proc, every thread and child) during the load ÷ lines
 * accepted, and the idle CPU of each (a stretch with no load). Rounds alternate load and idle on one
 * cluster; medians and spread over the rounds.
 *
 *   npm run bench -- cpu [--rate 20000] [--seconds 60] [--idle 60] [--rounds 3] [--workers 2] [--profile]
 *   npm run bench -- cpu --horizontal [--workers 1,2,4] [--rounds 2]   (one ingress, N aggregator workers)
 *
 * CPU steers better than a rate on a shared, noisy 2-core machine: a line costs about the same CPU however
 * busy the machine is, while the rate a step holds depends on who else runs. The broker is the project's
 * single broker, which other work on this machine may use too: its figure is an upper bound (its idle
 * figure, measured the same way, says how much of it is others').
 */
import { writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { brokerPids, type Cluster, commitOf, launchCluster } from "./cluster.ts"
import { formatSummary, profilesIn, summarise } from "./cpuprofile.ts"
import { describeStep, ProcessSampler, runStep, type Step } from "./ramp.ts"
import { fmt, loadNote, writeSection } from "./report.ts"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Uncounted load before the first round: fresh processes compile, connect and learn metadata. */
const WARM_UP_SECONDS = 20

export interface Round {
  readonly step: Step
  /** Lines accepted per second over the load (all accepted lines ÷ offered seconds). */
  readonly linesPerSecond: number
  /** µs of CPU per accepted line, by process name. */
  readonly usPerLine: Record<string, number>
  /** Share of one core while idle, by process name. */
  readonly idle: Record<string, number>
  readonly idleSeconds: number
  readonly load: { readonly start: number; readonly end: number }
}

export interface CpuRun {
  readonly workers: number
  readonly rate: number
  readonly seconds: number
  readonly rounds: ReadonlyArray<Round>
  readonly names: ReadonlyArray<string>
}

/** Load, verification and idle, `rounds` times, on one cluster with `workers` aggregator workers. */
export const measure = async (o: {
  readonly workers: number
  readonly rate: number
  readonly seconds: number
  readonly idleSeconds: number
  readonly rounds: number
  readonly profile: boolean
  readonly say: (line: string) => void
}): Promise<CpuRun & { profiles: Array<{ name: string; text: string }> }> => {
  const { say } = o
  const cluster: Cluster = await launchCluster({
    workers: o.workers,
    profile: o.profile,
    name: "cpu",
    say,
  })
  const names = [...cluster.children.map((c) => c.stage.name), "kafka broker"]
  const sampler = new ProcessSampler([
    ...cluster.children.map(({ stage: s, child }) => ({ name: s.name, pids: () => [child.pid!] })),
    { name: "kafka broker", pids: brokerPids },
  ])
  const rounds: Array<Round> = []
  /** The monotonic clock (µs) over the first round's load: what the profiles are summarised over. */
  let window: { fromUs: number; toUs: number } | undefined
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)
  try {
    const { url, adminToken } = cluster
    say(`warm-up: ${fmt(o.rate)} lines/s for ${WARM_UP_SECONDS} s (not counted)`)
    say(
      describeStep(await runStep({ url, adminToken, rate: o.rate, seconds: WARM_UP_SECONDS, sampler, say })),
    )
    cluster.checkAlive()
    for (let i = 0; i < o.rounds; i++) {
      const load0 = loadavg()[0]!
      say(`round ${i + 1}/${o.rounds}: ${fmt(o.rate)} lines/s for ${o.seconds} s`)
      const fromUs = monotonicUs()
      const step = await runStep({ url, adminToken, rate: o.rate, seconds: o.seconds, sampler, say })
      // The load's end is the offered period's (the verification's reads come after it).
      window ??= { fromUs, toUs: fromUs + (step.summary.load.offerEndMs - step.summary.load.startMs) * 1000 }
      say(describeStep(step))
      cluster.checkAlive()
      const linesPerSecond = step.summary.load.acceptedLines / o.seconds
      const usPerLine: Record<string, number> = {}
      for (const p of step.processes) usPerLine[p.name] = (p.cores * 1e6) / linesPerSecond
      // Idle: the verification's reads are over; nothing arrives; windows wait for stream time.
      say(`idle for ${o.idleSeconds} s`)
      const from = Date.now()
      await sleep(o.idleSeconds * 1000 + 1000)
      const idle: Record<string, number> = {}
      for (const p of sampler.between(from, Date.now())) idle[p.name] = p.cores
      say(`  idle: ${names.map((n) => `${n} ${((idle[n] ?? 0) * 100).toFixed(2)}%`).join(", ")}`)
      say(`  µs per line: ${names.map((n) => `${n} ${(usPerLine[n] ?? 0).toFixed(1)}`).join(", ")}`)
      rounds.push({
        step,
        linesPerSecond,
        usPerLine,
        idle,
        idleSeconds: o.idleSeconds,
        load: { start: load0, end: loadavg()[0]! },
      })
    }
  } finally {
    sampler.stop()
    await cluster.stop()
  }
  const profiles = o.profile
    ? cluster.children.map(({ stage: s }) => ({
        name: s.name,
        text: profilesIn(join(cluster.runDir, "profiles", s.name))
          .map((f) => summarise(f, 10, window))
          .filter((x) => x.busyMs + x.gcMs > 100)
          .map((x) => formatSummary(x, 8))
          .join("\n"),
      }))
    : []
  for (const p of profiles) say(`${p.name}:\n${p.text}`)
  writeFileSync(
    join(cluster.runDir, "cpu.json"),
    JSON.stringify({ workers: o.workers, rate: o.rate, rounds, profiles }, null, 2),
  )
  return { workers: o.workers, rate: o.rate, seconds: o.seconds, rounds, names, profiles }
}

const us = (x: number) => (Number.isNaN(x) ? "–" : x.toFixed(1))
const pctCore = (x: number) => (Number.isNaN(x) ? "–" : `${(x * 100).toFixed(2)}%`)
/** `median [min–max]` */
const spread = (xs: ReadonlyArray<number>, f: (x: number) => string) =>
  xs.length === 0
    ? "–"
    : xs.length === 1
      ? f(xs[0]!)
      : `${f(median(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]`

const isAggregator = (name: string) => name.startsWith("aggregator-")

/** Per round: the whole pipeline's µs per line, and the aggregators' together. */
const totals = (r: Round) => {
  let all = 0
  let aggregators = 0
  for (const [name, x] of Object.entries(r.usPerLine)) {
    if (name.startsWith("postgres")) continue
    all += x
    if (isAggregator(name)) aggregators += x
  }
  return { all, aggregators }
}

const GOAL = { total: 20, ingress: 6, aggregators: 5, idle: 0.005 }

const exactness = (rounds: ReadonlyArray<Round>) =>
  rounds
    .map(
      (r) =>
        `${fmt(r.step.summary.verdict.rollups.exact)}/${fmt(r.step.summary.verdict.rollups.total)}${r.step.summary.verdict.exact ? "" : " NOT EXACT"}`,
    )
    .join(", ")

export const renderCpu = (run: CpuRun, c: { commit: string; wallSeconds: number; label?: string }) => {
  const rows = run.names.map((name) => {
    const per = run.rounds.map((r) => r.usPerLine[name] ?? Number.NaN)
    const idle = run.rounds.map((r) => r.idle[name] ?? Number.NaN)
    return `| ${name} | ${spread(per, us)} | ${spread(idle, pctCore)} |`
  })
  const t = run.rounds.map(totals)
  const allM = median(t.map((x) => x.all))
  const aggM = median(t.map((x) => x.aggregators))
  const ingM = median(run.rounds.map((r) => r.usPerLine.ingress ?? Number.NaN))
  const idleMax = Math.max(
    ...run.rounds.flatMap((r) =>
      Object.entries(r.idle)
        .filter(([n]) => n !== "kafka broker")
        .map(([, x]) => x),
    ),
  )
  const met = (ok: boolean) => (ok ? "met" : "not met")
  const loads = run.rounds.map((r) => `${r.load.start.toFixed(1)}→${r.load.end.toFixed(1)}`).join(", ")
  return `## CPU per line (issue 23)

${loadNote(run.rounds[0]?.load.start ?? loadavg()[0]!, run.rounds.at(-1)?.load.end ?? loadavg()[0]!)} Load average per round: ${loads}.
\`npm run bench -- cpu\` (bench/cpu.ts; ${Math.round(c.wallSeconds / 60)} min here). The cluster as deployed — every stage its own
process (\`node src/main.ts ingress | aggregator\` × ${run.workers} \`| sink | retrier\`, default settings) on the project's
Kafka broker (32-partition topics of a unique prefix, replication 1) and 3 fresh PostgreSQL shard databases —
under tools/load's drain load at a fixed **${fmt(run.rate)} lines/s** for ${run.seconds} s a round (20 apps, bodies of 200 lines,
64 connections, Logplex retries), after a ${WARM_UP_SECONDS} s warm-up that is not counted; every 1-minute rollup read back and compared
with the oracle after each round (exact: ${exactness(run.rounds)}). **CPU per line** = the process's CPU seconds (user + system
of every thread, /proc) while the round's load was offered ÷ the lines accepted; it includes what the process spends
idle. **Idle** = its CPU over ${run.rounds[0]?.idleSeconds ?? 0} s with no load after each round's verification, as a share of one core.
The broker serves other work on this machine too (tests of others): its figures are upper bounds.
Median of ${run.rounds.length} rounds [min–max]. tally at ${c.commit}${c.label ? ` (${c.label})` : ""}.

**Whole pipeline: ${us(allM)} µs of CPU per line** (goal ≤ ${GOAL.total}: ${met(allM <= GOAL.total)}); ingress ${us(ingM)} (goal ≤ ${GOAL.ingress}: ${met(ingM <= GOAL.ingress)}); aggregators together ${us(aggM)} (goal ≤ ${GOAL.aggregators}: ${met(aggM <= GOAL.aggregators)}); largest idle of a tally stage ${pctCore(idleMax)} of a core (goal < ${pctCore(GOAL.idle)}: ${met(idleMax < GOAL.idle)}).

| process | µs of CPU per line | idle (share of a core) |
|---|--:|--:|
${rows.join("\n")}
| **whole pipeline** | **${spread(
    t.map((x) => x.all),
    us,
  )}** | |
| aggregators together | ${spread(
    t.map((x) => x.aggregators),
    us,
  )} | |

Rounds: ${run.rounds
    .map(
      (r, i) =>
        `${i + 1}: ${fmt(r.linesPerSecond)} lines/s accepted, POST p50 ${us(r.step.summary.load.latencyMs.p50)} / p99 ${us(r.step.summary.load.latencyMs.p99)} ms, total ${us(totals(r).all)} µs/line`,
    )
    .join("; ")}.`
}

export const renderHorizontal = (
  runs: ReadonlyArray<CpuRun>,
  c: { commit: string; wallSeconds: number; loadStart: number; loadEnd: number },
) => {
  const rows = runs.map((run) => {
    const agg = run.rounds.map((r) => totals(r).aggregators)
    // Each worker processes 1/N of the lines: its CPU per line it processed.
    const perWorker = run.rounds.map((r) => {
      const xs = Object.entries(r.usPerLine)
        .filter(([n]) => isAggregator(n))
        .map(([, x]) => x * run.workers)
      return median(xs)
    })
    const idle = run.rounds.map((r) =>
      median(
        Object.entries(r.idle)
          .filter(([n]) => isAggregator(n))
          .map(([, x]) => x),
      ),
    )
    const ingress = run.rounds.map((r) => r.usPerLine.ingress ?? Number.NaN)
    return `| ${run.workers} | ${spread(agg, us)} | ${spread(perWorker, us)} | ${spread(idle, pctCore)} | ${spread(ingress, us)} | ${exactness(run.rounds)} |`
  })
  const rate = runs[0]?.rate ?? 0
  return `## CPU per line: aggregator workers side by side (issue 23)

${loadNote(c.loadStart, c.loadEnd)} \`npm run bench -- cpu --horizontal\` (bench/cpu.ts; ${Math.round(c.wallSeconds / 60)} min here). One ingress, N aggregator
workers (each its own process, its fixed share of the 32 partitions of each raw topic), sink and retrier, on the same
2-core machine at the same offered rate, ${fmt(rate)} lines/s, ${runs[0]?.seconds ?? 0} s a round, every rollup verified; a fresh
cluster for each N. **Per worker** = a worker's CPU ÷ the lines of its partitions (lines ÷ N): flat in N means no
coordination cost that grows with the number of workers (each worker's work is its partitions' alone: no
rebalancing, no shared state). Median of the rounds [min–max]. tally at ${c.commit}.

| aggregator workers | aggregators together, µs per line | per worker, µs per line it processed | idle per worker | ingress µs per line | rollups exact |
|--:|--:|--:|--:|--:|---|
${rows.join("\n")}`
}

export const run = async () => {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rate: { type: "string", default: "20000" },
      seconds: { type: "string", default: "60" },
      idle: { type: "string", default: "60" },
      rounds: { type: "string" },
      workers: { type: "string" },
      profile: { type: "boolean", default: false },
      horizontal: { type: "boolean", default: false },
      label: { type: "string" },
      "no-write": { type: "boolean", default: false },
    },
    strict: false,
    allowPositionals: true,
  })
  const say = (line: string) => console.log(line)
  const started = Date.now()
  const commit = commitOf()
  const base = {
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    idleSeconds: Number(values.idle),
    profile: values.profile === true,
    say,
  }
  if (values.horizontal === true) {
    const workers = String(values.workers ?? "1,2,4")
      .split(",")
      .map(Number)
    const loadStart = loadavg()[0]!
    const runs: Array<CpuRun> = []
    for (const n of workers) {
      say(`== ${n} aggregator worker(s)`)
      runs.push(await measure({ ...base, workers: n, rounds: Number(values.rounds ?? 2) }))
    }
    const text = renderHorizontal(runs, {
      commit,
      wallSeconds: (Date.now() - started) / 1000,
      loadStart,
      loadEnd: loadavg()[0]!,
    })
    say(text)
    if (values["no-write"] !== true) writeSection("cpu-horizontal", text)
    return
  }
  const result = await measure({
    ...base,
    workers: Number(values.workers ?? 2),
    rounds: Number(values.rounds ?? 3),
  })
  const label = typeof values.label === "string" ? values.label : undefined
  const text = renderCpu(result, {
    commit,
    wallSeconds: (Date.now() - started) / 1000,
    ...(label ? { label } : {}),
  })
  say(text)
  if (values["no-write"] !== true && !base.profile) writeSection("cpu", text)
  if (base.profile && values["no-write"] !== true)
    writeSection(
      "cpu-profile",
      `## CPU per line: profiles (issue 23)

\`npm run bench -- cpu --profile\`: the CPU benchmark with \`--cpu-prof\` in every stage (a profile per thread, summarised over the
first round's load only). Shares of the non-idle time. tally at ${commit}.

${result.profiles.map((p) => `**${p.name}**\n\n\`\`\`\n${p.text}\n\`\`\``).join("\n\n")}`,
    )
}
