/**
 * Alerts benchmark (issue 20): 10,000 rules over 100,000 summary series (1,000 apps x 10 process types x
 * 10 series: router service/connect times, bytes, three statuses; memory total, quota and rss; 1-minute
 * load), every series snapshotted 4 times a minute in its 1-minute and its 15-minute window (800,000
 * summary records a minute).
 *
 * 1. Evaluator CPU per summary record: main-thread CPU of the evaluator folding a minute's records in
 *    (Evaluator.apply: key read, watched-series lookup, snapshot scan) plus that minute's round (10,000
 *    rules judged), divided by the records; and the same through the whole stage (the topology on the
 *    in-process bus, records pre-produced, no round due).
 * 2. Time from a minute's end to the webhook's arrival: the alerter (topology, deliverer, rules and
 *    outbox on a real Postgres shard) on the embedded log (in a temporary directory) with the real clock
 *    and the default flushAfter (10 s); a minute's records are produced during the minute, each round of
 *    snapshots made just before it is produced. Minute 1: 1% of the rules
 *    breach (100 fire); minute 2: all of them (9,900 more fire in one round); minute 3: none (10,000
 *    resolve). Every webhook goes to one receiver (a process of its own), which notes when each arrives.
 *
 * `npm run bench -- alerts` (BENCH_ALERTS_FLUSH_AFTER_MS to change flushAfter).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Fiber, Layer, Schedule, Stream } from "effect"
import pg from "pg"
import { AlertStore, type StoredRule } from "../src/alerts/AlertStore.ts"
import { makeDeliverer } from "../src/alerts/Delivery.ts"
import { Evaluator } from "../src/alerts/Evaluator.ts"
import { type AlertMetric, initialState } from "../src/alerts/Rules.ts"
import { type AlerterOptions, alerterTopics, alerterTopology } from "../src/alerts/Topology.ts"
import { selfSpec } from "../src/alerts/WebhookUrl.ts"
import { Apps } from "../src/apps/Apps.ts"
import { Bus } from "../src/bus/Bus.ts"
import { DurableLog } from "../src/bus/embedded/DurableLog.ts"
import { makeLocalBus } from "../src/bus/local.ts"
import { partitionFor } from "../src/bus/Partitioner.ts"
import type { OutRecord } from "../src/bus/Records.ts"
import { catalogue, PARTITIONS, summaryTopic } from "../src/bus/Topics.ts"
import { Sketch } from "../src/domain/Sketch.ts"
import * as Wire from "../src/proto/Wire.ts"
import { Shards } from "../src/store/Shards.ts"
import { SummaryStore } from "../src/store/SummaryStore.ts"
import { makeLog } from "../src/testing/Harness.ts"
import { fmt, loadNote, writeSection } from "./report.ts"

const SERVER = process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const DB = "tally_bench_alerts"
const MINUTE = 60_000
const APPS = 1000
const PROCESS_TYPES = 10
const VERSIONS = 4
const FLUSH_AFTER_MS = Number(process.env.BENCH_ALERTS_FLUSH_AFTER_MS ?? 10_000)
const METRICS: ReadonlyArray<AlertMetric> = [
  "router_p95_ms",
  "router_error_pct",
  "memory_quota_pct",
  "load_avg_1m",
]

const threadMs = () => {
  const c = process.threadCpuUsage()
  return (c.user + c.system) / 1000
}

const owners = Array.from(
  { length: APPS },
  (_, i) =>
    `0b7a3f2e-${(i >> 16).toString(16).padStart(4, "0")}-4a57-9c1e-${i.toString(16).padStart(12, "0")}`,
)
const processType = (p: number) => `web${p}`

/**
 * A record key as the alerter gets it from Kafka or the embedded log: decoded from its bytes
 * (src/bus/kafka/kafkaFetch.ts, src/bus/embedded/DurableLogFormat.ts), a flat string. A template literal
 * makes a rope, which the evaluator's first scan of the key flattens: a copy of every key it would never
 * make in production, charged to it here (about 0.3 µs of the 0.6-0.7 µs a record the fold was measured at).
 */
const asDelivered = (key: string) => Buffer.from(key).toString()

/** The sketch bytes of `n` latencies around `ms`. */
const sketchOf = (ms: number, n: number) => {
  const s = new Sketch()
  for (let i = 0; i < n; i++) s.add(ms * (0.5 + (i % 10) / 10))
  return s.toBytes()
}
const SLOW = sketchOf(1000, 40)
const FAST = sketchOf(50, 40)

/**
 * A minute's `v`-th round of snapshots of every series (count and version grow with `v`), in the 1-minute
 * and the 15-minute window. `breaches(app, p)`: the series of app `app`, process type `p` cross every
 * rule's threshold (slow, 5xx, near the quota, loaded).
 */
const minuteVersion = (
  startMs: number,
  breaches: boolean | ((app: number, p: number) => boolean),
  v: number,
): Array<OutRecord> => {
  const quarter = startMs - (startMs % (15 * MINUTE))
  const out: Array<OutRecord> = []
  for (const [a, owner] of owners.entries())
    for (let p = 0; p < PROCESS_TYPES; p++) {
      const pt = processType(p)
      const breach = typeof breaches === "boolean" ? breaches : breaches(a, p)
      const summary = (
        type: "ROUTER_REQUESTS" | "DYNO_MEMORY" | "DYNO_LOAD",
        metric: string,
        label: string,
        count: number,
        max: number,
        sketch: Uint8Array | undefined,
      ) => {
        for (const [period, start, name] of [
          [Wire.Period.PERIOD_1M, startMs, "1m"],
          [Wire.Period.PERIOD_15M, quarter, "15m"],
        ] as const)
          out.push({
            topic: summaryTopic(type),
            key: asDelivered(`${owner}:${pt}:${metric}:${label}:${name}:${start}`),
            timestamp: start,
            value: Wire.Summary.encode({
              owner,
              processType: pt,
              metric,
              label,
              period,
              startMs: start,
              count: count * v,
              sum: max * count * v,
              sumsq: 0,
              min: 1,
              max,
              sketch: sketch ?? new Uint8Array(),
              version: count * v,
            }).finish(),
          })
      }
      summary("ROUTER_REQUESTS", "router_service_ms", "", 40, breach ? 1500 : 75, breach ? SLOW : FAST)
      summary("ROUTER_REQUESTS", "router_connect_ms", "", 40, 3, FAST)
      summary("ROUTER_REQUESTS", "router_bytes", "", 40, 900, undefined)
      summary("ROUTER_REQUESTS", "router_status", "200", breach ? 20 : 40, 1, undefined)
      summary("ROUTER_REQUESTS", "router_status", "404", 5, 1, undefined)
      summary("ROUTER_REQUESTS", "router_status", "503", breach ? 20 : 1, 1, undefined)
      summary("DYNO_MEMORY", "memory_total", "", 3, breach ? 500 : 200, undefined)
      summary("DYNO_MEMORY", "memory_quota", "", 3, 512, undefined)
      summary("DYNO_MEMORY", "memory_rss", "", 3, 180, undefined)
      summary("DYNO_LOAD", "load_avg_1m", "", 3, breach ? 6 : 0.5, undefined)
    }
  return out
}

/** Every snapshot of a minute (`VERSIONS` rounds, see minuteVersion). */
const minuteRecords = (
  startMs: number,
  breaches: boolean | ((app: number, p: number) => boolean),
): Array<Array<OutRecord>> =>
  Array.from({ length: VERSIONS }, (_, i) => minuteVersion(startMs, breaches, i + 1))

/** Rule i: app i / 10, process type i % 10, metrics in turn; thresholds the breaching minute crosses. */
const ruleSpecs = (hook: string) =>
  Array.from({ length: APPS * PROCESS_TYPES }, (_, i) => {
    const metric = METRICS[i % METRICS.length]!
    return {
      id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
      owner: owners[Math.floor(i / PROCESS_TYPES)]!,
      name: `rule ${i}`,
      metric,
      processType: processType(i % PROCESS_TYPES),
      threshold: { router_p95_ms: 500, router_error_pct: 25, memory_quota_pct: 90, load_avg_1m: 4 }[metric],
      for: "1m" as const,
      repeat: "1d" as const,
      minRequests: 10,
      webhook: `${hook}/${i}`,
      secret: `tly_w_bench-${i}`,
    }
  })

const options = (flushAfterMs: number): AlerterOptions => ({
  group: "bench-alerter",
  prefix: "",
  partitions: Array.from({ length: PARTITIONS }, (_, p) => p),
  flushAfterMs,
  alertmanagerUrl: undefined,
  publicBase: "http://tally.example.com",
  commitIntervalMs: 1000,
  rulesEveryMs: 1000,
  barrierMaxMs: 30_000,
})

const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

/** 1. The evaluator's CPU per record, in-process: apply a minute's records and run its round. */
const cpuPerRecord = () => {
  const start = Math.floor(Date.now() / MINUTE) * MINUTE - 20 * MINUTE
  const stored: Array<StoredRule> = ruleSpecs("http://127.0.0.1:1/hook").map((r) => ({
    ...r,
    app: "bench",
    createdMs: start - MINUTE,
    ...initialState(start - MINUTE),
  }))
  const evaluator = new Evaluator(
    {
      consumer: "bench",
      flushAfterMs: 10_000,
      alertmanagerUrl: undefined,
      publicBase: "http://tally.example.com",
      partitionOf: (owner, pt) => partitionFor(`${owner}:${pt}`, PARTITIONS),
    },
    start - MINUTE,
  )
  evaluator.setRules(stored, () => true)
  const results: Array<{ records: number; applyMs: number; roundMs: number; transitions: number }> = []
  // Minutes 0-2 breach, 3-4 do not: every rule fires at the first and resolves at the fourth; the
  // others are minutes without a transition.
  for (let m = 0; m < 5; m++) {
    const minute = start + m * MINUTE
    const records = minuteRecords(minute, m < 3).flat()
    const now = minute + 30_000
    const c0 = threadMs()
    for (const r of records) evaluator.apply(r.key, r.value, now)
    const c1 = threadMs()
    const round = evaluator.round(minute + MINUTE + 12_000)
    const c2 = threadMs()
    results.push({
      records: records.length,
      applyMs: c1 - c0,
      roundMs: c2 - c1,
      transitions: round?.transitions.length ?? 0,
    })
  }
  return results
}

/**
 * 1b. The same records through the whole stage (topology on the in-process bus), no round due: each round
 * of versions produced once the previous one was read (the in-process log compacts on read).
 */
const stageCpuPerRecord = (rounds: ReadonlyArray<ReadonlyArray<OutRecord>>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const log = makeLog()
      const bus = makeLocalBus(log)
      const stored = yield* Effect.service(AlertStore)
      const deliverer = yield* makeDeliverer({ store: stored, self: selfSpec(8080, undefined, undefined) })
      const opts = options(10_000)
      let seen = 0
      const fiber = yield* alerterTopology(
        opts,
        bus
          .consume({ group: "bench-stage", topics: alerterTopics(""), partitions: opts.partitions })
          .pipe(Stream.tap((d) => Effect.sync(() => (seen += d._tag === "Batch" ? d.records.length : 0)))),
        deliverer,
        Effect.never,
        1000,
      ).pipe(Stream.runDrain, Effect.provideService(Bus, bus), Effect.forkScoped)
      yield* Effect.sleep("1 second")
      let cpu = 0
      let wall = 0
      let records = 0
      for (const round of rounds) {
        yield* Effect.orDie(bus.produce(round))
        const want = seen + round.length
        const c0 = threadMs()
        const t0 = performance.now()
        while (seen < want) yield* Effect.sleep("5 millis")
        cpu += threadMs() - c0
        wall += performance.now() - t0
        records += round.length
      }
      yield* Fiber.interrupt(fiber)
      return { records, cpuMs: cpu, wallMs: wall }
    }),
  )

/** The webhook receiver's own process: prints `<path> <status> <epoch ms>` for each notification. */
const RECEIVER = `
const http = require("node:http")
let out = ""
let flushing = undefined
const server = http.createServer((req, res) => {
  let body = ""
  req.setEncoding("utf8")
  req.on("data", (c) => (body += c))
  req.on("end", () => {
    const at = Date.now()
    res.end()
    out += req.url + " " + (body.includes('"status":"firing"') ? "firing" : "resolved") + " " + at + "\\n"
    flushing ??= setTimeout(() => {
      process.stdout.write(out)
      out = ""
      flushing = undefined
    }, 50)
  })
})
server.keepAliveTimeout = 30000
server.listen(0, "127.0.0.1", () => process.stdout.write("port " + server.address().port + "\\n"))
`

/**
 * A webhook receiver in a process of its own (it does not share the alerter's CPU): arrivals by rule. Its
 * notes come every 50 ms, not one write per POST (each arrival's time is taken when it arrives): their
 * reading runs on the alerter's thread, and a line per POST cost it 10,000 pipe reads in the round's window.
 */
const receiver = async () => {
  const arrivals = new Map<string, { firing?: number; resolved?: number }>()
  const counts = { firing: 0, resolved: 0 }
  const child = spawn(process.execPath, ["-e", RECEIVER], { stdio: ["ignore", "pipe", "inherit"] })
  let port = 0
  let partial = ""
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    const lines = (partial + d).split("\n")
    partial = lines.pop()!
    for (const line of lines) {
      const [a, b, c] = line.split(" ")
      if (a === "port") port = Number(b)
      else {
        const entry = arrivals.get(a!) ?? {}
        const status = b as "firing" | "resolved"
        if (entry[status] === undefined) {
          entry[status] = Number(c)
          counts[status]++
        }
        arrivals.set(a!, entry)
      }
    }
  })
  while (port === 0) await new Promise((r) => setTimeout(r, 50))
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    counts,
    close: () => child.kill(),
  }
}

/** 2. Minute end to webhook arrival, on the real clock, rules and outbox on Postgres. */
const endToEnd = (hooks: Awaited<ReturnType<typeof receiver>>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = yield* AlertStore
      const apps = yield* Apps
      const say = (s: string) => Effect.sync(() => console.log(s))
      yield* say(`creating ${APPS} apps and ${APPS * PROCESS_TYPES} rules on Postgres…`)
      const owned = new Map<number, string>()
      for (let i = 0; i < APPS; i++) owned.set(i, (yield* Effect.orDie(apps.create(`bench-${i}`))).owner)
      const specs = ruleSpecs(hooks.url).map((r, i) => ({
        ...r,
        owner: owned.get(Math.floor(i / PROCESS_TYPES))!,
      }))
      const created = Date.now()
      yield* Effect.forEach(specs, (r) => Effect.orDie(store.create({ ...r, createdMs: created })), {
        concurrency: 4,
        discard: true,
      })
      // The records name the apps' owners.
      owners.splice(0, owners.length, ...specs.filter((_, i) => i % PROCESS_TYPES === 0).map((r) => r.owner))
      // The embedded log (npm start's bus), as the alerter would read it there or from Kafka: records on
      // disk, not in the alerter's heap. The in-memory log keeps every record for its lifetime (it is the
      // tests' log): 2.4 M records, 0.6-1 GB of heap by the third minute, and every round ran beside
      // garbage collections of that heap (0.3-0.5 s of pauses and V8's concurrent marking on the second
      // core, in the round's window) that no alerter pays in production.
      const dir = mkdtempSync(join(tmpdir(), "tally-bench-alerts-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const log = yield* Effect.orDie(DurableLog.open(dir, { retention: { committedMs: 15_000 } }))
      yield* log.retain.pipe(Effect.ignore, Effect.repeat(Schedule.spaced("5 seconds")), Effect.forkScoped)
      const bus = makeLocalBus(log)
      yield* Effect.orDie(bus.ensureTopics(catalogue(1, PARTITIONS)))
      const deliverer = yield* makeDeliverer({ store, self: selfSpec(8080, undefined, undefined) })
      yield* Effect.forkScoped(deliverer.run)
      const opts = options(FLUSH_AFTER_MS)
      yield* alerterTopology(
        opts,
        bus.consume({ group: opts.group, topics: alerterTopics(""), partitions: opts.partitions }),
        deliverer,
        Effect.never,
        250,
      ).pipe(Stream.runDrain, Effect.provideService(Bus, bus), Effect.forkScoped)
      // The first whole minute after the rules were made: 1% of the rules breach (100 fire); the next,
      // all of them (the other 9,900 fire); the third, none (all 10,000 resolve).
      const first = Math.ceil((Date.now() + 5_000) / MINUTE) * MINUTE
      const measured: Array<{
        minute: number
        status: "firing" | "resolved"
        breaches: boolean | ((app: number, p: number) => boolean)
        rules: (i: number) => boolean
      }> = [
        {
          minute: first,
          status: "firing",
          breaches: (a, p) => (a * 10 + p) % 100 === 0,
          rules: (i) => i % 100 === 0,
        },
        { minute: first + MINUTE, status: "firing", breaches: true, rules: (i) => i % 100 !== 0 },
        { minute: first + 2 * MINUTE, status: "resolved", breaches: false, rules: () => true },
      ]
      for (const [k, { minute, status, breaches, rules }] of measured.entries()) {
        const before = hooks.counts[status]
        // One round of snapshots made at a time, just before it is produced (as an aggregator emits
        // them): the alerter's heap holds no more of them than it would in production.
        let produced = 0
        for (let v = 0; v < VERSIONS; v++) {
          const records = minuteVersion(minute, breaches, v + 1)
          const at = minute + 5_000 + v * 13_000
          yield* Effect.sleep(Math.max(0, at - Date.now()))
          yield* Effect.orDie(bus.produce(records))
          produced += records.length
        }
        const expected = specs.filter((_, i) => rules(i)).length
        yield* say(
          `minute ${k + 1}: ${fmt(produced)} summary records produced; waiting for ${fmt(expected)} ${status} webhooks…`,
        )
        const until = minute + MINUTE + FLUSH_AFTER_MS + 120_000
        // A counter of each rule's first notification of this status, not a scan of 10,000 rules every
        // 200 ms on the alerter's thread (the latencies below are read from the arrivals themselves).
        const arrived = () => hooks.counts[status] - before
        while (Date.now() < until && arrived() < expected) yield* Effect.sleep("200 millis")
      }
      return measured.map(({ minute, status, rules }) => {
        const latencies = specs
          .map((_, i) => (rules(i) ? hooks.arrivals.get(`/hook/${i}`)?.[status] : undefined))
          .filter((t): t is number => t !== undefined && t >= minute + MINUTE)
          .map((t) => (t - minute - MINUTE) / 1000)
          .sort((a, b) => a - b)
        return {
          status,
          expected: specs.filter((_, i) => rules(i)).length,
          arrived: latencies.length,
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
          max: latencies[latencies.length - 1] ?? Number.NaN,
        }
      })
    }),
  )

export const run = async () => {
  const load0 = loadavg()[0]!
  console.log("evaluator core: 5 minutes of 800,000 records and their rounds…")
  const core = cpuPerRecord()
  for (const c of core)
    console.log(
      `  ${fmt(c.records)} records: apply ${c.applyMs.toFixed(0)} ms CPU (${((c.applyMs * 1000) / c.records).toFixed(3)} µs a record), round ${c.roundMs.toFixed(0)} ms (${c.transitions} transitions)`,
    )
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${DB}`)
  const url = SERVER.replace(/\/[^/]*$/, `/${DB}`)
  const hooks = await receiver()
  const layer = Layer.mergeAll(AlertStore.layer, Apps.layer).pipe(
    Layer.provideMerge(SummaryStore.layer),
    Layer.provideMerge(Shards.layerPg([url])),
  )
  try {
    const stageStart = Math.floor(Date.now() / MINUTE) * MINUTE + 30 * MINUTE
    const stage = await Effect.runPromise(
      stageCpuPerRecord(minuteRecords(stageStart, true)).pipe(Effect.provide(layer)),
    )
    console.log(
      `stage: ${fmt(stage.records)} records in ${stage.wallMs.toFixed(0)} ms, ${stage.cpuMs.toFixed(0)} ms CPU (${((stage.cpuMs * 1000) / stage.records).toFixed(3)} µs a record)`,
    )
    const latency = await Effect.runPromise(endToEnd(hooks).pipe(Effect.provide(layer)))
    for (const l of latency)
      console.log(
        `${l.status}: ${fmt(l.arrived)} of ${fmt(l.expected)} webhooks; minute end -> arrival p50 ${l.p50.toFixed(2)} s, p99 ${l.p99.toFixed(2)} s, max ${l.max.toFixed(2)} s`,
      )
    // Steady state: the minutes without transitions, after the first (which also warms the JIT up).
    const steady = core.filter((c, i) => i > 0 && c.transitions === 0)
    const busy = core.filter((c) => c.transitions > 0)
    const steadyRecords = steady.reduce((n, c) => n + c.records, 0)
    const steadyApply = steady.reduce((n, c) => n + c.applyMs, 0)
    const steadyRound = steady.reduce((n, c) => n + c.roundMs, 0)
    const perRecord = ((steadyApply + steadyRound) * 1000) / steadyRecords
    const busyPerRecord =
      (busy.reduce((n, c) => n + c.applyMs + c.roundMs, 0) * 1000) / busy.reduce((n, c) => n + c.records, 0)
    const coreRecords = core.reduce((n, c) => n + c.records, 0)
    const goal = FLUSH_AFTER_MS / 1000 + 5
    writeSection(
      "alerts",
      `## Alerts: evaluation and delivery at scale (issue 20)

10,000 rules (router p95, router error %, memory % of quota, 1-minute load; 2,500 each) over 100,000 summary
series (1,000 apps x 10 process types x 10 series), every series snapshotted ${VERSIONS} times a minute in its 1m and
its 15m window: ${fmt(coreRecords / core.length)} summary records a minute. \`npm run bench -- alerts\` (bench/alerts.ts).

| what | result | goal |
| --- | --- | --- |
| evaluator CPU per summary record, a minute without transitions (fold + the round of 10,000 rules, main thread) | ${perRecord.toFixed(3)} µs (fold ${((steadyApply * 1000) / steadyRecords).toFixed(3)} µs, round ${(steadyRound / steady.length).toFixed(0)} ms) ${perRecord < 1 ? "✓" : "✗"} | < 1 µs |
| the same, a minute where all 10,000 rules fire or resolve (events, signed payloads) | ${busyPerRecord.toFixed(3)} µs (rounds ${(busy.reduce((n, c) => n + c.roundMs, 0) / busy.length).toFixed(0)} ms) | |
| the whole stage (topology on the in-process bus, records pre-produced) | ${((stage.cpuMs * 1000) / stage.records).toFixed(3)} µs CPU a record, ${fmt(stage.records / (stage.wallMs / 1000))} records/s | |
${latency
  .map(
    (l) =>
      `| minute end -> webhook arrival, ${fmt(l.expected)} rules ${l.status === "firing" ? "firing" : "resolving"} in one minute${l.arrived < l.expected ? ` (only ${fmt(l.arrived)} arrived)` : ""} (flushAfter ${FLUSH_AFTER_MS / 1000} s) | p50 ${l.p50.toFixed(2)} s, p99 ${l.p99.toFixed(2)} s (max ${l.max.toFixed(2)} s) ${l.p99 < goal ? "✓" : "✗"} | p99 < flushAfter + 5 s |`,
  )
  .join("\n")}

Latency: the alerter reads the summaries from the embedded log (records on disk, as from Kafka: not in its
heap); a minute is evaluated at its end + flushAfter + 2 s (Evaluator.ts), once the alerter has read its
partitions to their ends; the round writes every state, event and notification in one Postgres transaction,
then the deliverer posts the signed webhooks (bursts of 64 to one receiver, each burst marked done while the
next is out). All 10,000 rules post to one receiver here (a process of its own), the worst case for the
per-receiver queue.

${loadNote(load0)}`,
    )
  } finally {
    hooks.close()
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => undefined)
    await admin.end()
  }
}
