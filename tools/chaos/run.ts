/**
 * One chaos run, start to end: fresh shard databases and topics, every tally stage its own process
 * under the supervisor, the load tool's drain load with its oracle, the seeded faults, live checks
 * while the load runs, then the verdict once the load has ended and the pipeline drained; everything
 * it created is removed at the end (also when the run fails or is interrupted).
 */
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  compareOnce,
  createFleetApps,
  type LiveApp,
  type LoadReport,
  makeFleet,
  runLoad,
  type Verdict,
  type VerifyApp,
  verify,
  verifyApps,
} from "../load/index.ts"
import { type FaultContext, type Injected, inject } from "./faults.ts"
import {
  allowConnections,
  BROKERS,
  brokerWorks,
  createDatabases,
  createProbeTopic,
  type DeadLetters,
  databaseUrl,
  deleteRunTopics,
  dropDatabases,
  kafkaScript,
  pgServer,
  readDeadLetters,
} from "./infra.ts"
import { health, RefusalCounter, scrape, total } from "./metrics.ts"
import { startProxy } from "./proxy.ts"
import { type Fault, type FaultKind, formatSchedule, makeSchedule, type Schedule } from "./schedule.ts"
import { type Exit, Supervisor } from "./supervisor.ts"
import { before, minuteOf, Watch, WatchedGenerator, WatchedOracle } from "./tracking.ts"

export interface ChaosOptions {
  /** This checkout: the harness, scripts/kafka.sh, test-output/. */
  readonly root: string
  /** The checkout whose `src/main.ts` the stages run (this one, or a clean copy of a commit). */
  readonly tally: string
  readonly seed: number
  readonly minutes: number
  /** Offered lines per second, all apps together. */
  readonly rate: number
  readonly apps: number
  /** Every Mth drain body carries one poison line of each kind. */
  readonly poisonEvery: number
  /** Tries per drain body (same Frame-Id), enough to outlast every fault. */
  readonly tries: number
  readonly flushAfter: string
  readonly without: ReadonlyArray<FaultKind>
  /** How long after the load the pipeline has to be exact (s). */
  readonly settleSeconds: number
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
  /** Minutes compared: those before this time (the earliest minute a body in flight can change caps it). */
  readonly throughMs: number
  readonly rollups: number
  readonly differences: number
  readonly sample: ReadonlyArray<string>
}

export interface ChaosResult {
  readonly options: Omit<ChaosOptions, "say" | "root" | "tally" | "onInterrupt">
  /** What ran: the checkout, its commit, and whether src/ had uncommitted changes. */
  readonly tally: Checkout
  readonly runDir: string
  readonly prefix: string
  readonly databases: ReadonlyArray<string>
  readonly schedule: Schedule
  readonly injected: ReadonlyArray<Injected>
  readonly loadStartMs: number
  readonly load: LoadReport | undefined
  readonly verdict: Verdict | undefined
  readonly liveChecks: ReadonlyArray<LiveCheck>
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
  readonly deadLetters: DeadLetters | undefined
  /** Per process at the end: /healthz and a few counters. */
  readonly pipeline: Record<string, { health: unknown; counters: Record<string, number> }>
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

export const chaos = async (o: ChaosOptions): Promise<ChaosResult> => {
  const say = o.say
  const runDir = join(o.root, "test-output", "chaos", String(o.seed))
  rmSync(runDir, { recursive: true, force: true })
  mkdirSync(runDir, { recursive: true })
  const stamp = Date.now().toString(36)
  const prefix = `chaos${o.seed}-${stamp}.`
  const databases = [0, 1, 2].map((i) => `tally_chaos_${o.seed}_${stamp}_${i}`)
  const loadSeconds = Math.round(o.minutes * 60)
  const schedule: Schedule = o.faults
    ? { seed: o.seed, loadSeconds, faultsEndBy: Math.floor(loadSeconds * 0.8), without: [], faults: o.faults }
    : makeSchedule({ seed: o.seed, loadSeconds, without: o.without })
  for (const line of formatSchedule(schedule)) say(line)
  writeFileSync(join(runDir, "schedule.json"), JSON.stringify(schedule, null, 2))
  const brokerFaults = schedule.faults.some((f) => f.kind === "broker")
  if (brokerFaults && process.env.TALLY_KAFKA_BROKERS)
    throw new Error(
      "the schedule stops the project's broker (scripts/kafka.sh): unset TALLY_KAFKA_BROKERS, or pass --without broker",
    )

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
  const liveChecks: Array<LiveCheck> = []
  const refusals = new RefusalCounter()
  const watch = new Watch()
  const failures: Array<string> = []
  const pipeline: ChaosResult["pipeline"] = {}
  let shutdown: ReadonlyArray<Exit> = []
  let load: LoadReport | undefined
  let verdict: Verdict | undefined
  let deadLetters: DeadLetters | undefined
  let loadStartMs = 0
  let error: string | undefined
  let brokerStopped = false
  let refusing = false
  const proxy = await startProxy({ host: "127.0.0.1", port: Number(new URL(pgServer()).port || 5432) })
  const server = pgServer()
  const shardUrls = databases.map((db, i) => databaseUrl(server, db, i === 1 ? proxy.port : undefined))

  /** Stops every process, repairs what a fault left broken, removes what the run made; runs once. */
  let cleaning: Promise<void> | undefined
  const cleanup = () =>
    (cleaning ??= (async () => {
      const before = supervisor.exits.length
      await supervisor.stopAll()
      shutdown = supervisor.exits.slice(before)
      if (brokerStopped) await kafkaScript(o.root, "start")
      if (refusing) await allowConnections(databases[2]!).catch(() => undefined)
      proxy.forward()
      await proxy.close()
      if (!o.keep) {
        await dropDatabases(databases).catch((e: Error) => say(`could not drop the databases: ${e.message}`))
        await deleteRunTopics(prefix)
          .then((d) =>
            say(`removed ${databases.length} databases, ${d.topics} topics, ${d.groups} consumer groups`),
          )
          .catch((e: Error) => say(`could not delete the topics: ${e.message}`))
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

  try {
    await createDatabases(databases)
    say(
      `databases ${databases.join(", ")} (shard 1 through the proxy on port ${proxy.port}); topics ${prefix}*`,
    )
    const apiPort = await freePort()
    const base = `http://127.0.0.1:${apiPort}`
    const adminToken = `tly_chaos_${randomBytes(12).toString("hex")}`
    const env = {
      TALLY_KAFKA_BROKERS: BROKERS.join(","),
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
    await createProbeTopic(prefix)
    const broken = await brokerWorks(prefix, 30_000)
    if (broken) throw new Error(`the broker answers but does not take produces: ${broken}`)

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
    // Worker 0 runs twice: whichever joins first holds its partitions, the other waits as a hot standby
    // (the faults find out which is which when they strike).
    await stage("ingress", ["ingress"])
    await stage("aggregator-0", ["aggregator"], { TALLY_WORKER_INDEX: "0" })
    await stage("aggregator-0-standby", ["aggregator"], { TALLY_WORKER_INDEX: "0" })
    await stage("aggregator-1", ["aggregator"], { TALLY_WORKER_INDEX: "1" })
    await stage("sink", ["sink"])
    await stage("retrier", ["retrier"])
    for (const name of supervisor.names()) await healthy(supervisor, name, 180_000)
    say(`every stage is up (${((Date.now() - t0) / 1000).toFixed(1)} s): ${supervisor.names().join(", ")}`)

    const fleet = makeFleet({ apps: o.apps, seed: o.seed, namePrefix: `chaos-${stamp}` })
    const generator = new WatchedGenerator(fleet, { poisonEvery: o.poisonEvery }, watch)
    const oracle = new WatchedOracle(fleet, watch)
    const apps: Array<LiveApp> = await createFleetApps(base, adminToken, fleet)
    say(
      `${apps.length} apps created; load ${o.rate} lines/s for ${schedule.loadSeconds} s, poison every ${o.poisonEvery} bodies, ${o.tries} tries a body`,
    )

    // The ingress's poison counter, every second (and right before each fault signals it).
    let loading = true
    const scraper = (async () => {
      while (loading) {
        await scrapeIngress()
        await sleep(1000)
      }
    })()

    const ctx: FaultContext = {
      root: o.root,
      supervisor,
      proxy,
      refusingDb: databases[2]!,
      prefix,
      beforeIngressSignal: () => scrapeIngress(),
      say: (line) => say(`  [${((Date.now() - loadStartMs) / 1000).toFixed(0).padStart(4)} s] ${line}`),
    }
    loadStartMs = Date.now()
    const loading$ = runLoad(
      generator,
      oracle,
      apps.map((a) => a.target),
      {
        rate: o.rate,
        seconds: schedule.loadSeconds,
        connections: 64,
        linesPerBody: 200,
        tries: o.tries,
        onSecond: (s) => {
          if (s.second % 10 === 9)
            say(
              `  [${String(s.second + 1).padStart(4)} s] load: offered ${s.offered}/s, accepted ${s.accepted}/s${s.overflowed ? `, drain buffers overflowed ${s.overflowed} lines` : ""}`,
            )
        },
      },
    )
    const faults$ = Promise.all(
      schedule.faults.map(async (f) => {
        await sleep(Math.max(0, loadStartMs + f.at * 1000 - Date.now()))
        if (f.kind === "broker") brokerStopped = true
        if (f.kind === "shard-refuse") refusing = true
        const r = await inject(ctx, f).catch(
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
        if (f.kind === "shard-refuse") refusing = false
        injected.push(r)
      }),
    )
    let faultsDone = false
    void faults$.then(() => {
      faultsDone = true
      say(
        `  [${((Date.now() - loadStartMs) / 1000).toFixed(0).padStart(4)} s] every fault is over; fault-free from here`,
      )
    })

    // Live checks: every whole minute no body in flight can still change, compared with the oracle.
    const graceMs = 15_000
    const checker = (async () => {
      let next = Date.now() + 20_000
      while (loading) {
        await sleep(250)
        // Every 20 s while faults run, every 5 s once they are over.
        if (faultsDone) next = Math.min(next, Date.now() + 5000)
        if (!loading || Date.now() < next) continue
        const now = Date.now()
        next = now + (faultsDone ? 5000 : 20_000)
        const cut = minuteOf(now - graceMs)
        const filtered: Array<VerifyApp> = verifyApps(oracle, apps).map((a, i) => ({
          ...a,
          expectation: before(a.expectation, Math.min(cut, watch.firstOpenMinute(i))),
        }))
        const c = await compareOnce(base, filtered, 4)
        if (c.rollups === 0) continue
        liveChecks.push({
          atMs: now,
          endMs: Date.now(),
          throughMs: cut,
          rollups: c.rollups,
          differences: c.differences.length,
          sample: c.differences.slice(0, 3),
        })
      }
    })()

    // The bodies get `settleSeconds` after the load to be answered 204; those still retried then are
    // given up (uncertain) and the verdict is taken anyway.
    const settleBy = loadStartMs + (schedule.loadSeconds + o.settleSeconds) * 1000
    load = await Promise.race([loading$, sleep(settleBy - Date.now()).then(() => undefined)])
    loading = false
    if (!load) {
      const pending = oracle.freeze()
      failures.push(
        `${pending} drain bodies were still being retried ${o.settleSeconds} s after the load ended (the ingress kept refusing them)`,
      )
      say(`the load did not settle: ${pending} bodies still in flight; verifying without them`)
    }
    await Promise.all([faults$, scraper, checker])
    if (load)
      say(
        `load over: ${load.acceptedLines.toLocaleString("en-US")} of ${load.sentLines.toLocaleString("en-US")} lines sent acknowledged, ${load.droppedBodies} bodies given up; verifying every 1-minute rollup…`,
      )
    verdict = await verify(base, verifyApps(oracle, apps), {
      sinceMs: load?.endMs ?? Date.now(),
      settleSeconds: o.settleSeconds,
      stableSeconds: Math.min(60, o.settleSeconds),
      onPoll: (c, elapsed) => {
        if (Math.round(elapsed / 1000) % 10 === 0 || c.differences.length === 0)
          say(
            `  ${(elapsed / 1000).toFixed(0)} s after the load: ${c.exactRollups}/${c.rollups} exact, ${c.differences.length} differences`,
          )
      },
    })
    if (!verdict.exact) {
      // Every difference, for the reproduction (the verdict keeps 20 of them).
      const all = await compareOnce(base, verifyApps(oracle, apps), 8)
      writeFileSync(join(runDir, "differences.txt"), `${all.differences.join("\n")}\n`)
      say(`${all.differences.length} differences written to ${join(runDir, "differences.txt")}`)
    }
    for (let i = 0; i < 10 && !(await scrapeIngress(5000)); i++) await sleep(1000)
    deadLetters = await readDeadLetters(prefix).catch((e: Error) => {
      failures.push(`the DEAD topics could not be read: ${e.message}`)
      return undefined
    })
    for (const name of supervisor.names()) {
      const samples = (await scrape(supervisor.spec(name).port)) ?? []
      const counters: Record<string, number> = {}
      for (const c of COUNTERS) if (samples.some((s) => s.name === c)) counters[c] = total(samples, c)
      pipeline[name] = { health: (await health(supervisor.spec(name).port)).body, counters }
    }
  } catch (e) {
    error = (e as Error).stack ?? String(e)
    say(`chaos: the run broke off: ${error}`)
  } finally {
    await cleanup()
  }

  // Each ingress process that ended before the last scrape: its counts after its last scrape are unknown.
  const scraped = new Map(refusals.perIncarnation().map((x) => [x.incarnation, x.atMs]))
  const windows = supervisor.exits
    .filter((e) => e.name === "ingress" && !shutdown.includes(e))
    .map((e) => ({ fromMs: scraped.get(e.incarnation) ?? 0, toMs: e.atMs }))
  const bounds = watch.poisonBounds(windows)
  const reasons = Object.entries(refusals.byReason())
  const poison = {
    counted: refusals.total(),
    byReason: Object.fromEntries(reasons.filter(([k]) => k.startsWith("bad_"))),
    otherRefusals: Object.fromEntries(reasons.filter(([k]) => !k.startsWith("bad_"))),
    incarnations: refusals.perIncarnation(),
    ...bounds,
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
  if (verdict && !verdict.exact)
    failures.push(`${verdict.differenceCount} differences between the stored rollups and the oracle`)
  if (load && load.droppedBodies > 0)
    failures.push(
      `${load.droppedBodies} drain bodies were given up after ${o.tries} tries (their rollups could not be judged)`,
    )
  for (const i of injected) if (!i.ok) failures.push(`fault not injected as planned: ${i.what} (${i.detail})`)
  if (injected.length < schedule.faults.length && !error)
    failures.push(`${schedule.faults.length - injected.length} scheduled faults never ran`)
  if (!error && (poison.counted < poison.lo || poison.counted > poison.hi))
    failures.push(
      `the ingress counted ${poison.counted} poison lines refused; ${poison.acknowledged} were acknowledged (allowed ${poison.lo}…${poison.hi})`,
    )
  if (deadLetters && deadLetters.total > 0)
    failures.push(`${deadLetters.total} rows in the DEAD topics (valid rows only were sent: expected none)`)
  // (A process still starting when the run ends dies of the SIGTERM before it handles signals.)
  for (const e of shutdown)
    if (e.code !== 0 && !(e.signal === "SIGTERM" && e.upMs < 20_000))
      failures.push(`${e.name} did not stop cleanly on SIGTERM at the end (${e.signal ?? e.code})`)

  const result: ChaosResult = {
    options: {
      seed: o.seed,
      minutes: o.minutes,
      rate: o.rate,
      apps: o.apps,
      poisonEvery: o.poisonEvery,
      tries: o.tries,
      flushAfter: o.flushAfter,
      without: o.without,
      settleSeconds: o.settleSeconds,
      keep: o.keep,
      faults: o.faults,
    },
    tally,
    runDir,
    prefix,
    databases,
    schedule,
    injected: [...injected].sort((a, b) => a.startMs - b.startMs),
    loadStartMs,
    load,
    verdict,
    liveChecks,
    exits: supervisor.exits,
    poison,
    deadLetters,
    pipeline,
    shutdown,
    failures,
    findings,
    ...(error ? { error } : {}),
  }
  return result
}
