/**
 * One chaos run, start to end: fresh shard databases and topics (on the project's broker or the three-node
 * cluster), every tally stage its own process under the supervisor, an embedded tally (`npm start`) on a
 * size-limited volume beside it, the load tool's drain load with its oracle against each, the seeded
 * faults, live checks while the load runs, then the verdict once the load has ended and the pipeline
 * drained; everything it created is removed at the end (also when the run fails or is interrupted).
 */
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { rawTopic } from "../../src/bus/Topics.ts"
import { MeasurementTypes } from "../../src/domain/MeasurementType.ts"
import {
  type Body,
  compareOnce,
  compareReads,
  createFleetApps,
  type Fleet,
  Lateness,
  type LiveApp,
  type LoadReport,
  makeFleet,
  readAll,
  runLoad,
  type Verdict,
  type VerifyApp,
  verify,
  verifyApps,
} from "../load/index.ts"
import { convergence } from "./convergence.ts"
import { type ChaosExtension, type ExtensionContext, loadExtensions } from "./extensions.ts"
import { type FaultContext, type Injected, inject } from "./faults.ts"
import {
  allowConnections,
  BROKERS,
  brokerWorks,
  CLUSTER_BROKERS,
  clusterScript,
  createDatabases,
  createProbeTopic,
  type DeadLetters,
  databaseUrl,
  deleteRunTopics,
  dropDatabases,
  freeVolume,
  kafkaScript,
  listening,
  mountVolume,
  pgServer,
  proxiedListener,
  proxiedPort,
  readDeadLetters,
  unmountVolume,
} from "./infra.ts"
import { health, RefusalCounter, type Sample, scrape, total } from "./metrics.ts"
import { ProxyHost } from "./proxyHost.ts"
import {
  EMBEDDED_KINDS,
  type Fault,
  type FaultKind,
  formatSchedule,
  makeSchedule,
  type Schedule,
} from "./schedule.ts"
import { type Exit, Supervisor } from "./supervisor.ts"
import { liveView, openOf, Watch, WatchedGenerator, WatchedOracle } from "./tracking.ts"

export interface ChaosOptions {
  /** This checkout: the harness, scripts/kafka.sh, test-output/. */
  readonly root: string
  /** The checkout whose `src/main.ts` the stages run (this one, or a clean copy of a commit). */
  readonly tally: string
  readonly seed: number
  readonly minutes: number
  /** 1: the project's broker (127.0.0.1:9092); 3: the three-node cluster (scripts/kafka.sh cluster). */
  readonly brokers: number
  /** Offered lines per second to the pipeline, all apps together. */
  readonly rate: number
  readonly apps: number
  /** How many of the apps send as Shield spaces do (no Frame-Id: a retried body may count twice). */
  readonly shieldApps: number
  /** Every Mth drain body carries one poison line of each kind. */
  readonly poisonEvery: number
  /** Chance that a line is late (up to 4 minutes: it counts) and too late (25-40 minutes: dropped, counted). */
  readonly lateChance: number
  readonly tooLateChance: number
  /** Offered lines per second to the embedded tally (when the schedule has its faults). */
  readonly embeddedRate: number
  /** Size of the embedded tally's volume (MB). */
  readonly embeddedVolumeMb: number
  /** Tries per drain body (same Frame-Id), enough to outlast every fault. */
  readonly tries: number
  readonly flushAfter: string
  readonly without: ReadonlyArray<FaultKind>
  /** How long after the load the pipeline has to be exact (s). */
  readonly settleSeconds: number
  /** A run whose numbers are exact later than this after its last fault fails (s). */
  readonly maxSecondsToExact: number
  /** Leave the databases and topics in place (to look at them). */
  readonly keep: boolean
  /** An explicit list of faults instead of the seeded schedule (to replay part of a run). */
  readonly faults?: ReadonlyArray<Fault> | undefined
  readonly say: (line: string) => void
  /** Receives the run's cleanup, for a Ctrl-C: stop the processes, start the broker, drop what was made. */
  readonly onInterrupt?: (cleanup: () => Promise<void>) => void
}

export interface LiveCheck {
  /** When its reads began and when the last one was answered. */
  readonly atMs: number
  readonly endMs: number
  /** Windows compared: those that ended by this time (and that no body in flight can still change). */
  readonly throughMs: number
  readonly rollups: number
  readonly rollups15: number
  readonly differences: number
  readonly sample: ReadonlyArray<string>
}

/** One tally under load: the pipeline of processes, or the embedded one. */
export interface TargetResult {
  readonly name: "pipeline" | "embedded"
  readonly rate: number
  readonly apps: number
  readonly shieldApps: number
  readonly load: LoadReport | undefined
  readonly verdict: Verdict | undefined
  readonly liveChecks: ReadonlyArray<LiveCheck>
  /** Too-late samples and records (per period: 1m, 15m) the oracle knows were certainly dropped. */
  readonly tooLate: {
    readonly linesSent: number
    readonly droppedSamples: readonly [number, number]
    readonly droppedRecords: readonly [Record<string, number>, Record<string, number>]
  }
  /** Tries answered, by status, per second of the load (for what each fault showed). */
  readonly statusesBySecond: ReadonlyArray<Record<string, number>>
}

export interface ChaosResult {
  readonly options: Omit<ChaosOptions, "say" | "root" | "tally" | "onInterrupt">
  /** What ran: the checkout, its commit, and whether src/ had uncommitted changes. */
  readonly tally: Checkout
  readonly runDir: string
  readonly prefix: string
  readonly databases: ReadonlyArray<string>
  readonly brokerList: ReadonlyArray<string>
  readonly schedule: Schedule
  readonly extensions: ReadonlyArray<string>
  readonly injected: ReadonlyArray<Injected>
  readonly loadStartMs: number
  readonly targets: ReadonlyArray<TargetResult>
  readonly exits: ReadonlyArray<Exit>
  readonly poison: {
    /** `bad_*` refusals summed over the ingress's incarnations, by reason; and its other refusals. */
    readonly counted: number
    readonly byReason: Record<string, number>
    readonly otherRefusals: Record<string, number>
    readonly incarnations: ReadonlyArray<{ incarnation: number; atMs: number; poison: number }>
    readonly acknowledged: number
    readonly given: number
    readonly exposed: number
    readonly lo: number
    readonly hi: number
  }
  /** The aggregators' late counter (tally_aggregator_late_dropped_total), summed over their incarnations. */
  readonly lateCounted: {
    readonly byPeriod: Record<string, number>
    /** The pipeline oracle's certainly dropped records, per period, less those near an aggregator's death. */
    readonly expectedAtLeast: Record<string, number>
  }
  readonly deadLetters: DeadLetters | undefined
  /** Per process at the end: /healthz and a few counters. */
  readonly pipeline: Record<string, { health: unknown; counters: Record<string, number> }>
  readonly extensionLines: ReadonlyArray<string>
  readonly shutdown: ReadonlyArray<Exit>
  /** Why the run is not exact (empty: it is). */
  readonly failures: ReadonlyArray<string>
  /** What the pipeline did wrong without changing the numbers: crashes, graceful stops that hung. */
  readonly findings: ReadonlyArray<string>
  readonly error?: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface Checkout {
  readonly dir: string
  readonly commit: string
  readonly dirty: boolean
}

/** The commit of a checkout, and whether its src/ differs from it (a copy without .git: "unknown"). */
const describeCheckout = (dir: string): Checkout => {
  const git = (args: Array<string>) => {
    try {
      return execFileSync("git", ["-C", dir, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim()
    } catch {
      return undefined
    }
  }
  const commit = git(["rev-parse", "--short", "HEAD"])
  const version = (() => {
    try {
      return readFileSync(join(dir, "COMMIT"), "utf8").trim()
    } catch {
      return "unknown"
    }
  })()
  return {
    dir,
    commit: commit ?? version,
    dirty: commit ? (git(["status", "--porcelain", "src"]) ?? "") !== "" : false,
  }
}

/** Ended by tally itself: exit code 1-3 and its last line is main.ts's one `tally: …` line. */
export const failFast = (e: Exit) =>
  e.code !== null && e.code >= 1 && e.code <= 3 && (e.lastLines.at(-1) ?? "").startsWith("tally: ")

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

/** Waits until the process answers /healthz with 200 (its stages run, Kafka and its shards answer). */
const healthy = async (s: Supervisor, name: string, withinMs: number) => {
  const until = Date.now() + withinMs
  while (Date.now() < until) {
    const h = await health(s.spec(name).port)
    if (h.status === 200) return
    await sleep(250)
  }
  throw new Error(
    `${name} did not become healthy within ${withinMs / 1000} s; last lines:\n${s.output(name).join("\n")}`,
  )
}

const COUNTERS = [
  "tally_retrier_backlog",
  "tally_sink_retried_batches_total",
  "tally_dead_letters_total",
  "tally_events_refused_total",
  "tally_aggregator_late_dropped_total",
  "tally_aggregator_duplicate_deliveries_total",
  "tally_ingress_duplicate_batches_total",
] as const

const AGGREGATORS = ["aggregator-0", "aggregator-0-standby", "aggregator-1"] as const

/** Tries answered per second of the load, by status. */
class StatusLog {
  readonly seconds: Array<Record<string, number>> = []
  private startMs = 0
  begin(ms: number) {
    this.startMs = ms
  }
  record(status: number | "timeout" | "error") {
    const s = Math.max(0, Math.floor((Date.now() - this.startMs) / 1000))
    while (this.seconds.length <= s) this.seconds.push({})
    const row = this.seconds[s]!
    row[String(status)] = (row[String(status)] ?? 0) + 1
  }
}

/** Statuses answered to a target's drains between two times (ms). */
export const statusesBetween = (
  r: { loadStartMs: number },
  t: Pick<TargetResult, "statusesBySecond">,
  fromMs: number,
  toMs: number,
): Record<string, number> => {
  const out: Record<string, number> = {}
  const a = Math.max(0, Math.floor((fromMs - r.loadStartMs) / 1000))
  const b = Math.floor((toMs - r.loadStartMs) / 1000)
  for (let s = a; s <= b && s < t.statusesBySecond.length; s++)
    for (const [k, v] of Object.entries(t.statusesBySecond[s]!)) out[k] = (out[k] ?? 0) + v
  return out
}

interface Target {
  readonly name: "pipeline" | "embedded"
  readonly base: string
  readonly rate: number
  readonly fleet: Fleet
  readonly watch: Watch
  readonly generator: WatchedGenerator
  readonly oracle: WatchedOracle
  readonly apps: ReadonlyArray<LiveApp>
  readonly statuses: StatusLog
  readonly liveChecks: Array<LiveCheck>
  tooLateLines: number
  load?: LoadReport | undefined
  verdict?: Verdict | undefined
}

export const chaos = async (o: ChaosOptions): Promise<ChaosResult> => {
  const say = o.say
  const runDir = join(o.root, "test-output", "chaos", String(o.seed))
  rmSync(runDir, { recursive: true, force: true })
  mkdirSync(runDir, { recursive: true })
  const stamp = Date.now().toString(36)
  const prefix = `chaos${o.seed}-${stamp}.`
  const databases = [0, 1, 2].map((i) => `tally_chaos_${o.seed}_${stamp}_${i}`)
  const loadSeconds = Math.round(o.minutes * 60)
  const extensions: Array<ChaosExtension> = await loadExtensions()
  const schedule: Schedule = o.faults
    ? {
        seed: o.seed,
        loadSeconds,
        brokers: o.brokers,
        faultsEndBy: Math.floor(loadSeconds * 0.8),
        without: [],
        faults: o.faults,
      }
    : makeSchedule({
        seed: o.seed,
        loadSeconds,
        brokers: o.brokers,
        without: o.without,
        extensions: extensions.map((e) => e.kind),
      })
  for (const line of formatSchedule(schedule)) say(line)
  if (extensions.length === 0)
    say(
      "  (no alerter extension in this checkout: tools/chaos/alerter.ts is absent; kill-alerter is not played)",
    )
  writeFileSync(join(runDir, "schedule.json"), JSON.stringify(schedule, null, 2))
  const cluster = o.brokers === 3
  const brokerList = cluster ? CLUSTER_BROKERS : BROKERS
  if (process.env.TALLY_KAFKA_BROKERS)
    throw new Error(
      "the chaos run uses the project's own broker or cluster (scripts/kafka.sh), and breaks them: unset TALLY_KAFKA_BROKERS",
    )
  const withEmbedded = schedule.faults.some((f) => EMBEDDED_KINDS.includes(f.kind))

  // Test runs sharing the broker register here: a test setup prunes old test topics only when no run is
  // registered, so the run's topics must not disappear under it (test/globalSetup.ts).
  const registry = join(tmpdir(), "tally-test-runs")
  mkdirSync(registry, { recursive: true })
  writeFileSync(join(registry, String(process.pid)), "")
  const supervisor = new Supervisor(o.tally, runDir, (line) => say(`  [proc] ${line}`))
  const tally = describeCheckout(o.tally)
  say(
    `tally under test: ${tally.dir} at ${tally.commit}${tally.dirty ? " with uncommitted changes in src/" : ""}`,
  )
  const injected: Array<Injected> = []
  const refusals = new RefusalCounter()
  const lateCounters = new Map<string, { atMs: number; byPeriod: Record<string, number> }>()
  const failures: Array<string> = []
  const pipeline: ChaosResult["pipeline"] = {}
  const targets: Array<Target> = []
  const extensionLines: Array<string> = []
  let shutdown: ReadonlyArray<Exit> = []
  let deadLetters: DeadLetters | undefined
  let loadStartMs = 0
  let error: string | undefined
  let brokerStopped = false
  let nodeDown: string | undefined
  let startedCluster = false
  const volume = withEmbedded ? join(tmpdir(), `tally-chaos-${o.seed}-${stamp}`) : undefined
  let volumeMounted = false
  const proxies = new ProxyHost()
  const server = pgServer()
  const pgPort = Number(new URL(server).port || 5432)
  const brokerProxies = brokerList.map((b) => `broker ${b}`)

  /** Stops every process, repairs what a fault left broken, removes what the run made; runs once. */
  let cleaning: Promise<void> | undefined
  const cleanup = () =>
    (cleaning ??= (async () => {
      const before = supervisor.exits.length
      await supervisor.stopAll()
      shutdown = supervisor.exits.slice(before)
      if (brokerStopped) await kafkaScript(o.root, "start")
      if (nodeDown) await clusterScript(o.root, "start", nodeDown)
      for (const db of [databases[0]!, databases[2]!]) await allowConnections(db).catch(() => undefined)
      await proxies.close()
      if (volume) {
        freeVolume(volume)
        if (volumeMounted) await unmountVolume(volume)
        rmSync(volume, { recursive: true, force: true })
      }
      if (!o.keep) {
        await dropDatabases(databases).catch((e: Error) => say(`could not drop the databases: ${e.message}`))
        await deleteRunTopics(prefix, brokerList)
          .then((d) =>
            say(`removed ${databases.length} databases, ${d.topics} topics, ${d.groups} consumer groups`),
          )
          .catch((e: Error) => say(`could not delete the topics: ${e.message}`))
      }
      if (startedCluster && !o.keep) {
        const r = await clusterScript(o.root, "stop")
        say(`stopped the Kafka cluster this run had started (${r.code === 0 ? "ok" : r.output.slice(-200)})`)
      }
      rmSync(join(registry, String(process.pid)), { force: true })
    })())
  o.onInterrupt?.(cleanup)

  /** Reads the ingress's refusal counters into its incarnation's entry; false when it did not answer. */
  const scrapeIngress = async (timeoutMs = 3000) => {
    const incarnation = supervisor.incarnation("ingress")
    if (incarnation === 0) return false
    const samples = await scrape(supervisor.spec("ingress").port, timeoutMs)
    // Only if the same incarnation answered (a restart in between would mix two counters).
    if (!samples || supervisor.incarnation("ingress") !== incarnation) return false
    refusals.record(incarnation, samples)
    return true
  }
  /** Reads each aggregator's late counter (by period) into its incarnation's entry. */
  const scrapeAggregators = async () => {
    for (const name of AGGREGATORS) {
      const incarnation = supervisor.incarnation(name)
      if (incarnation === 0) continue
      const samples: ReadonlyArray<Sample> | undefined = await scrape(supervisor.spec(name).port, 2000)
      if (!samples || supervisor.incarnation(name) !== incarnation) continue
      const byPeriod: Record<string, number> = {}
      for (const s of samples)
        if (s.name === "tally_aggregator_late_dropped_total" && s.labels.period)
          byPeriod[s.labels.period] = (byPeriod[s.labels.period] ?? 0) + s.value
      lateCounters.set(`${name}#${incarnation}`, { atMs: Date.now(), byPeriod })
    }
  }

  try {
    // Kafka: the cluster (started if it is not running), or the broker with its PROXIED listener.
    if (cluster) {
      const status = await clusterScript(o.root, "status")
      if (status.code !== 0) {
        say("starting the three-node Kafka cluster (scripts/kafka.sh cluster start)…")
        const r = await clusterScript(o.root, "start")
        if (r.code !== 0) throw new Error(`scripts/kafka.sh cluster start failed: ${r.output.slice(-600)}`)
        startedCluster = !status.output.includes("running")
      }
    } else if ((await kafkaScript(o.root, "status")).code !== 0) {
      const r = await kafkaScript(o.root, "start")
      if (r.code !== 0) throw new Error(`scripts/kafka.sh start failed: ${r.output.slice(-600)}`)
    } else if (!(await listening(proxiedListener(BROKERS[0]!)))) {
      // A broker started by an older scripts/kafka.sh has no PROXIED listener: restart it once.
      say("the broker has no PROXIED listener (started by an older scripts/kafka.sh): restarting it")
      await kafkaScript(o.root, "stop")
      const r = await kafkaScript(o.root, "start")
      if (r.code !== 0) throw new Error(`scripts/kafka.sh start failed: ${r.output.slice(-600)}`)
    }
    // The proxies: shard 1 (hung), shard 2 (slow then black-holed), and one per broker for the
    // stages that reach Kafka through them (aggregator worker 1 and the sink).
    const shard1 = await proxies.start("shard1", { host: "127.0.0.1", port: pgPort })
    const shard2 = await proxies.start("shard2", { host: "127.0.0.1", port: pgPort })
    for (const [i, b] of brokerList.entries())
      await proxies
        .start(brokerProxies[i]!, { host: "127.0.0.1", port: proxiedListener(b) }, proxiedPort(b))
        .catch((e: Error) => {
          throw new Error(
            `cannot listen on 127.0.0.1:${proxiedPort(b)} for the broker proxy (another chaos run?): ${e.message}`,
          )
        })
    const proxiedBrokers = brokerList.map((b) => `127.0.0.1:${proxiedPort(b)}`)

    await createDatabases(databases)
    const shardUrls = databases.map((db, i) =>
      databaseUrl(server, db, i === 1 ? shard1 : i === 2 ? shard2 : undefined),
    )
    say(
      `databases ${databases.join(", ")} (shard 0 holds the catalogue; shard 1 through a proxy on port ${shard1}, shard 2 on ${shard2}); topics ${prefix}* on ${brokerList.join(",")} (replication ${cluster ? 3 : 1}); aggregator-1 and the sink reach Kafka through proxies (${proxiedBrokers.join(",")})`,
    )
    const apiPort = await freePort()
    const base = `http://127.0.0.1:${apiPort}`
    const adminToken = `tly_chaos_${randomBytes(12).toString("hex")}`
    const env = {
      TALLY_KAFKA_BROKERS: brokerList.join(","),
      TALLY_KAFKA_REPLICATION: cluster ? "3" : "1",
      TALLY_PG_SHARDS: shardUrls.join(","),
      TALLY_TOPIC_PREFIX: prefix,
      TALLY_WORKERS: "2",
      TALLY_ADMIN_TOKEN: adminToken,
      TALLY_FLUSH_AFTER: o.flushAfter,
      TALLY_DATA_DIR: join(runDir, "data"),
      TALLY_PORT: String(apiPort),
    }
    const ensure = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [join(o.tally, "src/main.ts"), "topics", "ensure"], {
        cwd: o.tally,
        env: { ...process.env, ...env },
      })
      let output = ""
      child.stdout.on("data", (d: Buffer) => (output += d))
      child.stderr.on("data", (d: Buffer) => (output += d))
      child.on("close", (code) => resolve({ code, output }))
    })
    if (ensure.code !== 0) throw new Error(`tally topics ensure failed (${ensure.code}): ${ensure.output}`)
    await createProbeTopic(prefix, brokerList)
    const broken = await brokerWorks(prefix, 30_000, brokerList)
    if (broken) throw new Error(`Kafka answers but does not take produces: ${broken}`)

    const stage = async (name: string, args: Array<string>, extra: Record<string, string> = {}) => {
      const port = name === "ingress" ? apiPort : await freePort()
      supervisor.add({
        name,
        args,
        port,
        env: {
          ...env,
          ...(name === "ingress" ? {} : { TALLY_METRICS_PORT: String(port) }),
          TALLY_KAFKA_CLIENT_ID: `tally-${name}`,
          ...extra,
        },
      })
    }
    say("starting the stages…")
    const t0 = Date.now()
    const viaProxies = { TALLY_KAFKA_BROKERS: proxiedBrokers.join(",") }
    // Worker 0 runs twice: whichever joins first holds its partitions, the other waits as a hot standby
    // (the faults find out which is which when they strike).
    await stage("ingress", ["ingress"])
    await stage("aggregator-0", ["aggregator"], { TALLY_WORKER_INDEX: "0" })
    await stage("aggregator-0-standby", ["aggregator"], { TALLY_WORKER_INDEX: "0" })
    await stage("aggregator-1", ["aggregator"], { TALLY_WORKER_INDEX: "1", ...viaProxies })
    await stage("sink", ["sink"], viaProxies)
    await stage("retrier", ["retrier"])
    for (const e of extensions) for (const st of e.stages) await stage(st.name, [...st.args], { ...st.env })
    // The embedded tally: `npm start` (tally all on its embedded log and PGlite) on a volume of its own.
    const embeddedPort = withEmbedded ? await freePort() : 0
    if (volume) {
      const problem = await mountVolume(volume, o.embeddedVolumeMb)
      if (problem) {
        failures.push(`the embedded tally's volume: ${problem}`)
        say(`could not mount the embedded volume: ${problem}; it runs on an ordinary directory`)
      } else volumeMounted = true
      const embeddedEnv: Record<string, string> = {
        TALLY_KAFKA_BROKERS: "",
        TALLY_PG_SHARDS: "",
        TALLY_KAFKA_REPLICATION: "",
        TALLY_TOPIC_PREFIX: "",
        TALLY_WORKERS: "",
        TALLY_METRICS_PORT: "",
        TALLY_DATA_DIR: join(volume, "data"),
        TALLY_PORT: String(embeddedPort),
        TALLY_ADMIN_TOKEN: adminToken,
        TALLY_FLUSH_AFTER: o.flushAfter,
        TALLY_KAFKA_CLIENT_ID: "tally-embedded",
        MALLOC_MMAP_THRESHOLD_: "16384",
        MALLOC_TRIM_THRESHOLD_: "1048576",
      }
      supervisor.add({ name: "embedded", args: ["all"], port: embeddedPort, env: embeddedEnv })
    }
    for (const name of supervisor.names()) await healthy(supervisor, name, 180_000)
    say(`every stage is up (${((Date.now() - t0) / 1000).toFixed(1)} s): ${supervisor.names().join(", ")}`)

    const makeTarget = async (
      name: "pipeline" | "embedded",
      at: string,
      apps: number,
      shieldApps: number,
      rate: number,
      seed: number,
    ): Promise<Target> => {
      const fleet = makeFleet({ apps, seed, shieldApps, namePrefix: `chaos-${name.slice(0, 3)}-${stamp}` })
      const live = await createFleetApps(at, adminToken, fleet)
      const watch = new Watch()
      const lateness = new Lateness(
        fleet,
        live.map((a) => a.owner),
      )
      return {
        name,
        base: at,
        rate,
        fleet,
        watch,
        generator: new WatchedGenerator(
          fleet,
          {
            poisonEvery: name === "pipeline" ? o.poisonEvery : 0,
            lateChance: o.lateChance,
            tooLateChance: o.tooLateChance,
          },
          watch,
        ),
        oracle: new WatchedOracle(fleet, watch, { quarters: true, lateness }),
        apps: live,
        statuses: new StatusLog(),
        liveChecks: [],
        tooLateLines: 0,
      }
    }
    targets.push(await makeTarget("pipeline", base, o.apps, o.shieldApps, o.rate, o.seed))
    if (withEmbedded)
      targets.push(
        await makeTarget("embedded", `http://127.0.0.1:${embeddedPort}`, 2, 0, o.embeddedRate, o.seed + 1),
      )
    const main = targets[0]!
    for (const t of targets)
      say(
        `${t.name}: ${t.apps.length} apps created (${t.name === "pipeline" ? o.shieldApps : 0} Shield); load ${t.rate.toLocaleString("en-US")} lines/s for ${schedule.loadSeconds} s, ${o.tries} tries a body${t.name === "pipeline" ? `, poison every ${o.poisonEvery} bodies` : ""}; ${(o.lateChance * 100).toFixed(1)}% of lines late (up to 4 min), ${(o.tooLateChance * 100).toFixed(2)}% too late (25-40 min)`,
      )
    const extensionContext: ExtensionContext = {
      base,
      adminToken,
      apps: main.apps,
      supervisor,
      runDir,
      say: (line) => say(`  [ext] ${line}`),
    }
    for (const e of extensions) await e.setup?.(extensionContext)

    // The ingress's poison counter and the aggregators' late counters, every second (and right before
    // a fault signals the ingress).
    let loading = true
    const scraper = (async () => {
      while (loading) {
        await Promise.all([scrapeIngress(), scrapeAggregators()])
        await sleep(1000)
      }
    })()

    /** What a new client sees: an API read (status, missing) and an empty drain POST of the first app. */
    const probe = async () => {
      const app = main.apps[0]!
      const to = new Date()
      const from = new Date(to.getTime() - 10 * 60_000)
      const path = `/api/v1/apps/${app.owner}/metrics/router_status?from=${from.toISOString()}&to=${to.toISOString()}&step=1m`
      const read = await fetch(new URL(path, base), {
        headers: { authorization: `Bearer ${app.readToken}` },
        signal: AbortSignal.timeout(10_000),
      }).then(
        async (r) => {
          const text = await r.text()
          const missing = (() => {
            try {
              return (JSON.parse(text) as { missing?: Array<string> }).missing
            } catch {
              return undefined
            }
          })()
          return `API ${r.status}${missing ? ` missing [${missing.join(",")}]` : ""}`
        },
        (e: Error) => `API ${e.message}`,
      )
      return read
    }

    const ctx: FaultContext = {
      root: o.root,
      supervisor,
      proxies,
      databases,
      prefix,
      brokers: brokerList,
      brokerProxies,
      rawTopics: MeasurementTypes.map((t) => rawTopic(t, prefix)),
      beforeIngressSignal: () => scrapeIngress(),
      probe,
      volume: volumeMounted ? volume : undefined,
      say: (line) => say(`  [${((Date.now() - loadStartMs) / 1000).toFixed(0).padStart(4)} s] ${line}`),
    }
    loadStartMs = Date.now()
    for (const t of targets) t.statuses.begin(loadStartMs)
    // Once the verdict is taken without a target's load having settled, that load makes no more bodies.
    const stopLoads = new AbortController()
    const loads = targets.map((t) =>
      runLoad(
        t.generator,
        t.oracle,
        t.apps.map((a) => a.target),
        {
          rate: t.rate,
          seconds: schedule.loadSeconds,
          connections: t.name === "pipeline" ? 64 : 16,
          linesPerBody: 200,
          tries: o.tries,
          signal: stopLoads.signal,
          onTry: (status) => t.statuses.record(status),
          onSecond: (s) => {
            if (s.second % 10 === 9)
              say(
                `  [${String(s.second + 1).padStart(4)} s] ${t.name} load: offered ${s.offered}/s, accepted ${s.accepted}/s${s.overflowed ? `, drain buffers overflowed ${s.overflowed} lines` : ""}`,
              )
          },
        },
      ).then((load) => {
        t.load = load
        return load
      }),
    )
    const faultPromises = schedule.faults.map(async (f) => {
      await sleep(Math.max(0, loadStartMs + f.at * 1000 - Date.now()))
      if (f.kind === "broker") brokerStopped = true
      const extension = extensions.find((e) => e.kind === f.kind)
      const r = await (extension ? extension.inject(extensionContext, f) : inject(ctx, f)).catch(
        (e: Error): Injected => ({
          fault: f,
          what: f.kind,
          startMs: Date.now(),
          endMs: undefined,
          detail: `could not inject: ${e.message}`,
          ok: false,
        }),
      )
      if (f.kind === "broker") brokerStopped = r.endMs === undefined
      if ((f.kind === "node-kill" || f.kind === "node-kill-in-flight") && r.endMs === undefined)
        nodeDown = r.target?.replace("node ", "")
      injected.push(r)
    })
    const faults$ = Promise.all(faultPromises)
    // A target's own faults over (the embedded track's kinds strike the embedded tally, the others the
    // pipeline): from then its live checks come every 5 s, whatever the other target's faults still do.
    const ownFaultsDone = new Set<string>()
    for (const name of ["pipeline", "embedded"])
      void Promise.all(
        faultPromises.filter(
          (_, i) => EMBEDDED_KINDS.includes(schedule.faults[i]!.kind) === (name === "embedded"),
        ),
      ).then(() => ownFaultsDone.add(name))
    void faults$.then(() => {
      say(
        `  [${((Date.now() - loadStartMs) / 1000).toFixed(0).padStart(4)} s] every fault is over; fault-free from here`,
      )
    })

    // Live checks: the windows that ended 15 s ago compared with the oracle, without the rollups that
    // bodies in flight, sent while the check reads, or acknowledged in the 15 s before it can still
    // change (an acknowledged line takes a few seconds through the pipeline, and a late one changes a
    // minute that ended long ago: without them no live check under load was ever exact, 0 of 74 in a
    // 15-minute run, every one a count short by a line or two).
    const graceMs = 15_000
    const checker = async (t: Target) => {
      let next = Date.now() + 20_000
      while (loading) {
        await sleep(250)
        // Every 20 s while its faults run, every 5 s once they are over.
        const calm = ownFaultsDone.has(t.name)
        if (calm) next = Math.min(next, Date.now() + 5000)
        if (!loading || Date.now() < next) continue
        const now = Date.now()
        next = now + (calm ? 5000 : 20_000)
        const until = now - graceMs
        const stop = t.watch.collect()
        const inFlight = [...t.watch.inFlight.keys(), ...t.watch.acknowledgedSince(now - graceMs)]
        const snapshot: Array<VerifyApp> = verifyApps(t.oracle, [...t.apps])
        const reads = await readAll(t.base, snapshot, 4)
        const sent: Array<Body> = stop()
        const bodies = [...inFlight, ...sent]
        const apps = snapshot.map((a, i) => ({
          ...a,
          expectation: liveView(a.expectation, until, openOf(t.fleet, i, bodies)),
        }))
        const c = compareReads(apps, reads)
        if (c.rollups + c.rollups15 === 0) continue
        t.liveChecks.push({
          atMs: now,
          endMs: Date.now(),
          throughMs: until,
          rollups: c.rollups,
          rollups15: c.rollups15,
          differences: c.differences.length,
          sample: c.differences.slice(0, 3),
        })
      }
    }
    const checkers = targets.map(checker)

    // The bodies get `settleSeconds` after the load to be answered 204; those still retried then are
    // given up (uncertain) and the verdict is taken anyway.
    const settleBy = loadStartMs + (schedule.loadSeconds + o.settleSeconds) * 1000
    const settled = await Promise.race([
      Promise.all(loads).then(() => true),
      sleep(settleBy - Date.now()).then(() => false),
    ])
    loading = false
    stopLoads.abort()
    if (!settled)
      for (const t of targets)
        if (!t.load) {
          const pending = t.oracle.freeze()
          failures.push(
            `${t.name}: ${pending} drain bodies were still being retried ${o.settleSeconds} s after the load ended (the ingress kept refusing them)`,
          )
          say(`${t.name}: the load did not settle: ${pending} bodies still in flight; verifying without them`)
        }
    await Promise.all([faults$, scraper, ...checkers])
    // The targets are verified at once: one verified after the other would have its time to exact
    // stretched by the other's verification (the embedded tally's by the pipeline's, 68 s in one CI run).
    const verifyTarget = async (t: Target) => {
      if (t.load)
        say(
          `${t.name} load over: ${t.load.acceptedLines.toLocaleString("en-US")} of ${t.load.sentLines.toLocaleString("en-US")} lines sent acknowledged, ${t.load.droppedBodies} bodies given up; verifying every 1-minute and 15-minute rollup…`,
        )
      t.verdict = await verify(t.base, verifyApps(t.oracle, [...t.apps]), {
        sinceMs: t.load?.endMs ?? Date.now(),
        settleSeconds: o.settleSeconds,
        stableSeconds: Math.min(60, o.settleSeconds),
        onPoll: (c, elapsed) => {
          if (Math.round(elapsed / 1000) % 10 === 0 || c.differences.length === 0)
            say(
              `  ${t.name}: ${(elapsed / 1000).toFixed(0)} s after the load: ${c.exactRollups}/${c.rollups} exact (15m: ${c.exactRollups15}/${c.rollups15}), ${c.differences.length} differences`,
            )
        },
      })
      if (!t.verdict.exact) {
        // Every difference, for the reproduction (the verdict keeps 20 of them).
        const all = await compareOnce(t.base, verifyApps(t.oracle, [...t.apps]), 8)
        const file = join(runDir, `differences-${t.name}.txt`)
        writeFileSync(file, `${all.differences.join("\n")}\n`)
        say(`${t.name}: ${all.differences.length} differences written to ${file}`)
      }
    }
    await Promise.all(targets.map(verifyTarget))
    for (let i = 0; i < 10 && !(await scrapeIngress(5000)); i++) await sleep(1000)
    await scrapeAggregators()
    deadLetters = await readDeadLetters(prefix, brokerList).catch((e: Error) => {
      failures.push(`the DEAD topics could not be read: ${e.message}`)
      return undefined
    })
    for (const name of supervisor.names()) {
      const samples = (await scrape(supervisor.spec(name).port)) ?? []
      const counters: Record<string, number> = {}
      for (const c of COUNTERS) if (samples.some((s) => s.name === c)) counters[c] = total(samples, c)
      pipeline[name] = { health: (await health(supervisor.spec(name).port)).body, counters }
    }
    for (const e of extensions) {
      const v = await e.verify?.(extensionContext)
      if (v) {
        failures.push(...v.failures)
        extensionLines.push(...v.lines)
      }
    }
  } catch (e) {
    error = (e as Error).stack ?? String(e)
    say(`chaos: the run broke off: ${error}`)
  } finally {
    await cleanup()
  }

  // Each ingress process that ended before the last scrape: its counts after its last scrape are unknown.
  const main = targets[0]
  const scraped = new Map(refusals.perIncarnation().map((x) => [x.incarnation, x.atMs]))
  const windows = supervisor.exits
    .filter((e) => e.name === "ingress" && !shutdown.includes(e))
    .map((e) => ({ fromMs: scraped.get(e.incarnation) ?? 0, toMs: e.atMs }))
  const bounds = main
    ? main.watch.poisonBounds(windows)
    : { acknowledged: 0, given: 0, exposed: 0, lo: 0, hi: 0 }
  const reasons = Object.entries(refusals.byReason())
  const poison = {
    counted: refusals.total(),
    byReason: Object.fromEntries(reasons.filter(([k]) => k.startsWith("bad_"))),
    otherRefusals: Object.fromEntries(reasons.filter(([k]) => !k.startsWith("bad_"))),
    incarnations: refusals.perIncarnation(),
    ...bounds,
  }
  // The late counter: summed over the aggregators' incarnations; at least the records the oracle knows
  // were too late, less those acknowledged within a minute before an aggregator's death or freeze (a
  // process that counted them and died before the harness read its counter took the count with it).
  const lateByPeriod: Record<string, number> = {}
  for (const c of lateCounters.values())
    for (const [k, v] of Object.entries(c.byPeriod)) lateByPeriod[k] = (lateByPeriod[k] ?? 0) + v
  const deaths = [
    ...supervisor.exits
      .filter((e) => (AGGREGATORS as ReadonlyArray<string>).includes(e.name))
      .map((e) => e.atMs),
    ...injected.filter((i) => i.fault.kind === "freeze").map((i) => i.startMs),
  ]
  const expectedAtLeast: Record<string, number> = {}
  if (main)
    for (const [period, name] of [
      [0, "1m"],
      [1, "15m"],
    ] as const) {
      const exposed = main.watch.tooLateNear(deaths, 60_000)
      const certain = Object.values(main.oracle.droppedRecords(period)).reduce((a, b) => a + b, 0)
      expectedAtLeast[name] = Math.max(0, certain - exposed)
    }
  const findings: Array<string> = []
  for (const i of injected) if (i.finding) findings.push(i.finding)
  // An exit the harness did not cause: a crash (an uncaught error: a stack trace, not tally's one line)
  // is a finding; a stage that failed and ended its process with one `tally: …` line (so the supervisor
  // restarts it) is what the design asks for, and is listed with the processes.
  for (const e of supervisor.exits)
    if (!e.expected && !failFast(e))
      findings.push(
        `${e.name}#${e.incarnation} exited by itself (${e.signal ?? `code ${e.code}`}) at +${((e.atMs - loadStartMs) / 1000).toFixed(0)} s after ${(e.upMs / 1000).toFixed(1)} s up: ${
          e.lastLines
            .filter((l) => /error|fail|throw|exit/i.test(l))
            .slice(0, 2)
            .join(" / ") ||
          e.lastLines.at(-1) ||
          ""
        }`.slice(0, 400),
      )
  if (error) failures.push(`the run broke off: ${error.split("\n")[0]}`)
  for (const t of targets) {
    if (t.verdict && !t.verdict.exact)
      failures.push(
        `${t.name}: ${t.verdict.differenceCount} differences between the stored rollups and the oracle`,
      )
    if (t.load && t.load.droppedBodies > 0)
      failures.push(
        `${t.name}: ${t.load.droppedBodies} drain bodies were given up after ${o.tries} tries (their rollups could not be judged)`,
      )
  }
  for (const i of injected) {
    if (!i.ok) failures.push(`fault not injected as planned: ${i.what} (${i.detail})`)
    if (i.failure) failures.push(i.failure)
  }
  if (injected.length < schedule.faults.length && !error)
    failures.push(`${schedule.faults.length - injected.length} scheduled faults never ran`)
  if (!error && (poison.counted < poison.lo || poison.counted > poison.hi))
    failures.push(
      `the ingress counted ${poison.counted} poison lines refused; ${poison.acknowledged} were acknowledged (allowed ${poison.lo}…${poison.hi})`,
    )
  if (!error)
    for (const [period, least] of Object.entries(expectedAtLeast))
      if ((lateByPeriod[period] ?? 0) < least)
        failures.push(
          `the aggregators counted ${lateByPeriod[period] ?? 0} records dropped as too late for ${period}; at least ${least} were (tally_aggregator_late_dropped_total)`,
        )
  // Everything written: the retrier's backlog gauge is back at 0 (RELIABILITY's finding 4).
  const backlog = pipeline.retrier?.counters.tally_retrier_backlog
  if (!error && backlog !== undefined && backlog > 0)
    failures.push(`tally_retrier_backlog is ${backlog} after every rollup was exact (expected 0)`)
  if (deadLetters && deadLetters.total > 0)
    failures.push(`${deadLetters.total} rows in the DEAD topics (valid rows only were sent: expected none)`)
  // (A process still starting when the run ends dies of the SIGTERM before it handles signals.)
  for (const e of shutdown)
    if (e.code !== 0 && !(e.signal === "SIGTERM" && e.upMs < 20_000))
      failures.push(`${e.name} did not stop cleanly on SIGTERM at the end (${e.signal ?? e.code})`)

  const targetResults: Array<TargetResult> = targets.map((t) => ({
    name: t.name,
    rate: t.rate,
    apps: t.apps.length,
    shieldApps: t.fleet.apps.filter((a) => a.shield).length,
    load: t.load,
    verdict: t.verdict,
    liveChecks: t.liveChecks,
    tooLate: {
      linesSent: t.watch.tooLateSent,
      droppedSamples: [t.oracle.droppedSamples(0), t.oracle.droppedSamples(1)],
      droppedRecords: [t.oracle.droppedRecords(0), t.oracle.droppedRecords(1)],
    },
    statusesBySecond: t.statuses.seconds,
  }))
  for (const t of targetResults) {
    const c = convergence(t, injected)
    if (c.seconds !== undefined && c.seconds > o.maxSecondsToExact)
      failures.push(
        `${t.name}: exact only ${c.seconds.toFixed(1)} s after the last fault (at most ${o.maxSecondsToExact} s; seen by the ${c.seenBy})`,
      )
  }
  const result: ChaosResult = {
    options: {
      seed: o.seed,
      minutes: o.minutes,
      brokers: o.brokers,
      rate: o.rate,
      apps: o.apps,
      shieldApps: o.shieldApps,
      poisonEvery: o.poisonEvery,
      lateChance: o.lateChance,
      tooLateChance: o.tooLateChance,
      embeddedRate: o.embeddedRate,
      embeddedVolumeMb: o.embeddedVolumeMb,
      tries: o.tries,
      flushAfter: o.flushAfter,
      without: o.without,
      settleSeconds: o.settleSeconds,
      maxSecondsToExact: o.maxSecondsToExact,
      keep: o.keep,
      faults: o.faults,
    },
    tally,
    runDir,
    prefix,
    databases,
    brokerList,
    schedule,
    extensions: extensions.map((e) => e.kind),
    injected: [...injected].sort((a, b) => a.startMs - b.startMs),
    loadStartMs,
    targets: targetResults,
    exits: supervisor.exits,
    poison,
    lateCounted: { byPeriod: lateByPeriod, expectedAtLeast },
    deadLetters,
    pipeline,
    extensionLines,
    shutdown,
    failures,
    findings,
    ...(error ? { error } : {}),
  }
  return result
}
