/**
 * Aggregator benchmarks (issue 4, made honest in issue 12): measurements/s through the aggregation core
 * in-process, next to a plain loop doing the same work on the same input (the ceiling), with a check that
 * both emit the same snapshots byte for byte; heap at many active series; and end to end on the real
 * broker through the real topology. Input: bench/aggregator/input.ts.
 */

import { execFileSync } from "node:child_process"
import { loadavg } from "node:os"
import { join } from "node:path"
import { Deferred, Effect, Stream } from "effect"
import { PartitionRollup } from "../src/aggregator/Rollup.ts"
import { type TopologyOptions, topology } from "../src/aggregator/Topology.ts"
import { Bus } from "../src/bus/Bus.ts"
import type { OutRecord } from "../src/bus/Records.ts"
import { catalogue, rawTopic, summaryTopic } from "../src/bus/Topics.ts"
import { RolledUpTypes } from "../src/domain/MeasurementType.ts"
import { deleteTopics } from "../test/support/broker.ts"
import { type Input, routerInput } from "./aggregator/input.ts"
import { type Emitted, PlainRollup } from "./aggregator/plain.ts"
import { fmt, loadNote, ratio, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
/** 12:07 UTC: the first quarter [12:00, 12:15) closes 13 minutes of event time in. */
const T0 = Date.UTC(2026, 10, 28, 12, 7, 0)
const RECORDS = env("BENCH_AGG_RECORDS", 2_000_000)
const SPAN_MS = 30 * 60_000
const BATCH = 500
/** Processing time advances 1 ms per 1,000 records (as if at 1M/s); a changed window is re-emitted 100 ms after it changed. */
const FLUSH_AFTER_MS = 100
const ROUNDS = env("BENCH_AGG_ROUNDS", 7)
const nowAt = (i: number) => 1e12 + Math.floor(i / 1000)

const threadMs = () => {
  const c = process.threadCpuUsage()
  return (c.user + c.system) / 1000
}

interface Run {
  /** Wall-clock and main-thread CPU milliseconds inside process/collect (handing out batches excluded). */
  readonly ms: number
  readonly cpuMs: number
  readonly emitted: number
  readonly duplicates: number
}

/** The core as the topology drives it: every record through `process`, then `collect` and `commitPoint` per batch. */
const core = (input: Input, sink?: (o: OutRecord) => void): Run => {
  const rollup = new PartitionRollup("ROUTER_REQUESTS", rawTopic("ROUTER_REQUESTS"), 0)
  let ms = 0
  let cpuMs = 0
  let emitted = 0
  for (let i = 0; i <= input.length; i += BATCH) {
    const records = input.batch(i, Math.min(input.length, i + BATCH))
    const last = i + BATCH > input.length
    const now = nowAt(i)
    const t = performance.now()
    const c = threadMs()
    for (let j = 0; j < records.length; j++) rollup.process(records[j]!, now)
    const out = rollup.collect(now, FLUSH_AFTER_MS, last)
    rollup.commitPoint()
    cpuMs += threadMs() - c
    ms += performance.now() - t
    emitted += out.length
    if (sink) for (const o of out) sink(o)
    if (last) break
  }
  return { ms, cpuMs, emitted, duplicates: rollup.counters.duplicates }
}

const plain = (input: Input, sink: (e: Emitted) => void = () => undefined): Run => {
  const rollup = new PlainRollup()
  let ms = 0
  let cpuMs = 0
  let emitted = 0
  for (let i = 0; i <= input.length; i += BATCH) {
    const records = input.batch(i, Math.min(input.length, i + BATCH))
    const last = i + BATCH > input.length
    const now = nowAt(i)
    const t = performance.now()
    const c = threadMs()
    rollup.processBatch(records, now)
    emitted += rollup.collect(now, FLUSH_AFTER_MS, last, sink)
    cpuMs += threadMs() - c
    ms += performance.now() - t
    if (last) break
  }
  return { ms, cpuMs, emitted, duplicates: rollup.duplicates }
}

/** Both emit the same snapshots: same count, and the same last bytes per summary key. */
const check = (input: Input) => {
  const a = new Map<string, string>()
  const b = new Map<string, string>()
  const ra = core(input, (o) => a.set(o.key, Buffer.from(o.value).toString("hex")))
  const rb = plain(input, (e) => b.set(e.key, Buffer.from(e.value).toString("hex")))
  let same = a.size === b.size && ra.emitted === rb.emitted && ra.duplicates === rb.duplicates
  for (const [k, v] of a) if (b.get(k) !== v) same = false
  if (!same) throw new Error("the plain loop and the core emitted different snapshots")
  return { emitted: ra.emitted, keys: a.size, duplicates: ra.duplicates }
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!

/** Memory (heap and array buffers) held by one rollup with `apps` × 3 keys active in open 1m and 15m windows. */
export const heapAt = async (apps: number) => {
  const input = routerInput(apps * 100, T0, 60_000, apps)
  /** After a few collections with pauses between them: array buffers are freed by a background sweeper. */
  const used = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc?.()
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }
  const before = await used()
  const rollup = new PartitionRollup("ROUTER_REQUESTS", rawTopic("ROUTER_REQUESTS"), 0)
  for (let i = 0; i < input.length; i += BATCH)
    for (const r of input.batch(i, Math.min(input.length, i + BATCH))) rollup.process(r, 0)
  const heap = (await used()) - before
  return { series: rollup.activeSeries(), keys: rollup.keyCount, heap, windows: rollup.windows.openCount }
}

/**
 * The aggregator as deployed: raw records produced to a 32-partition raw topic first, then `topology()`
 * over `Bus.layerKafka` (consume, roll up, produce snapshots, commit) from the first batch until every
 * record was consumed and the graceful stop's final snapshots were produced and committed.
 */
export const endToEnd = async (input: Input, flushAfterMs: number) => {
  const brokers = (process.env.TALLY_KAFKA_BROKERS || "127.0.0.1:9092").split(",")
  const prefix = `benchagg${Date.now().toString(36)}.`
  try {
    return await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus
        yield* bus.ensureTopics(catalogue(1, 32, prefix))
        const topic = rawTopic("ROUTER_REQUESTS", prefix)
        for (let i = 0; i < input.length; i += 5000)
          yield* bus.produce(
            input.batch(i, Math.min(input.length, i + 5000)).map((r) => ({ topic, ...r, timestamp: 0 })),
          )
        const options: TopologyOptions = {
          group: `${prefix}bench`,
          prefix,
          types: RolledUpTypes,
          partitions: Array.from({ length: 32 }, (_, p) => p),
          flushAfterMs,
          commitIntervalMs: 1000,
        }
        const stop = yield* Deferred.make<void>()
        let seen = 0
        let started = 0
        const source = bus
          .consume({
            group: options.group,
            topics: RolledUpTypes.map((t) => rawTopic(t, prefix)),
            partitions: options.partitions,
          })
          .pipe(
            Stream.tap((d) =>
              Effect.suspend(() => {
                if (d._tag !== "Batch") return Effect.void
                if (started === 0) started = performance.now()
                seen += d.records.length
                return seen >= input.length ? Deferred.succeed(stop, undefined) : Effect.void
              }),
            ),
          )
        yield* topology(options, source, Deferred.await(stop)).pipe(
          Stream.runDrain,
          Effect.timeoutOrElse({
            duration: "4 minutes",
            orElse: () =>
              Effect.die(new Error(`end to end: ${seen} of ${input.length} records after 4 minutes`)),
          }),
        )
        const seconds = (performance.now() - started) / 1000
        const ends = yield* bus.endOffsets([summaryTopic("ROUTER_REQUESTS", prefix)])
        const summaries = ends.reduce((n, e) => n + e.offset, 0)
        return { rate: input.length / seconds, seconds, summaries }
      }).pipe(Effect.scoped, Effect.provide(Bus.layerKafka({ brokers, clientId: "tally-bench-agg" }))),
    )
  } finally {
    await deleteTopics(brokers, prefix)
  }
}

export const run = async () => {
  const load0 = loadavg()[0]!
  console.log(`generating ${fmt(RECORDS)} router records over ${SPAN_MS / 60_000} minutes of event time`)
  const input = routerInput(RECORDS, T0, SPAN_MS)
  const checked = check(input)
  console.log(
    `core and plain loop agree: ${fmt(checked.emitted)} snapshots, ${fmt(checked.keys)} summary keys`,
  )
  const coreRuns: Array<Run> = []
  const plainRuns: Array<Run> = []
  for (let r = 0; r < ROUNDS; r++) {
    coreRuns.push(core(input))
    plainRuns.push(plain(input))
    const [c, p] = [coreRuns.at(-1)!, plainRuns.at(-1)!]
    console.log(
      `round ${r + 1}: core ${fmt(RECORDS / (c.ms / 1000))}/s, plain ${fmt(RECORDS / (p.ms / 1000))}/s`,
    )
  }
  const rate = (runs: ReadonlyArray<Run>, f: (r: Run) => number) =>
    median(runs.map((r) => RECORDS / (f(r) / 1000)))
  const coreRate = rate(coreRuns, (r) => r.ms)
  const plainRate = rate(plainRuns, (r) => r.ms)
  const coreCpu = rate(coreRuns, (r) => r.cpuMs)
  const plainCpu = rate(plainRuns, (r) => r.cpuMs)
  const rounds = (runs: ReadonlyArray<Run>) => runs.map((r) => fmt(RECORDS / (r.ms / 1000))).join(" / ")

  const memory = await heapAt(env("BENCH_AGG_MEMORY_APPS", 6_000))
  console.log(`heap: ${fmt(memory.heap / 2 ** 20)} MB at ${fmt(memory.series)} active series`)

  execFileSync("bash", [join(root, "scripts/kafka.sh"), "start"], { stdio: "inherit" })
  const E2E_RECORDS = env("BENCH_AGG_E2E_RECORDS", 1_000_000)
  const e2eInput = routerInput(E2E_RECORDS, T0, 15 * 60_000)
  // The broker is shared: when another run restarts it mid-way, the attempt is abandoned and made again.
  const failures: Array<string> = []
  let e2e: Awaited<ReturnType<typeof endToEnd>> | undefined
  for (let attempt = 0; attempt < 2 && !e2e; attempt++)
    e2e = await endToEnd(e2eInput, 1000).catch((e: unknown) => {
      failures.push(e instanceof Error ? e.message : String(e))
      console.log(`end to end attempt ${attempt + 1} failed: ${failures.at(-1)}`)
      return undefined
    })
  if (e2e) console.log(`end to end: ${fmt(e2e.rate)}/s, ${fmt(e2e.summaries)} summaries`)
  const abandoned =
    failures.length > 0 ? ` (${failures.length} attempt abandoned: ${failures.join("; ")})` : ""

  const markdown = `## Aggregator (issues 4 and 12)

${loadNote(load0)} \`npm run bench -- aggregator\` (bench/aggregator.ts). Input (bench/aggregator/input.ts): ${fmt(RECORDS)}
raw router records encoded by the ingress's own \`toRecord\` (4 samples each: status, service and connect
times with sketches, bytes), in drain batches of 100 lines of one app, 200 apps × 3 process types, each batch
with its own Frame-Id and delivery id; event time over ${SPAN_MS / 60_000} minutes from 12:07 UTC, so 1m and
15m windows close; 1 batch in 97 delivered again (${fmt(input.retried)} records to discard: the core discarded
${fmt(checked.duplicates)}), 1 in 53 arriving 2-4 minutes late, 1 in 211 seven minutes late
(${fmt(input.tooLate)} records, too late for their minute). One partition, batches of ${BATCH} records:
\`process\` per record, then \`collect\` and \`commitPoint\` per batch, as the topology calls them; processing
time advances 1 ms per 1,000 records and flushAfter is ${FLUSH_AFTER_MS} ms, so every changed window is
re-emitted every ${fmt(FLUSH_AFTER_MS * 1000)} records besides its final snapshot at close: ${fmt(checked.emitted)}
encoded snapshots in all (${(checked.emitted / (RECORDS / 1000)).toFixed(0)} per 1,000 measurements). Timed: the
calls into the rollup only (handing out the batch's records — fresh key strings, views of the value bytes
— is not); median of ${ROUNDS} rounds alternating core and plain loop. The plain loop (bench/aggregator/plain.ts)
does the same work in one loop with its own decoder, bins and encoder, and emits the same snapshots byte
for byte (checked before timing).

| what | result | goal | ratio to goal |
|---|--:|--:|--:|
| aggregation core in-process (PartitionRollup: decode, dedupe, windows, lateness, versions, emissions) | ${fmt(coreRate)} measurements/s | ≥ 1,000,000/s | ${ratio(coreRate, 1_000_000)} |
| plain loop, same work, same input (the ceiling) | ${fmt(plainRate)} measurements/s | | |
| core ÷ plain loop | ${((coreRate / plainRate) * 100).toFixed(0)}% | ≥ 50% | ${ratio(coreRate / plainRate, 0.5)} |
| the same per CPU-second of the main thread (core / plain; GC helper threads not counted; less disturbed by the shared machine) | ${fmt(coreCpu)} / ${fmt(plainCpu)} measurements/s | | |
| memory (heap and array buffers) at ${fmt(memory.series)} active series (${fmt(memory.keys)} keys, 1m and 15m windows open) | ${fmt(memory.heap / 2 ** 20)} MB | < 500 MB | ${ratio(500, memory.heap / 2 ** 20)} headroom |
| end to end on the real broker (\`topology()\` over \`Bus.layerKafka\`, 32 partitions, flushAfter 1 s) | ${e2e ? `${fmt(e2e.rate)} measurements/s` : "not measured"} | | |

Rounds (wall clock): core ${rounds(coreRuns)}; plain ${rounds(plainRuns)}.

End to end: ${fmt(E2E_RECORDS)} records of the same generator (15 minutes of event time) produced to a
32-partition raw topic first, then timed from the first batch consumed until every record was consumed and
the graceful stop's snapshots were produced and committed${e2e ? ` (${e2e.seconds.toFixed(1)} s, ${fmt(e2e.summaries)} summaries produced)` : ""}; flushAfter 1 s
paces the emissions; topics of a unique prefix, deleted afterwards${abandoned}.`
  writeSection("aggregator", markdown)
  console.log(markdown)
}
