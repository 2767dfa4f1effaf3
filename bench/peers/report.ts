/** The BENCHMARKS.md section of the peers benchmark, rendered from its results (saved as JSON beside the logs). */
import { fmt } from "../report.ts"
import { APPS, LINES_PER_BATCH, type Plan, PROCESS_TYPES } from "./load.ts"

export interface System {
  readonly id: string
  readonly name: string
  readonly kind: "tally" | "ks"
  /** tally worker processes, or Kafka Streams stream threads */
  readonly parallelism: number
}

export interface Result {
  readonly system: System
  readonly rep: number
  readonly seconds: number
  readonly rate: number
  readonly firstOutputS: number
  readonly peakRssMb: number
  readonly cpuS: number
  readonly series: number
  readonly statsHash: string
  /** "1m router_service_ms" -> [p50, p99] of the final sketches merged, read with sketches-java */
  readonly quantiles: Record<string, [number, number]>
}

/** How the run was set up and what the machine was doing. */
export interface Conditions {
  readonly runs: number
  readonly spanMs: number
  readonly emitMs: number
  readonly ksCacheMb: number
  readonly ksHeap: string
  readonly tally: string
  readonly loadAverage: { readonly start: number; readonly end: number }
  readonly wallS: number
  readonly note: string
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const quantilesOf = (r: Result | undefined, metric: string) => {
  const q = r?.quantiles[`1m ${metric}`]
  return q ? `${fmt(q[0])} / ${fmt(q[1])}` : "–"
}

export const render = (plan: Plan, c: Conditions, results: ReadonlyArray<Result>): string => {
  const bySystem = new Map<string, Array<Result>>()
  for (const r of results) bySystem.set(r.system.id, [...(bySystem.get(r.system.id) ?? []), r])
  const med = (id: string, f: (r: Result) => number) => median((bySystem.get(id) ?? []).map(f))
  const rows = [...bySystem.entries()].map(([id, rs]) => {
    const cells = [
      rs[0]!.system.name,
      fmt(med(id, (r) => r.rate)),
      rs.map((r) => fmt(r.rate)).join(" / "),
      med(id, (r) => r.seconds).toFixed(1),
      med(id, (r) => r.firstOutputS).toFixed(1),
      fmt(med(id, (r) => r.peakRssMb)),
      (med(id, (r) => r.cpuS) / (plan.records / 1e6)).toFixed(1),
    ]
    return `| ${cells.join(" | ")} |`
  })
  const ratioOf = (a: string, b: string) =>
    bySystem.has(a) && bySystem.has(b)
      ? `**${(med(a, (r) => r.rate) / med(b, (r) => r.rate)).toFixed(2)}×** throughput, ${(med(a, (r) => r.peakRssMb) / med(b, (r) => r.peakRssMb)).toFixed(2)}× peak RSS`
      : "not run"
  const outputs = new Set(results.map((r) => `${fmt(r.series)} series, hash ${r.statsHash}`))
  const tally = results.find((r) => r.system.kind === "tally")
  const ks = results.find((r) => r.system.kind === "ks")
  return `## Kafka Streams side by side (issue 12)
${c.note ? `\n**${c.note}**\n` : ""}
Input: ${fmt(plan.records)} raw router measurements, ${fmt(plan.retried)} of them in retried deliveries (same
Frame-Id, another delivery id) that must be dropped; encoded by tally's ingress encoder (\`toRecord\`); keys
${APPS} apps × ${PROCESS_TYPES.length} process types; drain batches of ${LINES_PER_BATCH} lines; event time over ${c.spanMs / 60_000} minutes, so
1-minute windows close; loaded once into one 32-partition topic. Both systems, in turn on the same broker,
${c.runs} runs each, alternating, each from scratch: read it, drop the retries, roll up 1m and 15m windows with 5
minutes of grace (count, sum, sumsq, min, max per owner:process_type:metric(:label); DDSketch bins for
service and connect times) and write \`tally.v1.Summary\` records to a summary topic.

**Done** = one watcher process (the same for both) has seen, on the system's summary topic, snapshots whose
counts add up to every measurement of the input, for each period and metric: all input consumed and its
rollups emitted. Timed from process start, so start-up (JVM, Kafka Streams rebalance and changelog topics;
Node module load and group join) and up to one emit interval are included. Peak RSS: the process trees,
sampled every 200 ms; CPU: user + system time of the process trees when done (start-up included).

| system | measurements/s (median) | each run | s to done | s to first output | peak RSS MB | CPU s per 1M |
|---|---|---|---|---|---|---|
${rows.join("\n")}

- tally ÷ Kafka Streams, 1 worker vs 1 stream thread: ${ratioOf("tally1", "ks1")} (goal ≥ 1.0×).
- tally ÷ Kafka Streams, 2 workers vs 2 stream threads: ${ratioOf("tally2", "ks2")}.
- Same work, checked: ${outputs.size === 1 ? `every run of both systems ended with identical final summaries (${[...outputs][0]} over each series' exact count, sum, sumsq, min and max)` : `**the final summaries differ: ${[...outputs].join("; ")}**`}.
  Sketches, all 1m windows merged and read with sketches-java, p50 / p99 ms: service ${quantilesOf(tally, "router_service_ms")}
  (tally) vs ${quantilesOf(ks, "router_service_ms")} (Kafka Streams), connect ${quantilesOf(tally, "router_connect_ms")} vs ${quantilesOf(ks, "router_connect_ms")}: one
  bin (≈2%) apart, because sketches-js numbers bins with ceil(log_γ v) and sketches-java with floor.

Settings: the same emit interval, ${c.emitMs / 1000} s, for both: tally \`TALLY_FLUSH_AFTER=${c.emitMs}ms\`; Kafka Streams
\`commit.interval.ms=${c.emitMs}\` (its record cache sends changed windows downstream on commit). Kafka Streams
(bench/peers/kafka-streams): DSL, \`groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(…, 5 min)).aggregate(…)\`
per period, one aggregate per record key (owner:process_type, the input's own partitioning: no repartition
topic); \`statestore.cache.max.bytes=${c.ksCacheMb} MiB\` (holds every open window's aggregate, so updates hit the
cache and RocksDB and the changelogs see one write per changed window per commit); default RocksDB stores
with changelogs; at_least_once; default client settings; \`-Xmx${c.ksHeap}\`; protobuf classes generated by protoc
(protobuf-java 3.25.5); DDSketch from \`com.datadoghq:sketches-java\` 0.8.3 (LogarithmicMapping 1%, unbounded
dense store, as tally); retries dropped through a cached RocksDB key-value store. tally: \`node src/main.ts
aggregator\` with \`TALLY_WORKERS\`/\`TALLY_WORKER_INDEX\`, other settings default; ${c.tally}.
Machine load average (1 min) at start ${c.loadAverage.start.toFixed(1)}, at end ${c.loadAverage.end.toFixed(1)}. Wall time of the whole benchmark: ${fmt(c.wallS)} s.`
}
