/**
 * The whole cluster as deployed (issue 12): every stage its own process — ingress/API, 2 aggregator
 * workers, sink, retrier — on the real broker (topics of a unique prefix) and 3 fresh Postgres shard
 * databases, under tools/load's drain load (bodies of 200 lines from 20 apps, 64 connections, Logplex
 * retries), the offered rate ramped step by step until a step is not held.
 *
 *   npm run bench -- cluster [--rates 10000,20000,40000,60000,80000,100000] [--seconds 60]
 *   npm run bench -- cluster --profile [--rates 40000] [--seconds 60]   (--cpu-prof of every stage)
 *
 * Each step is `loadtest()` with new apps: the load for --seconds, then every 1-minute rollup read back
 * and compared with the oracle. Everything it creates (topics, consumer groups, databases) is removed.
 */
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import {
  createDatabases,
  databaseUrl,
  deleteRunTopics,
  dropDatabases,
  pgServer,
} from "../tools/chaos/infra.ts"
import { formatSummary, type ProfileSummary, profilesIn, summarise } from "./cpuprofile.ts"
import { start, stop as stopProcess } from "./peers/procs.ts"
import {
  describeStep,
  mb,
  ms,
  ProcessSampler,
  pidsMatching,
  postgresPids,
  runStep,
  type Step,
} from "./ramp.ts"
import { fmt, loadNote, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
    s.on("error", reject)
  })

/** Waits until GET /healthz on `port` answers 200. */
export const awaitHealthy = async (name: string, port: number, withinMs: number, alive: () => boolean) => {
  const until = Date.now() + withinMs
  while (Date.now() < until) {
    if (!alive()) throw new Error(`${name} exited before it was healthy (see its log)`)
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })
      if (r.status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(500)
  }
  throw new Error(`${name} was not healthy within ${withinMs / 1000} s`)
}

/** The test setup prunes prefixed topics unless a run is registered (test/globalSetup.ts): register. */
export const registerRun = () => {
  const dir = join(tmpdir(), "tally-test-runs")
  mkdirSync(dir, { recursive: true })
  const file = join(dir, String(process.pid))
  writeFileSync(file, "")
  return () => rmSync(file, { force: true })
}

export const commitOf = () => {
  try {
    const head = execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
    }).trim()
    const dirty = execFileSync("git", ["-C", root, "status", "--porcelain", "src"], {
      encoding: "utf8",
    }).trim()
    return `${head}${dirty ? " (src/ with uncommitted changes)" : ""}`
  } catch {
    return "unknown"
  }
}

export interface Stage {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly env: Record<string, string>
  readonly port: number
}

export interface ClusterOptions {
  /** Aggregator workers, each its own process (default 2). */
  readonly workers?: number
  /** `--cpu-prof` in every stage process, profiles under `<runDir>/profiles/<stage>`. */
  readonly profile?: boolean
  /** Leave topics and databases behind. */
  readonly keep?: boolean
  /** Stages to start (default: every one). */
  readonly stages?: ReadonlyArray<"ingress" | "aggregator" | "sink" | "retrier">
  /** Settings for every stage (e.g. TALLY_FLUSH_AFTER). */
  readonly env?: Record<string, string>
  readonly name?: string
  readonly say?: (line: string) => void
}

export interface Cluster {
  readonly url: string
  readonly adminToken: string
  readonly runDir: string
  readonly children: ReadonlyArray<{ readonly stage: Stage; readonly child: ReturnType<typeof start> }>
  /** Throws when a stage process has exited. */
  readonly checkAlive: () => void
  /** Stops every stage (SIGTERM, then SIGKILL), removes topics and databases (unless `keep`); the exit codes. */
  readonly stop: () => Promise<ReadonlyArray<number | null>>
}

/**
 * Every stage its own process (`node src/main.ts ingress | aggregator × N | sink | retrier`) on the project's
 * broker (topics of a unique prefix) and 3 fresh shard databases on the local Postgres server; resolves
 * once every stage answers /healthz. The ingress also serves the API (`url`).
 */
export const launchCluster = async (o: ClusterOptions = {}): Promise<Cluster> => {
  const say = o.say ?? ((line: string) => console.log(line))
  const workers = o.workers ?? 2
  const wanted = new Set(o.stages ?? ["ingress", "aggregator", "sink", "retrier"])
  const name = o.name ?? "cluster"
  const stamp = Date.now().toString(36)
  const prefix = `bench-${name}-${stamp}.`
  const databases = [0, 1, 2].map((i) => `tally_bench_${name}_${stamp}_${i}`)
  const runDir = join(root, "test-output", `bench-${name}-${stamp}`)
  mkdirSync(runDir, { recursive: true })
  const unregister = registerRun()
  const children: Array<{ stage: Stage; child: ReturnType<typeof start> }> = []
  const started = Date.now()
  let stopped: Promise<ReadonlyArray<number | null>> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      const codes = await Promise.all(children.map(({ child }) => stopProcess(child, 30_000)))
      say(`stages stopped: ${children.map(({ stage: s }, i) => `${s.name} ${codes[i]}`).join(", ")}`)
      if (!o.keep) {
        await deleteRunTopics(prefix).catch((e) =>
          say(`could not delete the topics: ${(e as Error).message}`),
        )
        await dropDatabases(databases).catch((e) =>
          say(`could not drop the databases: ${(e as Error).message}`),
        )
      }
      unregister()
      return codes
    })())
  try {
    await createDatabases(databases)
    const apiPort = await freePort()
    const url = `http://127.0.0.1:${apiPort}`
    const adminToken = `tly_bench_${randomBytes(12).toString("hex")}`
    const env: Record<string, string> = {
      TALLY_KAFKA_BROKERS: "127.0.0.1:9092",
      TALLY_PG_SHARDS: databases.map((d) => databaseUrl(pgServer(), d)).join(","),
      TALLY_TOPIC_PREFIX: prefix,
      TALLY_WORKERS: String(workers),
      TALLY_ADMIN_TOKEN: adminToken,
      TALLY_DATA_DIR: join(runDir, "data"),
      TALLY_PORT: String(apiPort),
      TALLY_LOG_LEVEL: "Warn",
      ...o.env,
    }
    say(`${name}: topics ${prefix}*, databases ${databases.join(", ")}, logs in ${runDir}`)
    execFileSync(process.execPath, [join(root, "src/main.ts"), "topics", "ensure"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "inherit"],
    })
    const stages: Array<Stage> = []
    const stage = async (stageName: string, args: Array<string>, extra: Record<string, string> = {}) => {
      const port = stageName === "ingress" ? apiPort : await freePort()
      const profileDir = join(runDir, "profiles", stageName)
      if (o.profile) mkdirSync(profileDir, { recursive: true })
      stages.push({
        name: stageName,
        args,
        port,
        env: {
          ...env,
          ...(stageName === "ingress" ? {} : { TALLY_METRICS_PORT: String(port) }),
          TALLY_KAFKA_CLIENT_ID: `tally-${stageName}`,
          ...(o.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
          ...extra,
        },
      })
    }
    if (wanted.has("ingress")) await stage("ingress", ["ingress"])
    if (wanted.has("aggregator"))
      for (let i = 0; i < workers; i++)
        await stage(`aggregator-${i}`, ["aggregator"], { TALLY_WORKER_INDEX: String(i) })
    if (wanted.has("sink")) await stage("sink", ["sink"])
    if (wanted.has("retrier")) await stage("retrier", ["retrier"])
    for (const s of stages)
      children.push({
        stage: s,
        child: start(
          process.execPath,
          [join(root, "src/main.ts"), ...s.args],
          { ...process.env, ...s.env },
          join(runDir, `${s.name}.log`),
        ),
      })
    for (const { stage: s, child } of children)
      await awaitHealthy(s.name, s.port, 180_000, () => child.exitCode === null && child.signalCode === null)
    say(
      `every stage is up (${((Date.now() - started) / 1000).toFixed(0)} s)${o.profile ? "; profiling every stage" : ""}`,
    )
    // Interrupted (Ctrl-C, a timeout's SIGTERM): the stages, topics and databases go too.
    const onSignal = (signal: NodeJS.Signals) => {
      say(`${signal}: stopping the cluster`)
      void stop().finally(() => process.exit(130))
    }
    process.once("SIGINT", onSignal)
    process.once("SIGTERM", onSignal)
    const checkAlive = () => {
      for (const { stage: s, child } of children)
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${s.name} exited`)
    }
    return { url, adminToken, runDir, children, checkAlive, stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/** The project's broker (scripts/kafka.sh on 9092), not another one someone runs on another port. */
export const brokerPids = () => pidsMatching("kafka.Kafka", /kafka-[\d.]+\/server\.properties/)

export const run = async () => {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rates: { type: "string", default: "10000,20000,40000,60000,80000,100000" },
      seconds: { type: "string", default: "60" },
      profile: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
    },
    strict: false,
    allowPositionals: true,
  })
  const rates = String(values.rates).split(",").map(Number)
  const seconds = Number(values.seconds)
  const profile = values.profile === true
  const say = (line: string) => console.log(line)
  let sampler: ProcessSampler | undefined
  const steps: Array<Step> = []
  const tallyCommit = commitOf()
  const started = Date.now()
  const cluster = await launchCluster({ profile, keep: values.keep === true, say })
  const { url, adminToken, children, runDir } = cluster
  try {
    sampler = new ProcessSampler([
      ...children.map(({ stage: s, child }) => ({ name: s.name, pids: () => [child.pid!] })),
      { name: "kafka broker", pids: brokerPids },
      { name: "postgres (whole server)", pids: postgresPids },
    ])
    // Warm-up, not counted: fresh processes compile their hot paths, open connections and learn topic
    // metadata in their first seconds under load, which a deployment that has been running has done.
    say(`warm-up: ${fmt(rates[0]!)} lines/s for ${WARM_UP_SECONDS} s (not counted)`)
    say(
      describeStep(
        await runStep({ url, adminToken, rate: rates[0]!, seconds: WARM_UP_SECONDS, sampler, say }),
      ),
    )
    for (const rate of rates) {
      say(`step: ${fmt(rate)} lines/s for ${seconds} s`)
      const step = await runStep({ url, adminToken, rate, seconds, sampler, say })
      steps.push(step)
      say(describeStep(step))
      cluster.checkAlive()
      if (!step.held) break
    }
  } finally {
    sampler?.stop()
    await cluster.stop()
  }
  const profiles = profile
    ? children.map(({ stage: s }) => ({
        name: s.name,
        summaries: profilesIn(join(runDir, "profiles", s.name)).map((f) => summarise(f)),
      }))
    : []
  for (const p of profiles) for (const s of p.summaries) say(`${p.name}: ${formatSummary(s)}`)
  writeFileSync(join(runDir, "result.json"), JSON.stringify({ steps, profiles }, null, 2))
  const conditions = {
    commit: tallyCommit,
    loadAverage: steps
      .map((s) => `${s.loadAverage.start.toFixed(1)}→${s.loadAverage.end.toFixed(1)}`)
      .join(", "),
    wallSeconds: (Date.now() - started) / 1000,
    loadNow: loadavg()[0]!,
    loadStart: steps[0]?.loadAverage.start ?? loadavg()[0]!,
    loadEnd: steps.at(-1)?.loadAverage.end ?? loadavg()[0]!,
  }
  if (profile) writeSection("cluster-profile", renderProfiles(profiles, steps, conditions, seconds))
  else writeSection("cluster", renderRamp(steps, conditions, seconds))
}

/** The uncounted first step (see the ramp). */
const WARM_UP_SECONDS = 15

const GOAL = { rate: 60_000, p99: 250 }

const renderRamp = (
  steps: ReadonlyArray<Step>,
  c: { commit: string; loadAverage: string; wallSeconds: number; loadStart: number; loadEnd: number },
  seconds: number,
) => {
  const held = steps.filter((s) => s.held)
  const best = held[held.length - 1]
  const procNames = steps[0]?.processes.map((p) => p.name) ?? []
  const rows = steps.map((s) => {
    const l = s.summary.load
    const statuses = Object.entries(l.statuses)
      .map(([k, v]) => `${k}×${fmt(v)}`)
      .join(" ")
    return `| ${fmt(s.rate)} | ${fmt(s.acceptedPerSecond)} | ${ms(l.latencyMs.p50)} / ${ms(l.latencyMs.p99)} ms | ${statuses} | ${fmt(s.summary.verdict.rollups.exact)}/${fmt(s.summary.verdict.rollups.total)} | ${s.held ? "held" : s.why.join("; ")} |`
  })
  const procRows = steps.map(
    (s) =>
      `| ${fmt(s.rate)} | ${s.processes.map((p) => `${(p.cores * 100).toFixed(0)}% / ${mb(p.peakRss)}`).join(" | ")} |`,
  )
  const bestLine = best
    ? `**Highest rate held: ${fmt(best.rate)} lines/s** (accepted ${fmt(best.acceptedPerSecond)}/s), POST p50 ${ms(best.summary.load.latencyMs.p50)} ms, p99 ${ms(best.summary.load.latencyMs.p99)} ms; goal ≥ ${fmt(GOAL.rate)} lines/s with p99 < ${GOAL.p99} ms: ${best.rate >= GOAL.rate && best.summary.load.latencyMs.p99 < GOAL.p99 ? "met" : "not met"}.`
    : "**No step was held.**"
  return `## Cluster as deployed (issue 12)

${loadNote(c.loadStart, c.loadEnd)} Load average per step: ${c.loadAverage}.
\`npm run bench -- cluster\` (bench/cluster.ts; ${seconds} s per step, about ${Math.round(c.wallSeconds / 60)} min in all here).
After a ${WARM_UP_SECONDS} s warm-up at the first rate (not counted: fresh processes compile, connect and learn
topic metadata in their first seconds), every stage its own process (\`node src/main.ts ingress | aggregator (TALLY_WORKERS=2, index 0 and 1) |
sink | retrier\`, default settings: TALLY_FLUSH_AFTER 10s, TALLY_MAX_LAG 2m) on the project's Kafka broker
(32-partition topics of a unique prefix, replication 1) and 3 fresh PostgreSQL shard databases on the
local server. Load: tools/load \`loadtest()\` in the benchmark's process — 20 apps, drain bodies of 200
lines, 64 keep-alive connections, Logplex retries (same Frame-Id, 3 tries, Retry-After honoured), new apps
per step; after the step's load every 1-minute rollup is read back through the API and compared with the
oracle. **Held** = every determinate rollup exact, no body given up, no drain buffer overflow, and the
median accepted second ≥ 98% of the offered rate. The ramp stops at the first step not held.
tally at ${c.commit}.

${bestLine}

| offered lines/s | accepted lines/s (median second) | POST p50 / p99 | statuses | rollups exact | verdict |
|--:|--:|--:|---|--:|---|
${rows.join("\n")}

CPU (% of one core, averaged over the step's load) / peak resident MB per process:

| offered lines/s | ${procNames.join(" | ")} |
|--:|${procNames.map(() => "--:").join("|")}|
${procRows.join("\n")}`
}

const renderProfiles = (
  profiles: ReadonlyArray<{ name: string; summaries: ReadonlyArray<ProfileSummary> }>,
  steps: ReadonlyArray<Step>,
  c: { commit: string; loadAverage: string; loadStart: number; loadEnd: number },
  seconds: number,
) => {
  const s = steps[0]
  const blocks = profiles.map(
    (p) =>
      `**${p.name}**\n\n\`\`\`\n${p.summaries
        .filter((x) => x.busyMs + x.gcMs > 1000)
        .map((x) => formatSummary(x, 6))
        .join("\n")}\n\`\`\``,
  )
  return `## Cluster profiles (issue 12)

${loadNote(c.loadStart, c.loadEnd)} \`npm run bench -- cluster --profile --rates ${steps.map((x) => x.rate).join(",")} --seconds ${seconds}\`:
the cluster benchmark with \`NODE_OPTIONS=--cpu-prof\` in every stage process (one profile per thread,
covering the process's whole life: start, the load and the verification reads; summarised by
bench/cpuprofile.ts). ${s ? `Load: ${fmt(s.rate)} lines/s offered, ${fmt(s.acceptedPerSecond)} accepted, POST p50 ${ms(s.summary.load.latencyMs.p50)} / p99 ${ms(s.summary.load.latencyMs.p99)} ms.` : ""}
Per thread: the share of the profiled time in code, GC and idle; then the places with the most self
time (a package, a src/ file, Node's internals, native code) as a share of the non-idle time, each
with its top functions. tally at ${c.commit}.

${blocks.join("\n\n")}`
}
