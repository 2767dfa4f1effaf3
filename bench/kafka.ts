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
import { join } from "node:path"
import { Admin } from "@platformatic/kafka"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { Bus } from "../src/bus/Bus.ts"
import type { Delivery, OutRecord } from "../src/bus/Records.ts"
import { endToEnd } from "./ingress.ts"
import { makeKafkajsBus } from "./kafkajs/bus.ts"
import { fmt, writeSection } from "./report.ts"

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

/** "platformatic" is the shipped layer (src/bus/kafka.ts); "kafkajs" is the peer kept in bench/kafkajs. */
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
    latencies.sort((a, b) => a - b)
    const all = [...Array(PARTITIONS).keys()]
    const t0 = performance.now()
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
    return {
      produced,
      consumed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      records: acked,
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

export const deleteBenchTopics = async () => {
  const admin = new Admin({ clientId: "tally-bench-cleanup", bootstrapBrokers: BROKERS })
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  } finally {
    await admin.close()
  }
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export const run = async () => {
  execFileSync("bash", [join(root, "scripts/kafka.sh"), "start"], { stdio: "inherit" })
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
  const clients = ["kafkajs", "platformatic"] as const
  const results: Record<Client, Array<Awaited<ReturnType<typeof round>>>> = { kafkajs: [], platformatic: [] }
  const ingress: Record<Client, Array<number>> = { kafkajs: [], platformatic: [] }
  let perf: ReturnType<typeof producerPerformance>
  try {
    for (let n = 0; n < rounds; n++)
      for (const client of clients) {
        const r = await round(client, n)
        results[client].push(r)
        console.log(client, "bus", n, JSON.stringify(r))
        const e2e = await endToEnd(busLayer(client), 15, 16)
        ingress[client].push(e2e.linesPerSecond)
        console.log(client, "ingress", n, JSON.stringify(e2e))
      }
    perf = producerPerformance(RECORD_BYTES)
    console.log("ProducerPerformance:", perf.line)
  } finally {
    await deleteBenchTopics()
  }
  const ceiling = perf.recordsPerSecond
  const row = (client: Client) => {
    const rs = results[client]
    const produced = median(rs.map((r) => r.produced))
    const lines = median(ingress[client])
    return `| ${client} | ${fmt(produced)} records/s (${((produced / ceiling) * 100).toFixed(0)}%) | ${fmt(median(rs.map((r) => r.p50)))} / ${fmt(median(rs.map((r) => r.p99)))} ms | ${fmt(median(rs.map((r) => r.consumed)))} records/s | ${fmt(lines)} lines/s = ${fmt(lines * RECORDS_PER_LINE)} records/s (${((lines * RECORDS_PER_LINE * 100) / ceiling).toFixed(0)}%) |`
  }
  const markdown = `## Kafka client behind the Bus (issue 12)

The same Bus contract on two clients, on the project's single local broker (32-partition topics,
replication 1). **Bus produce**: ${CALLERS} concurrent callers, each calling \`bus.produce\` with
${RECORDS_PER_CALL} records of ${RECORD_BYTES} bytes (one app, 3 process types) as fast as it is acknowledged;
acks=all, idempotent, group-committed; timed over ${SECONDS} s. **Bus consume**: one consumer owning
all 32 partitions reads everything the produce run wrote, from the start; timed from the stream's
start (join included) to the last record. **Ingress**: HTTP → Kafka end to end (bench/ingress.ts:
400-line bodies, 16 connections, load from a separate process, 15 s). Medians of ${rounds} alternating
rounds; percentages are of ProducerPerformance.

| client | Bus produce | produce call p50 / p99 | Bus consume | ingress end to end |
|---|---|---|---|---|
${row("kafkajs")}
${row("platformatic")}
| Kafka ProducerPerformance, ${RECORD_BYTES}-byte records, acks=all, idempotent | ${fmt(ceiling)} records/s (100%) | | | |

ProducerPerformance: \`${perf.line.trim()}\`

Preliminary: the machine (2 cores) was shared with other engineers' builds and tests while this ran.`
  writeSection("kafka", markdown)
  console.log(markdown)
}
