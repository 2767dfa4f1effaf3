/**
 * npm run chaos -- --minutes N --seed S [--brokers 1|3] [--rate R] [--apps N] [--shield-apps N]
 *   [--poison-every M] [--late P] [--too-late P] [--embedded-rate R] [--tries K] [--flush-after D]
 *   [--settle-seconds S] [--max-seconds-to-exact S] [--without KIND,…] [--schedule FILE] [--keep] [--json]
 *
 * Every tally stage its own process under a small supervisor (ingress/API, aggregator workers 0 and 1
 * of 2 plus a hot standby of worker 0, sink, retrier) on the project's Kafka broker or the three-node
 * cluster (--brokers 3, replication 3) and 3 fresh Postgres shard databases (shards 1 and 2 and the
 * brokers of worker 1 and the sink behind proxies the harness can slow down and black-hole), an embedded
 * tally (`npm start`) on a size-limited volume beside it, drain load from tools/load with its oracle
 * against each, and a seeded schedule of faults (printed first: the same seed replays it). Exit 0 only
 * when every stored 1-minute and 15-minute rollup equals the oracle, the poison lines were refused and
 * counted, the too-late lines dropped and counted, no row reached a dead-letter topic and the numbers
 * were exact within --max-seconds-to-exact of the last fault; 1 otherwise; 2 on bad usage. Progress goes
 * to stderr, the verdict to stdout (one JSON object with --json); logs: test-output/chaos/<seed>.log and
 * test-output/chaos/<seed>/.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { formatResult, toJson } from "./report.ts"
import { type ChaosOptions, chaos } from "./run.ts"
import { FAULT_KINDS, type Fault, type FaultKind } from "./schedule.ts"

const USAGE = `usage: npm run chaos -- --minutes N [--seed S] [--brokers 1|3] [--rate R] [--apps N]
  [--shield-apps N] [--poison-every M] [--late P] [--too-late P] [--embedded-rate R]
  [--embedded-volume-mb M] [--tries K] [--flush-after D] [--settle-seconds S]
  [--max-seconds-to-exact S] [--without KIND,…] [--schedule FILE] [--keep] [--tally DIR] [--json]
  --brokers 3 runs on the three-node cluster (scripts/kafka.sh cluster; started if it is not running,
    and stopped at the end when the run started it) with replication 3
  --rate default 30,000 lines/s: half the cluster benchmark's held rate (BENCHMARKS.md)
  --late, --too-late: the share of lines 1 s-4 min late (they count) and 25-40 min late (dropped, counted)
  --without leaves fault kinds out of the schedule: ${FAULT_KINDS.join(", ")}
    (without kill-embedded and disk-full there is no embedded tally)
  --embedded-rate (default 1,000 lines/s) and --embedded-volume-mb (default 1,536: a tmpfs, root or sudo)
    size the embedded tally's load and its volume
  --schedule plays the faults of FILE (a run's schedule.json, possibly cut down) instead of the seed's
  --keep leaves the run's databases and topics in place to look at (drop them yourself afterwards)
  --tally DIR runs the stages from another checkout (e.g. a clean copy of a commit: git archive HEAD);
    default this one, uncommitted changes included`

const usage = (message: string): never => {
  console.error(`chaos: ${message}\n${USAGE}`)
  process.exit(2)
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        minutes: { type: "string", default: "15" },
        seed: { type: "string" },
        brokers: { type: "string", default: "1" },
        rate: { type: "string", default: "30000" },
        apps: { type: "string", default: "6" },
        "shield-apps": { type: "string", default: "1" },
        "poison-every": { type: "string", default: "20" },
        late: { type: "string", default: "0.02" },
        "too-late": { type: "string", default: "0.002" },
        "embedded-rate": { type: "string", default: "1000" },
        "embedded-volume-mb": { type: "string", default: "1536" },
        tries: { type: "string", default: "100" },
        "flush-after": { type: "string", default: "1s" },
        "settle-seconds": { type: "string", default: "180" },
        "max-seconds-to-exact": { type: "string", default: "60" },
        without: { type: "string", default: "" },
        schedule: { type: "string" },
        tally: { type: "string" },
        keep: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    })
  } catch (e) {
    return usage((e as Error).message)
  }
})()
const { values } = parsed
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

const number = (name: keyof typeof values, min: number, integer = true): number => {
  const raw = values[name]
  const v = Number(raw)
  if (typeof raw !== "string" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
    return usage(`--${name} must be ${integer ? "an integer" : "a number"} ≥ ${min}; got ${raw}`)
  return v
}

const without = values.without
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean)
for (const k of without)
  if (!(FAULT_KINDS as ReadonlyArray<string>).includes(k)) usage(`unknown fault kind ${k}`)

// A parent that went away (a test runner that timed out) must not end the run before its cleanup.
process.stdout.on("error", () => undefined)
process.stderr.on("error", () => undefined)

const root = join(import.meta.dirname, "../..")
const seed = values.seed === undefined ? Math.floor(Math.random() * 100_000) : number("seed", 0)
const logFile = join(root, "test-output", "chaos", `${seed}.log`)
let started = false
const say = (line: string) => {
  const text = `${new Date().toISOString().slice(11, 19)} ${line}`
  console.error(text)
  // The run directory is emptied at the start of the run; the log of the run is written next to it.
  if (!started) writeFileSync(logFile, "")
  started = true
  appendFileSync(logFile, `${text}\n`)
}

const faults = (() => {
  if (values.schedule === undefined) return undefined
  try {
    const parsed = JSON.parse(readFileSync(values.schedule, "utf8")) as { faults?: Array<Fault> }
    const list = parsed.faults ?? []
    for (const f of list)
      if (!(FAULT_KINDS as ReadonlyArray<string>).includes(f.kind) || typeof f.at !== "number")
        return usage(`--schedule: not a fault: ${JSON.stringify(f)}`)
    return list
  } catch (e) {
    return usage(`--schedule: ${(e as Error).message}`)
  }
})()

const tally = resolve(values.tally ?? root)
if (!existsSync(join(tally, "src/main.ts"))) usage(`--tally: no src/main.ts in ${tally}`)

const brokers = number("brokers", 1)
if (brokers !== 1 && brokers !== 3) usage(`--brokers must be 1 or 3; got ${brokers}`)
const share = (name: "late" | "too-late") => {
  const v = number(name, 0, false)
  return v > 0.5 ? usage(`--${name} is a share of lines between 0 and 0.5; got ${v}`) : v
}
const options: ChaosOptions = {
  root,
  tally,
  seed,
  minutes: number("minutes", 1, false),
  brokers,
  rate: number("rate", 1),
  apps: number("apps", 1),
  shieldApps: number("shield-apps", 0),
  poisonEvery: number("poison-every", 1),
  lateChance: share("late"),
  tooLateChance: share("too-late"),
  embeddedRate: number("embedded-rate", 1),
  embeddedVolumeMb: number("embedded-volume-mb", 64),
  maxSecondsToExact: number("max-seconds-to-exact", 1, false),
  tries: number("tries", 1),
  flushAfter: values["flush-after"],
  settleSeconds: number("settle-seconds", 10),
  without: without as Array<FaultKind>,
  keep: values.keep,
  faults,
  say,
}

// Ctrl-C or SIGTERM: the run's cleanup (stop the processes, start the broker again if a fault stopped
// it, drop the databases and topics), then exit 130; a second one exits at once.
let cleanup: (() => Promise<void>) | undefined
let interrupted = false
const interrupt = () => {
  if (interrupted || !cleanup) process.exit(130)
  interrupted = true
  console.error("chaos: interrupted; cleaning up (again to leave everything as it is)")
  void cleanup().finally(() => process.exit(130))
}
process.on("SIGINT", interrupt)
process.on("SIGTERM", interrupt)

const result = await chaos({ ...options, onInterrupt: (f) => (cleanup = f) })
writeFileSync(join(result.runDir, "result.json"), JSON.stringify(toJson(result), null, 2))
if (values.json) console.log(JSON.stringify(toJson(result)))
else console.log(formatResult(result))
process.exit(result.failures.length === 0 ? 0 : 1)
