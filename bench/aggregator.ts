/**
 * Aggregator benchmarks (issue 4): measurements/s through the aggregation core in-process, next to a
 * plain hand-written loop computing the same rollups over the same input (the ceiling); memory at 100k
 * active series; and end to end on the real broker.
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import kafkajs from "kafkajs"
import { PartitionRollup, seriesOf } from "../src/aggregator/Rollup.ts"
import { visitSamples } from "../src/aggregator/Samples.ts"
import { initialState, type TopologyOptions, topology } from "../src/aggregator/Topology.ts"
import { Bus } from "../src/bus/Bus.ts"
import type { InRecord } from "../src/bus/Records.ts"
import { catalogue, rawTopic } from "../src/bus/Topics.ts"
import type { Measurement } from "../src/domain/Measurement.ts"
import { type RolledUpType, RolledUpTypes } from "../src/domain/MeasurementType.ts"
import { toRecord } from "../src/ingress/Encode.ts"
import { Sketch, Stats } from "../src/stream/Accumulators.ts"
import { fmt, ratio, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")
const T = Date.UTC(2026, 10, 28, 12, 0, 0)

/** `n` router measurements of `series` (owner, process type) keys, 10 per second of event time each. */
const routerRecords = (n: number, keys: number): Array<InRecord> => {
  const out: Array<InRecord> = []
  for (let i = 0; i < n; i++) {
    const k = i % keys
    const m: Measurement = {
      type: "ROUTER_REQUESTS",
      processType: `web${k % 7}`,
      dyno: "web.1",
      timeUs: (T + Math.floor(i / keys) * 100 + (i % 13)) * 1000,
      at: "info",
      method: "GET",
      path: "/",
      host: "h",
      requestId: "",
      fwd: "",
      status: [200, 200, 200, 304, 404, 500][i % 6]!,
      connectMs: i % 5,
      serviceMs: 1 + ((i * 7919) % 900),
      bytes: 500 + (i % 1000),
      protocol: "https",
      code: "",
      desc: "",
    }
    const r = toRecord(m, {
      owner: `00000000-0000-4000-8000-${String(Math.floor(k / 7)).padStart(12, "0")}`,
      drain: "d",
      frameId: "",
      delivery: "",
    })
    out.push({ key: r.key, value: r.value, timestamp: r.timestamp, offset: i })
  }
  return out
}

/**
 * The ceiling: decode each record and fold its samples into nested maps of accumulators
 * (window -> key -> metric -> label), written plainly, with no windows lifecycle, lateness, dedupe,
 * versions or emissions.
 */
const plainLoop = (type: RolledUpType, records: ReadonlyArray<InRecord>) => {
  type Acc = { stats: Stats; sketch: Sketch | undefined }
  const windows = new Map<number, Map<string, Map<string, Map<string, Acc>>>>()
  let key = ""
  let t = 0
  const samples: Array<[string, string, number, boolean]> = []
  for (const r of records) {
    samples.length = 0
    const origin = visitSamples(type, r.value, (metric, label, value, sketched) => {
      samples.push([metric, label, value, sketched])
    })
    t = Math.floor(origin.timeUs / 1000)
    key = r.key
    for (const size of [60_000, 900_000]) {
      const id = (t - (t % size)) * 4 + (size === 60_000 ? 0 : 1)
      let byKey = windows.get(id)
      if (!byKey) windows.set(id, (byKey = new Map()))
      let byMetric = byKey.get(key)
      if (!byMetric) byKey.set(key, (byMetric = new Map()))
      for (const [metric, label, value, sketched] of samples) {
        let byLabel = byMetric.get(metric)
        if (!byLabel) byMetric.set(metric, (byLabel = new Map()))
        let a = byLabel.get(label)
        if (!a) byLabel.set(label, (a = { stats: new Stats(), sketch: sketched ? new Sketch() : undefined }))
        a.stats.add(value)
        a.sketch?.add(value)
      }
    }
  }
  return windows.size
}

const rate = (n: number, f: () => void, rounds = 3) => {
  let best = 0
  for (let i = 0; i < rounds; i++) {
    const start = performance.now()
    f()
    best = Math.max(best, n / ((performance.now() - start) / 1000))
  }
  return best
}

const core = (records: ReadonlyArray<InRecord>) => {
  const rollup = new PartitionRollup("ROUTER_REQUESTS", "ROUTER_REQUESTS.1", 0)
  for (let i = 0; i < records.length; i++) {
    rollup.process(records[i]!, 0)
    if (i % 5000 === 4999) rollup.collect(0, 10_000)
  }
  rollup.collect(0, 10_000, true)
}

export const run = async () => {
  const records = routerRecords(400_000, 2_000)
  const coreRate = rate(records.length, () => core(records), 5)
  const plainRate = rate(records.length, () => plainLoop("ROUTER_REQUESTS", records), 5)

  // Memory at 100k active series: 25k (owner, process type) keys x 4 router metrics, one minute of data.
  global.gc?.()
  const before = process.memoryUsage().heapUsed
  const wide = new PartitionRollup("ROUTER_REQUESTS", "ROUTER_REQUESTS.1", 0)
  const many = routerRecords(100_000, 25_000)
  for (const r of many) wide.process(r, 0)
  const series = [...wide.windows.openWindows()].reduce((n, w) => n + [...seriesOf(w.state)].length, 0) / 2
  many.length = 0
  global.gc?.()
  const heap = process.memoryUsage().heapUsed - before
  void wide

  // End to end on the real broker: raw records in Kafka, the topology consuming, producing and committing.
  execFileSync("bash", [join(root, "scripts/kafka.sh"), "start"], { stdio: "inherit" })
  const brokers = (process.env.TALLY_KAFKA_BROKERS || "127.0.0.1:9092").split(",")
  const prefix = `bench${Date.now().toString(36)}.`
  const e2eRecords = routerRecords(200_000, 500)
  const e2e = await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const bus = yield* Bus
        yield* bus.ensureTopics(catalogue(1, 32, prefix))
        for (let i = 0; i < e2eRecords.length; i += 5000)
          yield* bus.produce(
            e2eRecords.slice(i, i + 5000).map((r) => ({
              topic: rawTopic("ROUTER_REQUESTS", prefix),
              key: r.key,
              value: r.value,
              timestamp: r.timestamp,
            })),
          )
        const options: TopologyOptions = {
          group: `${prefix}bench`,
          prefix,
          types: RolledUpTypes,
          partitions: Array.from({ length: 32 }, (_, p) => p),
          flushAfterMs: 10_000,
          commitIntervalMs: 1000,
        }
        const state = yield* initialState(options)
        let seen = 0
        const started = performance.now()
        yield* topology(
          options,
          state,
          bus
            .consume({
              group: options.group,
              topics: [rawTopic("ROUTER_REQUESTS", prefix)],
              partitions: options.partitions,
            })
            .pipe(
              Stream.tap((b) => Effect.sync(() => (seen += b.records.length))),
              Stream.takeUntil(() => seen >= e2eRecords.length),
            ),
        ).pipe(Stream.runDrain)
        return e2eRecords.length / ((performance.now() - started) / 1000)
      }).pipe(Effect.provide(Bus.layerKafka({ brokers, clientId: "tally-bench-agg", logLevel: "ERROR" }))),
    ),
  )
  const admin = new kafkajs.Kafka({
    clientId: "tally-bench-cleanup",
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin()
  await admin.connect()
  await admin.deleteTopics({ topics: catalogue(1, 32, prefix).map((t) => t.name) }).catch(() => undefined)
  await admin.disconnect()

  const markdown = `## Aggregator (issue 4)

Router measurements (4 metrics each: status, service and connect times with sketches, bytes), 1m and 15m
windows, protobuf decoding included.

| what | result | target | ratio to target |
|---|---|---|---|
| aggregation core in-process (PartitionRollup: windows, lateness, dedupe, versions, emissions) | ${fmt(coreRate)} measurements/s | ≥ 1,000,000/s | ${ratio(coreRate, 1_000_000)} |
| plain hand-written loop, same rollups, same input (the ceiling) | ${fmt(plainRate)} measurements/s | | |
| core ÷ plain loop | ${((coreRate / plainRate) * 100).toFixed(0)}% | ≥ 50% | ${ratio(coreRate / plainRate, 0.5)} |
| heap at ${fmt(series)} active series (1m + 15m windows open) | ${fmt(heap / 2 ** 20)} MB | < 500 MB | ${ratio(500, heap / 2 ** 20)} headroom |
| end to end on the real broker (consume, aggregate, produce summaries, commit) | ${fmt(e2e)} measurements/s | | |`
  writeSection("aggregator", markdown)
  console.log(markdown)
}
