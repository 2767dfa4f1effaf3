/**
 * `npm run bench -- peers [--measurements=N] [--runs=R] [--emit-ms=MS] [--systems=tally1,ks1,tally2,ks2]
 *   [--tally=DIR] [--tally-label=TEXT] [--note=TEXT]` (issue 12; `--render=results.json` prints a saved run's
 * section):
 * tally's aggregator next to the same job written as a Kafka Streams application
 * (bench/peers/kafka-streams), over the same raw router measurements on the same broker.
 *
 * The input is loaded once into a prefixed ROUTER_REQUESTS topic. Then, R times in turn: tally's
 * aggregator as real processes (`node src/main.ts aggregator`, 1 worker, then 2 workers as 2 processes)
 * and the Kafka Streams app (1 stream thread, then 2), each from scratch (tally's groups deleted first; a
 * new application.id, state directory and internal topics for Kafka Streams). Timed from process start
 * until the watcher (bench/peers/kafka-streams Watch.java, the same for both) has seen, on the system's
 * summary topic, snapshots whose counts add up to every measurement of the input, per period and metric:
 * all input consumed and its rollups emitted. Peak resident memory of the process trees is sampled
 * every 200 ms; CPU time is read at the end.
 */
import { execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { loadavg, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { createInterface } from "node:readline"
import type { OutRecord } from "../src/bus/Records.ts"
import { catalogue, PARTITIONS, rawTopic, summaryTopic } from "../src/bus/Topics.ts"
import { emptyPlan, load, type Plan } from "./peers/load.ts"
import { Sampler, start, stop } from "./peers/procs.ts"
import { type Conditions, type Result, render, type System } from "./peers/report.ts"
import { fmt, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")
const peerDir = join(import.meta.dirname, "peers/kafka-streams")
const jar = join(peerDir, "target/kafka-streams-peer.jar")
const BROKERS = process.env.TALLY_KAFKA_BROKERS || "127.0.0.1:9092"
/** `--name=value` (bench/run.ts takes every argument not starting with "-" as a benchmark name). */
const option = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback

/** tally's TALLY_FLUSH_AFTER and Kafka Streams' commit.interval.ms: the same emit interval for both. */
const EMIT_MS = Number(option("emit-ms", "1000"))
const KS_CACHE_MB = 64
const KS_HEAP = "512m"
const SPAN_MS = 12 * 60_000

const SYSTEMS: ReadonlyArray<System> = [
  { id: "tally1", name: "tally aggregator, 1 worker", kind: "tally", parallelism: 1 },
  { id: "ks1", name: "Kafka Streams, 1 stream thread", kind: "ks", parallelism: 1 },
  { id: "tally2", name: "tally aggregator, 2 workers (2 processes)", kind: "tally", parallelism: 2 },
  { id: "ks2", name: "Kafka Streams, 2 stream threads", kind: "ks", parallelism: 2 },
]

const answers = () =>
  new Promise<boolean>((resolve) => {
    const [host, port] = BROKERS.split(",")[0]!.split(":")
    const socket = connect(Number(port), host!, () => {
      socket.destroy()
      resolve(true)
    })
    socket.on("error", () => resolve(false))
  })

/** Builds the peer's jar when it is missing or older than its sources. */
const buildJar = () => {
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    )
  const sources = Math.max(newest(join(peerDir, "src")), statSync(join(peerDir, "pom.xml")).mtimeMs)
  if (existsSync(jar) && statSync(jar).mtimeMs > sources) return
  console.log("building bench/peers/kafka-streams (mvn -q -B package)")
  execFileSync("mvn", ["-q", "-B", "package"], { cwd: peerDir, stdio: "inherit" })
}

const java = (args: ReadonlyArray<string>, heap = "256m") => [`-Xmx${heap}`, "-jar", jar, ...args]
const admin = (...args: Array<string>) =>
  execFileSync("java", java(["admin", ...args.slice(0, 1), "--bootstrap", BROKERS, ...args.slice(1)]), {
    encoding: "utf8",
  })

const ksOutput = (prefix: string) => `${prefix}KS.ROUTER_REQUESTS_SUMMARY.1`

/**
 * Creates the prefix's topics (tally's with its own `tally topics ensure`; the peer's output topic with
 * the settings of tally's summary topic) and loads the input once through the peer jar's producer
 * (acks=all), so loading does not depend on tally's Kafka client; returns what the input holds.
 */
const loadInput = async (tally: string, prefix: string, records: number, t0: number) => {
  execFileSync(process.execPath, [join(tally, "src/main.ts"), "topics", "ensure"], {
    env: {
      ...process.env,
      TALLY_KAFKA_BROKERS: BROKERS,
      TALLY_TOPIC_PREFIX: prefix,
      TALLY_LOG_LEVEL: "Warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  })
  const summary = catalogue(1, PARTITIONS, prefix).find(
    (t) => t.name === summaryTopic("ROUTER_REQUESTS", prefix),
  )!
  const config = Object.entries(summary.config).map(([k, v]) => `${k}=${v}`)
  execFileSync("java", java(["admin", "create-topics", "--bootstrap", BROKERS]), {
    input: `${ksOutput(prefix)} ${summary.partitions} 1 ${config.join(";")}\n`,
    stdio: ["pipe", "inherit", "inherit"],
  })
  const producer = spawn(
    "java",
    java(["produce", "--bootstrap", BROKERS, "--topic", rawTopic("ROUTER_REQUESTS", prefix)], "512m"),
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  )
  const output = createInterface({ input: producer.stdout })[Symbol.asyncIterator]().next()
  const plan = emptyPlan()
  for (const chunk of load(records, prefix, t0, SPAN_MS, plan))
    if (!producer.stdin.write(frame(chunk))) await once(producer.stdin, "drain")
  producer.stdin.end()
  const line = await output
  const produced = line.done ? -1 : (JSON.parse(line.value).produced as number)
  if (produced !== plan.records) throw new Error(`the loader produced ${produced} of ${plan.records} records`)
  return plan
}

/** Records as the peer jar's `produce` reads them: [int32 n][key][int64 timestamp][int32 n][value]. */
const frame = (records: ReadonlyArray<OutRecord>) => {
  let size = 0
  for (const r of records) size += 16 + Buffer.byteLength(r.key) + r.value.length
  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (const r of records) {
    const n = out.write(r.key, at + 4)
    out.writeInt32BE(n, at)
    at += 4 + n
    out.writeBigInt64BE(BigInt(r.timestamp), at)
    out.writeInt32BE(r.value.length, at + 8)
    out.set(r.value, at + 12)
    at += 12 + r.value.length
  }
  return out.subarray(0, at)
}

/** The watcher's last line (Watch.java), or why there was none. */
interface Outcome {
  readonly done: boolean
  readonly doneAt: number
  readonly firstAt: number
  readonly series: number
  readonly statsHash: string
  readonly quantiles: Record<string, [number, number]>
  readonly died?: number | null
}

/** Starts the watcher on `topic` and resolves once it is positioned at the topic's end. */
const watch = async (topic: string, plan: Plan, logDir: string) => {
  const expect = Object.entries(plan.expected)
    .map(([metric, n]) => `${metric}=${n}`)
    .join(",")
  const timeout = Math.max(180, Math.ceil(plan.records / 5000))
  const child = spawn(
    "java",
    java([
      "watch",
      "--bootstrap",
      BROKERS,
      "--topic",
      topic,
      "--expect",
      expect,
      "--timeout-s",
      String(timeout),
    ]),
    { stdio: ["ignore", "pipe", "pipe"] },
  )
  child.stderr.on("data", (d: Buffer) => process.stderr.write(d))
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const first = await lines.next()
  if (first.done || !JSON.parse(first.value).ready)
    throw new Error(`the watcher did not start (see ${logDir})`)
  const result: Promise<Outcome> = lines
    .next()
    .then((l) => (l.done ? ({ done: false } as Outcome) : (JSON.parse(l.value) as Outcome)))
  return { child, result }
}

/** One timed run of `system` over the loaded input. */
const measure = async (
  system: System,
  rep: number,
  tally: string,
  prefix: string,
  plan: Plan,
  logDir: string,
) => {
  const tag = `${system.id}-r${rep}`
  // Fresh consumer groups (README: worker i of N is group <prefix>tally-aggregator.w<i>of<N>): from the earliest offset.
  if (system.kind === "tally")
    admin(
      "delete-groups",
      ...Array.from(
        { length: system.parallelism },
        (_, i) => `${prefix}tally-aggregator.w${i}of${system.parallelism}`,
      ),
    )
  const appId = `${prefix}ks-${tag}`
  const stateDir = join(logDir, `state-${tag}`) // Kafka Streams' RocksDB stores, removed after the run
  const watcher = await watch(
    system.kind === "tally" ? summaryTopic("ROUTER_REQUESTS", prefix) : ksOutput(prefix),
    plan,
    logDir,
  )
  const t0 = Date.now()
  const log = join(logDir, `${tag}.log`)
  const { TALLY_METRICS_PORT: _, ...env } = process.env
  const children =
    system.kind === "tally"
      ? Array.from({ length: system.parallelism }, (_, i) =>
          start(
            process.execPath,
            [join(tally, "src/main.ts"), "aggregator"],
            {
              ...env,
              TALLY_KAFKA_BROKERS: BROKERS,
              TALLY_TOPIC_PREFIX: prefix,
              TALLY_WORKERS: String(system.parallelism),
              TALLY_WORKER_INDEX: String(i),
              TALLY_FLUSH_AFTER: `${EMIT_MS}ms`,
              TALLY_LOG_LEVEL: "Warn",
            },
            log,
          ),
        )
      : [
          start(
            "java",
            java(
              [
                "run",
                "--bootstrap",
                BROKERS,
                "--app-id",
                appId,
                "--input",
                rawTopic("ROUTER_REQUESTS", prefix),
                "--output",
                ksOutput(prefix),
                "--threads",
                String(system.parallelism),
                "--state-dir",
                stateDir,
                "--commit-ms",
                String(EMIT_MS),
                "--cache-mb",
                String(KS_CACHE_MB),
              ],
              KS_HEAP,
            ),
            process.env,
            log,
          ),
        ]
  const sampler = new Sampler(children.map((c) => c.pid!))
  // A system that dies before it is done fails the run at once instead of at the watcher's timeout.
  const died = Promise.race(
    children.map(
      (c) => new Promise<Outcome>((r) => c.once("exit", (code) => r({ done: false, died: code } as Outcome))),
    ),
  )
  let outcome: Outcome
  let cpu = 0
  try {
    outcome = await Promise.race([watcher.result, died])
    cpu = sampler.sample().cpu
  } finally {
    // whatever happened, nothing this run started outlives it
    sampler.stop()
    const stopping = Date.now()
    const exits = await Promise.all([...children.map((c) => stop(c)), stop(watcher.child, 5000)])
    console.log(
      `  stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s, exit codes ${exits.join(", ")}`,
    )
    if (system.kind === "ks") {
      admin("cleanup", "--prefix", appId)
      rmSync(stateDir, { recursive: true, force: true })
    }
  }
  if (!outcome.done)
    throw new Error(`${system.name}, run ${rep}: not done (${JSON.stringify(outcome)}); log: ${log}`)
  const seconds = (outcome.doneAt - t0) / 1000
  const result: Result = {
    system,
    rep,
    seconds,
    rate: plan.records / seconds,
    firstOutputS: (outcome.firstAt - t0) / 1000,
    peakRssMb: sampler.peakRss / 2 ** 20,
    cpuS: cpu,
    series: outcome.series,
    statsHash: outcome.statsHash,
    quantiles: outcome.quantiles,
  }
  console.log(
    `${system.name}, run ${rep}: ${fmt(result.rate)} measurements/s (${seconds.toFixed(1)} s, first output ${result.firstOutputS.toFixed(1)} s), peak RSS ${fmt(result.peakRssMb)} MB, CPU ${cpu.toFixed(1)} s, ${result.series} series, hash ${result.statsHash}`,
  )
  return result
}

export const run = async () => {
  // Prints the section of a saved run (results.json beside its logs) without touching BENCHMARKS.md,
  // whose stamp would date it now.
  const saved = option("render", "")
  if (saved) {
    const { plan, conditions, results } = JSON.parse(readFileSync(saved, "utf8"))
    return console.log(render(plan, conditions, results))
  }
  const records = Number(option("measurements", "2000000"))
  const runs = Number(option("runs", "3"))
  const ids = option("systems", SYSTEMS.map((s) => s.id).join(",")).split(",")
  const systems = SYSTEMS.filter((s) => ids.includes(s.id))
  // Another checkout's tally (e.g. a clean export of a commit while this one is being edited).
  const tally = resolve(option("tally", root))
  const tallyLabel = option(
    "tally-label",
    tally === root ? `this checkout at ${describe()}` : `tally from ${tally}`,
  )
  if (!(await answers()))
    execFileSync("bash", [join(root, "scripts/kafka.sh"), "start"], { stdio: "inherit" })
  buildJar()
  const prefix = `peers-${Date.now().toString(36)}.`
  const logDir = join(import.meta.dirname, "peers/.runs", prefix.slice(0, -1))
  mkdirSync(logDir, { recursive: true })
  // The test setup prunes every prefixed topic on the shared broker unless a run is registered here
  // (test/globalSetup.ts): register, so a test run starting meanwhile leaves this benchmark's topics alone.
  const registration = join(tmpdir(), "tally-test-runs", String(process.pid))
  mkdirSync(join(tmpdir(), "tally-test-runs"), { recursive: true })
  writeFileSync(registration, "")
  const started = Date.now()
  const loadAtStart = loadavg()[0]!
  try {
    // Event times end 5 minutes ago, well inside the raw topic's retention.
    const t0 = Math.floor((Date.now() - 5 * 60_000 - SPAN_MS) / 60_000) * 60_000
    const loadStart = Date.now()
    const plan = await loadInput(tally, prefix, records, t0)
    console.log(
      `loaded ${fmt(plan.records)} records (${fmt(plan.retried)} of retried deliveries) into ${rawTopic("ROUTER_REQUESTS", prefix)} in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`,
    )
    const results: Array<Result> = []
    for (let rep = 1; rep <= runs; rep++)
      for (const system of systems) results.push(await measure(system, rep, tally, prefix, plan, logDir))
    const conditions: Conditions = {
      runs,
      spanMs: SPAN_MS,
      emitMs: EMIT_MS,
      ksCacheMb: KS_CACHE_MB,
      ksHeap: KS_HEAP,
      tally: tallyLabel,
      loadAverage: { start: loadAtStart, end: loadavg()[0]! },
      wallS: (Date.now() - started) / 1000,
      note: option("note", ""),
    }
    const file = join(logDir, "results.json")
    writeFileSync(file, JSON.stringify({ plan, conditions, results }, null, 2))
    const markdown = render(plan, conditions, results)
    writeSection("peers", markdown)
    console.log(`${markdown}\n\nresults: ${file}`)
  } finally {
    console.log(admin("cleanup", "--prefix", prefix).trim())
    rmSync(registration, { force: true })
  }
}

/** This checkout's commit, and whether src/ has uncommitted changes. */
const describe = () => {
  const git = (...args: Array<string>) =>
    execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim()
  try {
    const dirty = git("status", "--porcelain", "--", "src") !== ""
    return `commit ${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes in src/" : ""}`
  } catch {
    return "an unknown commit"
  }
}
