/**
 * Ingress benchmarks (issue 3): parse-only lines/s on one core; HTTP -> Kafka lines/s end to end on the
 * real broker; and Kafka's own ProducerPerformance for the same message sizes, as the ceiling.
 */

import { execFileSync, spawn } from "node:child_process"
import { loadavg } from "node:os"
import { join } from "node:path"
import { type Effect, type Layer, ManagedRuntime } from "effect"
import { Bus } from "../src/bus/Bus.ts"
import { DrainParser, parseBody } from "../src/ingress/DrainParser.ts"
import { toRecords } from "../src/ingress/Encode.ts"
import { deleteTopics } from "../test/support/broker.ts"
import { baseUrl, createApp } from "../test/support/http.ts"
import { ingressStack } from "../test/support/stack.ts"
import { body } from "./drainBodies.ts"
import { fmt, loadNote, ratio, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")
const BROKERS = process.env.TALLY_KAFKA_BROKERS || "127.0.0.1:9092"
const t0 = Date.now() - 60_000

const timed = (seconds: number, f: () => number) => {
  let units = 0
  const start = performance.now()
  while (performance.now() - start < seconds * 1000) units += f()
  return units / ((performance.now() - start) / 1000)
}

/**
 * HTTP -> Kafka end to end: the ingress (HTTP server, parse, encode, group-committed produce) on the
 * given Bus layer; a separate load process posts 400-line bodies over `concurrency` connections for
 * `seconds` after a 3 s warm-up. Lines/s acknowledged with 204.
 */
export const endToEnd = async (kafka: Layer.Layer<Bus>, seconds: number, concurrency: number) => {
  // Topics of its own (deleted after), so the load never lands in anyone's catalogue topics.
  const topicPrefix = `bench-ingress-${Date.now().toString(36)}.`
  const runtime = ManagedRuntime.make(
    ingressStack(kafka, { topicPrefix }) as unknown as Layer.Layer<never, unknown>,
  )
  try {
    const base = await runtime.runPromise(baseUrl as Effect.Effect<string>)
    const drain = await createApp(base, `bench-${Date.now().toString(36)}`)
    const load = (seconds: number, concurrency: number) =>
      new Promise<{ linesPerSecond: number; requests: number; statuses: Record<string, number> }>(
        (resolve, reject) => {
          const child = spawn(process.execPath, [
            join(root, "bench/load.ts"),
            drain.url,
            drain.authorization,
            String(seconds),
            String(concurrency),
            "400",
          ])
          let out = ""
          child.stdout.on("data", (d) => {
            out += d
          })
          child.on("exit", (code) =>
            code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`)),
          )
        },
      )
    await load(3, 8) // warm-up
    return await load(seconds, concurrency)
  } finally {
    await runtime.dispose()
    await deleteTopics(BROKERS.split(","), topicPrefix)
  }
}

export const run = async () => {
  const load0 = loadavg()[0]!
  execFileSync("bash", [join(root, "scripts/kafka.sh"), "start"], { stdio: "inherit" })
  const bodies = Array.from({ length: 50 }, (_, k) => body(400, t0, k * 400))
  const bodyBytes = bodies[0]!.length

  // 1. Parse only, one core.
  let k = 0
  const parse = timed(5, () => {
    const p = new DrainParser()
    p.push(bodies[k++ % bodies.length]!)
    p.end()
    return p.frames
  })
  // 2. Parse and encode to protobuf records.
  const delivery = {
    owner: "8c5a1b8e-1f3b-4a57-9c1e-2f0d8b4f1a23",
    drain: "d.x",
    frameId: "f".repeat(32),
    delivery: "b-1",
  }
  const encode = timed(5, () => {
    const p = parseBody(bodies[k++ % bodies.length]!).parser
    toRecords(p.measurements, delivery)
    return p.frames
  })
  // A body's records as the ingress produces them: one per (type, process type), its lines in order.
  const sample = parseBody(bodies[0]!).parser
  const records = toRecords(sample.measurements, delivery)
  const perLine = records.length / sample.frames
  const measurementsPerLine = sample.measurements.length / sample.frames
  const bytes = records.reduce((n, r) => n + r.value.length, 0)
  const avgSize = Math.round(bytes / records.length)
  const bytesPerLine = bytes / sample.frames

  // 3. HTTP -> Kafka, end to end, load from a separate process.
  const kafka = Bus.layerKafka({ brokers: BROKERS.split(","), clientId: "tally-bench", logLevel: "ERROR" })
  const e2e = await endToEnd(kafka, 15, 16)
  // The same ingress on the in-memory Bus: what the stage itself sustains here, without Kafka.
  const memory = await endToEnd(Bus.layerMemory as unknown as Layer.Layer<Bus>, 15, 16)

  // 4. Kafka's ProducerPerformance, same message size, acks=all, on a 32-partition topic.
  const topic = "tally-bench-producer-perf"
  execFileSync("bash", [join(root, "scripts/kafka.sh"), "topic", topic, "32"], { stdio: "inherit" })
  const perf = execFileSync(
    "bash",
    [
      join(root, "scripts/kafka.sh"),
      "perf",
      "--topic",
      topic,
      "--num-records",
      "2000000",
      "--record-size",
      String(avgSize),
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${BROKERS}`,
      "acks=all",
    ],
    { encoding: "utf8" },
  )
  const last = perf.trim().split("\n").pop() ?? ""
  const ceiling = Number(/([\d.]+) records\/sec/.exec(last)?.[1] ?? Number.NaN)
  const e2eRecords = e2e.linesPerSecond * perLine
  // Records of different sizes compare by their bytes.
  const e2eBytes = e2e.linesPerSecond * bytesPerLine
  const ceilingBytes = ceiling * avgSize

  const markdown = `## Ingress (issue 3)

Bodies of 400 frames (${fmt(bodyBytes)} bytes, Logplex's ~100 KiB batch): 60% router lines, 10% runtime
memory samples, 30% ordinary app lines; ${measurementsPerLine.toFixed(2)} measurements per line, encoded as the ingress
produces them: one record per (type, process type) of a body, ${perLine.toFixed(3)} records per line, ${avgSize} bytes per record
(${bytesPerLine.toFixed(0)} bytes per line).

| what | result | target | ratio to target |
|---|---|---|---|
| parse only, one core | ${fmt(parse)} lines/s | ≥ 500,000 lines/s | ${ratio(parse, 500_000)} |
| parse + protobuf encode, one core | ${fmt(encode)} lines/s | | |
| HTTP → Kafka end to end (real broker via @platformatic/kafka, acks=all, idempotent, 16 connections) | ${fmt(e2e.linesPerSecond)} lines/s = ${fmt(e2eRecords)} records/s | ≥ 100,000 lines/s | ${ratio(e2e.linesPerSecond, 100_000)} |
| HTTP → in-memory Bus, same load (the ingress stage without Kafka) | ${fmt(memory.linesPerSecond)} lines/s | | |
| Kafka ProducerPerformance, ${avgSize}-byte records, acks=all (the ceiling) | ${fmt(ceiling)} records/s | | |
| end to end ÷ producer ceiling (bytes/s: ${fmt(e2eBytes / 2 ** 20)} vs ${fmt(ceilingBytes / 2 ** 20)} MiB/s) | ${((e2eBytes / ceilingBytes) * 100).toFixed(0)}% | ≥ 50% | ${ratio(e2eBytes / ceilingBytes, 0.5)} |

End-to-end statuses: ${JSON.stringify(e2e.statuses)} over ${fmt(e2e.requests)} requests. The load generator
is a separate Node process on the same 2-core machine, as is the broker. The Kafka client comparison
behind the Bus (kafkajs vs @platformatic/kafka, each round beside Kafka's own tools) is the \`kafka\`
section.
${loadNote(load0)}`
  writeSection("ingress", markdown)
  console.log(markdown)
}
