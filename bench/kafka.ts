/**
 * The Kafka client behind the Bus (issue 12): produce and consume throughput of each client on the
 * real broker, next to Kafka's own ProducerPerformance for the same record size and acks.
 *
 * Produce: CALLERS concurrent callers, each calling `bus.produce` with 200 records of 227 bytes (one
 * drain body's measurements: one app, 3 process types) as fast as it is acknowledged: acks=all,
 * idempotent, group-committed by the Bus. Timed: records acknowledged per second over SECONDS.
 * Consume: one consumer that owns all 32 partitions reads everything produced, from the start; timed
 * from the stream's start until the last record arrived (join and assignment included).
 * The clients run in turn in this process (A B A B), on fresh topics; medians of the rounds.
 */

import { execFileSync } from "node:child_process"
import { loadavg } from "node:os"
import { join } from "node:path"
import { Admin } from "@platformatic/kafka"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { Bus } from "../src/bus/Bus.ts"
import type { Delivery, OutRecord } from "../src/bus/Records.ts"
import { endToEnd } from "./ingress.ts"
import { makeKafkajsBus } from "./kafkajs/bus.ts"
import { fmt, loadNote, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")
const BROKERS = (process.env.TALLY_KAFKA_BROKERS || "127.0.0.1:9092").split(",")
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12)
const CALLERS = Number(process.env.BENCH_CALLERS ?? 64)
const RECORDS_PER_CALL = 200
const RECORD_BYTES = 227
/** Measurements per drain line in bench/drainBodies.ts (bench/ingress.ts measures it: 0.70). */
const RECORDS_PER_LINE = 0.7
const PARTITIONS = 32
const prefix = `bench-kafka-${Date.now().toString(36)}`

export type Client = "kafkajs" | "platformatic"

/** "platformatic" is the shipped layer (src/bus/kafka/kafka.ts); "kafkajs" is the peer kept in bench/kafkajs. */
export const busLayer = (client: Client): Layer.Layer<Bus> =>
  client === "kafkajs"
    ? Layer.effect(
        Bus,
        makeKafkajsBus({ brokers: BROKERS, clientId: "tally-bench", logLevel: "ERROR" }).pipe(
          Effect.map(Bus.of),
        ),
      )
    : Bus.layerKafka({ brokers: BROKERS, clientId: "tally-bench" })

/** One drain body's records: one app, 3 process types, 227-byte values. */
const calls = (topic: string) =>
  Array.from({ length: 64 }, (_, app) =>
    Array.from(
      { length: RECORDS_PER_CALL },
      (_, i): OutRecord => ({
        topic,
        key: `app-${app.toString().padStart(4, "0")}-8c5a1b8e-1f3b-4a57:${["web", "worker", "clock"][i % 3]}`,
        value: new Uint8Array(RECORD_BYTES).fill(i % 251),
        timestamp: Date.now(),
      }),
    ),
  )

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN

const round = async (client: Client, n: number) => {
  const topic = `${prefix}.${client}-${n}`
  const runtime = ManagedRuntime.make(busLayer(client))
  try {
    const bus = await runtime.runPromise(Effect.service(Bus))
    await runtime.runPromise(
      bus.ensureTopics([
        { name: topic, partitions: PARTITIONS, replicationFactor: 1, config: { "cleanup.policy": "delete" } },
      ]),
    )
    const bodies = calls(topic)
    // Warm-up: connections, producer id, metadata.
    await runtime.runPromise(bus.produce(bodies[0]!))
    let acked = RECORDS_PER_CALL
    const latencies: Array<number> = []
    const until = performance.now() + SECONDS * 1000
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, c) => {
        for (let i = c; performance.now() < until; i += CALLERS) {
          const t = performance.now()
          await runtime.runPromise(bus.produce(bodies[i % bodies.length]!))
          latencies.push(performance.now() - t)
          acked += RECORDS_PER_CALL
        }
      }),
    )
    const produced = (acked - RECORDS_PER_CALL) / ((performance.now() - started) / 1000)
    const cpu1 = process.cpuUsage(cpu0)
    const produceCpu = (cpu1.user + cpu1.system) / (acked - RECORDS_PER_CALL)
    latencies.sort((a, b) => a - b)
    const all = [...Array(PARTITIONS).keys()]
    const t0 = performance.now()
    const cpu2 = process.cpuUsage()
    await runtime.runPromise(
      bus.consume({ group: `${topic}-read`, topics: [topic], partitions: all }).pipe(
        Stream.scan(
          () => 0,
          (n: number, d: Delivery) => (d._tag === "Batch" ? n + d.records.length : n),
        ),
        Stream.takeUntil((n) => n >= acked),
        Stream.runDrain,
      ),
    )
    const consumed = acked / ((performance.now() - t0) / 1000)
    const cpu3 = process.cpuUsage(cpu2)
    const consumeCpu = (cpu3.user + cpu3.system) / acked
    return {
      produced,
      consumed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      /** This process's CPU time per record (µs): what the client costs, whatever else runs. */
      produceCpu,
      consumeCpu,
      records: acked,
      topic,
    }
  } finally {
    await runtime.dispose()
  }
}

/** Kafka's ProducerPerformance: same record size, acks=all, idempotence on (its default), 32 partitions. */
export const producerPerformance = (recordSize: number, records = 2_000_000) => {
  const topic = `${prefix}.producer-perf-${recordSize}`
  execFileSync("bash", [join(root, "scripts/kafka.sh"), "topic", topic, String(PARTITIONS)], {
    stdio: "inherit",
  })
  const out = execFileSync(
    "bash",
    [
      join(root, "scripts/kafka.sh"),
      "perf",
      "--topic",
      topic,
      "--num-records",
      String(records),
      "--record-size",
      String(recordSize),
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${BROKERS.join(",")}`,
      "acks=all",
      "enable.idempotence=true",
    ],
    { encoding: "utf8" },
  )
  const last = out.trim().split("\n").pop() ?? ""
  return {
    recordsPerSecond: Number(/([\d.]+) records\/sec/.exec(last)?.[1] ?? Number.NaN),
    line: last,
  }
}

/**
 * Kafka's ConsumerPerformance over a topic the Bus produce run wrote: `messages` records from the
 * start, one consumer in a fresh group; records/s from its start, group join included (as the Bus
 * consume figure is).
 */
export const consumerPerformance = (topic: string, messages: number) => {
  const home = execFileSync("bash", [join(root, "scripts/kafka.sh"), "home"], { encoding: "utf8" }).trim()
  const out = execFileSync(
    "java",
    [
      "-Xmx512m",
      `-Dlog4j2.configurationFile=${home}/log4j2.properties`,
      "-cp",
      `${home}/libs/*:${home}/tools/*`,
      "org.apache.kafka.tools.ConsumerPerformance",
      "--bootstrap-server",
      BROKERS.join(","),
      "--topic",
      topic,
      "--messages",
      String(messages),
      "--timeout",
      "60000",
    ],
    { encoding: "utf8" },
  )
  const last = out.trim().split("\n").pop() ?? ""
  const cells = last.split(",").map((c) => c.trim())
  return { recordsPerSecond: Number(cells[5]), line: last }
}

export const deleteBenchTopics = async () => {
  const admin = new Admin({ clientId: "tally-bench-cleanup", bootstrapBrokers: BROKERS })
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  } finally {
    await admin.close()
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const run = async () => {
  const load0 = loadavg()[0]!
  execFileSync("bash", [join(root, "scripts/kafka.sh"), "start"], { stdio: "inherit" })
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const clients = ["kafkajs", "platformatic"] as const
  // Each round measures the peers too, so every ratio compares runs made under the same load.
  const rows: Array<Record<string, number>> = []
  let failed = 0
  try {
    for (let n = 0; n < rounds; n++) {
      const r: Record<string, number> = {}
      // A round that fails (the shared broker stopped by someone's outage test) is left out, and said so.
      try {
        for (const client of clients) {
          const bus = await round(client, n)
          console.log(client, "bus", n, JSON.stringify(bus))
          Object.assign(r, {
            [`${client}.produced`]: bus.produced,
            [`${client}.consumed`]: bus.consumed,
            [`${client}.p50`]: bus.p50,
            [`${client}.p99`]: bus.p99,
            [`${client}.produceCpu`]: bus.produceCpu,
            [`${client}.consumeCpu`]: bus.consumeCpu,
          })
          if (client === "platformatic") {
            const cp = consumerPerformance(bus.topic, bus.records)
            console.log("ConsumerPerformance:", cp.line)
            r.consumerPerformance = cp.recordsPerSecond
          }
        }
        const pp = producerPerformance(RECORD_BYTES, 1_000_000)
        console.log("ProducerPerformance:", pp.line)
        r.producerPerformance = pp.recordsPerSecond
        for (const client of [...clients, "memory"] as const) {
          const e2e = await endToEnd(
            client === "memory" ? (Bus.layerMemory as unknown as Layer.Layer<Bus>) : busLayer(client),
            15,
            16,
          )
          r[`${client}.ingress`] = e2e.linesPerSecond
          r[`${client}.ingress503`] = e2e.statuses["503"] ?? 0
          console.log(client, "ingress", n, JSON.stringify(e2e))
        }
        rows.push(r)
      } catch (e) {
        console.error(`round ${n + 1} failed and is left out: ${e}`)
        failed++
      }
    }
    if (rows.length === 0) throw new Error("every round failed")
  } finally {
    await deleteBenchTopics().catch((e) => console.error(`could not delete the benchmark's topics: ${e}`))
  }
  render(rows, failed, loadNote(load0))
}

/** The `kafka` section of BENCHMARKS.md from the rounds' figures. */
export const render = (rows: ReadonlyArray<Record<string, number>>, failed: number, load: string) => {
  const med = (key: string) => median(rows.map((r) => r[key]!))
  const ratio = (key: string, of: string) =>
    `${(median(rows.map((r) => r[key]! / r[of]!)) * 100).toFixed(0)}%`
  const ingressCell = (client: string) =>
    `${fmt(med(`${client}.ingress`))} lines/s = ${fmt(med(`${client}.ingress`) * RECORDS_PER_LINE)} records/s (${median(rows.map((r) => ((r[`${client}.ingress`]! * RECORDS_PER_LINE) / r.producerPerformance!) * 100)).toFixed(0)}%)`
  const row = (client: Client) =>
    `| ${client} | ${fmt(med(`${client}.produced`))} records/s (${ratio(`${client}.produced`, "producerPerformance")}) | ${fmt(med(`${client}.p50`))} / ${fmt(med(`${client}.p99`))} ms | ${fmt(med(`${client}.consumed`))} records/s (${ratio(`${client}.consumed`, "consumerPerformance")}) | ${med(`${client}.produceCpu`).toFixed(1)} / ${med(`${client}.consumeCpu`).toFixed(1)} µs | ${ingressCell(client)} |`
  const ingressRound = (r: Record<string, number>, client: string) =>
    `${fmt(r[`${client}.ingress`]!)}${r[`${client}.ingress503`] ? ` (${fmt(r[`${client}.ingress503`]!)} × 503)` : ""}`
  const perRound = rows
    .map(
      (r, i) =>
        `| ${i + 1} | ${fmt(r["kafkajs.produced"]!)} | ${fmt(r["platformatic.produced"]!)} | ${fmt(r.producerPerformance!)} | ${fmt(r["kafkajs.consumed"]!)} | ${fmt(r["platformatic.consumed"]!)} | ${fmt(r.consumerPerformance!)} | ${ingressRound(r, "kafkajs")} | ${ingressRound(r, "platformatic")} | ${ingressRound(r, "memory")} |`,
    )
    .join("\n")
  const markdown = `## Kafka client behind the Bus (issue 12)

The same Bus contract on two clients, on the project's single local broker (32-partition topics,
replication 1): **platformatic** (\`@platformatic/kafka\`, src/bus/kafka/kafka.ts, shipped) and **kafkajs** (the
previous Bus, kept as the peer in bench/kafkajs). **Bus produce**: ${CALLERS} concurrent callers, each
calling \`bus.produce\` with ${RECORDS_PER_CALL} records of ${RECORD_BYTES} bytes (one app, 3 process types) as fast as it is
acknowledged; acks=all, idempotent, group-committed; timed over ${SECONDS} s; % of Kafka's
ProducerPerformance (same record size, acks=all, idempotent, 1,000,000 records, 32 partitions).
**Bus consume**: one consumer owning all 32 partitions reads everything its produce run wrote, from
the start; timed from the stream's start (group join included) to the last record; % of Kafka's
ConsumerPerformance over the platformatic run's topic (join included too). **Client CPU**: the
benchmark process's user+system CPU time per record while producing / consuming (the client's cost,
much less sensitive than throughput to what else runs on the machine). **Ingress**: HTTP → Kafka
end to end (bench/ingress.ts: 400-line bodies, 16 connections, load from a separate process, 15 s),
records = lines × ${RECORDS_PER_LINE}; % of ProducerPerformance. Every round runs the clients and the peers
in turn under the same load; medians of ${rows.length} rounds${failed > 0 ? ` (${failed} more failed and are left out)` : ""}, percentages are medians of the per-round ratios.

| client | Bus produce | produce call p50 / p99 | Bus consume | client CPU per record, produce / consume | ingress end to end |
|---|---|---|---|---|---|
${row("kafkajs")}
${row("platformatic")}
| in-memory Bus (no Kafka: the ingress stage's own ceiling) | | | | | ${ingressCell("memory")} |
| Kafka ProducerPerformance / ConsumerPerformance | ${fmt(med("producerPerformance"))} records/s | | ${fmt(med("consumerPerformance"))} records/s | | |

Per round (records/s; ingress in lines/s):

| round | produce kafkajs | produce platformatic | ProducerPerformance | consume kafkajs | consume platformatic | ConsumerPerformance | ingress kafkajs | ingress platformatic | ingress in-memory |
|---|---|---|---|---|---|---|---|---|---|
${perRound}

${load} The ratios within a round are what to read.`
  writeSection("kafka", markdown)
  console.log(markdown)
}
