/**
 * Every metric tally documents (docs/operations.md, "Metrics"), by the part of tally that updates it,
 * and the series each process shows from its start: a counter that has not moved yet is on /metrics at 0,
 * so alert rules and dashboards have something to read (`rate(tally_dead_letters_total[5m]) > 0` works
 * before the first dead letter). Labels with a known, bounded set of values (shards, types, reasons,
 * the partitions a worker owns) are there from the start for each value; a process shows only the
 * metrics of the parts it runs (test/observability/metrics.test.ts holds /metrics to this list and to
 * the doc's table).
 */
import { Effect, Layer, Metric, Option } from "effect"
import * as AM from "../aggregator/AggregatorMetrics.ts"
import * as AL from "../alerts/AlertMetrics.ts"
import * as LM from "../bus/embedded/LogMetrics.ts"
import { partitionsOfWorker } from "../bus/Partitioner.ts"
import { catalogue, PARTITIONS, rawTopic, retryTopic, summaryTopic } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { MeasurementTypes, RolledUpTypes } from "../domain/MeasurementType.ts"
import * as Pressure from "../ingress/Backpressure.ts"
import * as IM from "../ingress/IngressMetrics.ts"
import * as SM from "../sink/SinkMetrics.ts"
import { commitsRebalanced } from "../stream/OffsetCommitter.ts"
import { stalledSeconds } from "../stream/Stage.ts"
import * as PM from "./ProcessMetrics.ts"

/** The parts of tally that have metrics of their own. */
export type Part = "process" | "ingress" | "aggregator" | "sink" | "retrier" | "alerter" | "log" | "consumer"

/** What a process runs, for the series it shows from its start. */
export interface Context {
  readonly prefix: string
  readonly shards: number
  readonly workerIndex: number
  readonly workers: number
  /** The names of its stages (runStage): aggregator, sink, events, retrier. */
  readonly stages: ReadonlyArray<string>
}

type Labels = Readonly<Record<string, string>>

export interface Documented {
  // biome-ignore lint/suspicious/noExplicitAny: metrics of any input and state
  readonly metric: Metric.Metric<any, any>
  readonly part: Part
  /** Label names, in the doc's order. */
  readonly labels: ReadonlyArray<string>
  /** The label sets shown from the start (none: the metric has no labels, one unlabelled series). */
  readonly series?: (c: Context) => ReadonlyArray<Labels>
}

const each = <A>(values: ReadonlyArray<A>, f: (a: A) => Labels) => values.map(f)
const shardsOf = (c: Context) => Array.from({ length: c.shards }, (_, i) => String(i))

/** Drain POST answers: 204 taken; 400 framing or headers; 401; 413; 415; 503 (Retry-After). */
const STATUSES = ["204", "400", "401", "413", "415", "503"]

/** Every reason of tally_ingress_rejected_total (lines or measurements, then whole requests). */
export const REJECT_REASONS = [
  "future",
  "too_old",
  "malformed",
  "bad_process_type",
  "bad_dyno",
  "bad_label",
  "bad_status",
  "too_many_process_types",
  "too_many_labels",
  "inflight",
  "app_inflight",
  "slow_body",
  "app_backpressure",
  "backpressure",
]

const OUTCOMES = ["written", "fallback", "lane_full"]
const RECEIVERS = ["alertmanager", "webhook"]

const partitionsOf = (topics: ReadonlyArray<string>, partitions: ReadonlyArray<number>) =>
  topics.flatMap((topic) => partitions.map((p) => ({ topic, partition: String(p) })))

const ownedRaw = (c: Context) =>
  partitionsOf(
    RolledUpTypes.map((t) => rawTopic(t, c.prefix)),
    partitionsOfWorker(c.workerIndex, c.workers, PARTITIONS),
  )

const ALL_PARTITIONS = Array.from({ length: PARTITIONS }, (_, p) => p)

export const DOCUMENTED: ReadonlyArray<Documented> = [
  // Every process.
  { metric: PM.buildInfo, part: "process", labels: ["version", "node"], series: () => [PM.buildLabels] },
  { metric: PM.startTime, part: "process", labels: [] },
  { metric: PM.cpuSeconds, part: "process", labels: [] },
  { metric: PM.resident, part: "process", labels: [] },
  { metric: PM.heapUsed, part: "process", labels: [] },
  { metric: PM.heapTotal, part: "process", labels: [] },
  { metric: PM.external, part: "process", labels: [] },
  { metric: PM.arrayBuffers, part: "process", labels: [] },
  // Ingress (tally ingress, api, all).
  {
    metric: IM.requests,
    part: "ingress",
    labels: ["status"],
    series: () => each(STATUSES, (status) => ({ status })),
  },
  { metric: IM.lines, part: "ingress", labels: [] },
  {
    metric: IM.produced,
    part: "ingress",
    labels: ["type"],
    series: () => each(MeasurementTypes, (type) => ({ type })),
  },
  { metric: IM.ignored, part: "ingress", labels: [] },
  {
    metric: IM.rejected,
    part: "ingress",
    labels: ["reason"],
    series: () => each(REJECT_REASONS, (reason) => ({ reason })),
  },
  { metric: IM.msgCountMismatch, part: "ingress", labels: [] },
  { metric: IM.duplicates, part: "ingress", labels: [] },
  { metric: IM.frameIdsNotRemembered, part: "ingress", labels: [] },
  { metric: IM.latency, part: "ingress", labels: [] },
  { metric: IM.inflightBytes, part: "ingress", labels: [] },
  { metric: Pressure.lagSeconds, part: "ingress", labels: [] },
  { metric: Pressure.refusing, part: "ingress", labels: [] },
  // Aggregator worker.
  { metric: AM.lag, part: "aggregator", labels: ["topic", "partition"], series: ownedRaw },
  { metric: AM.openWindows, part: "aggregator", labels: ["topic", "partition"], series: ownedRaw },
  { metric: AM.drainBatches, part: "aggregator", labels: ["topic", "partition"], series: ownedRaw },
  {
    metric: AM.emissions,
    part: "aggregator",
    labels: ["topic"],
    series: (c) => each(RolledUpTypes, (t) => ({ topic: summaryTopic(t, c.prefix) })),
  },
  {
    metric: AM.lateDropped,
    part: "aggregator",
    labels: ["type", "period"],
    series: () => RolledUpTypes.flatMap((type) => ["1m", "15m"].map((period) => ({ type, period }))),
  },
  { metric: AM.duplicates, part: "aggregator", labels: [] },
  { metric: AM.processed, part: "aggregator", labels: [] },
  // Sink (summaries, events, retention).
  {
    metric: SM.rows,
    part: "sink",
    labels: ["shard"],
    series: (c) => each(shardsOf(c), (shard) => ({ shard })),
  },
  {
    metric: SM.batches,
    part: "sink",
    labels: ["shard", "outcome"],
    series: (c) => shardsOf(c).flatMap((shard) => OUTCOMES.map((outcome) => ({ shard, outcome }))),
  },
  { metric: SM.latency, part: "sink", labels: [] },
  {
    metric: SM.retried,
    part: "sink",
    labels: ["shard"],
    series: (c) => each(shardsOf(c), (shard) => ({ shard })),
  },
  { metric: SM.events, part: "sink", labels: [] },
  { metric: SM.eventsRefused, part: "sink", labels: [] },
  { metric: SM.retention, part: "sink", labels: [] },
  // Retrier.
  {
    metric: SM.retryBacklog,
    part: "retrier",
    labels: ["topic", "partition"],
    series: (c) =>
      partitionsOf(
        RolledUpTypes.map((t) => retryTopic(t, c.prefix)),
        ALL_PARTITIONS,
      ),
  },
  {
    metric: SM.retrierRows,
    part: "retrier",
    labels: ["shard"],
    series: (c) => each(shardsOf(c), (shard) => ({ shard })),
  },
  // Alerter (src/alerts/AlertMetrics.ts).
  { metric: AL.rules, part: "alerter", labels: [] },
  { metric: AL.records, part: "alerter", labels: [] },
  { metric: AL.evaluations, part: "alerter", labels: [] },
  { metric: AL.rounds, part: "alerter", labels: [] },
  {
    metric: AL.transitions,
    part: "alerter",
    labels: ["to"],
    series: () => each(["ok", "pending", "firing"], (to) => ({ to })),
  },
  {
    metric: AL.deliveries,
    part: "alerter",
    labels: ["receiver", "outcome"],
    series: () =>
      RECEIVERS.flatMap((receiver) =>
        ["delivered", "failed", "abandoned", "refused"].map((outcome) => ({ receiver, outcome })),
      ),
  },
  {
    metric: AL.latency,
    part: "alerter",
    labels: ["receiver"],
    series: () => each(RECEIVERS, (receiver) => ({ receiver })),
  },
  {
    metric: AL.backlog,
    part: "alerter",
    labels: ["receiver"],
    series: () => each(RECEIVERS, (receiver) => ({ receiver })),
  },
  { metric: AL.failingReceivers, part: "alerter", labels: [] },
  { metric: AL.waitedBarrier, part: "alerter", labels: [] },
  // Stages reading the bus (aggregator, sink, events, retrier, alerter).
  { metric: commitsRebalanced, part: "consumer", labels: [] },
  {
    metric: stalledSeconds,
    part: "consumer",
    labels: ["stage"],
    series: (c) => each(c.stages, (stage) => ({ stage })),
  },
  // The embedded log (a process that opens it: tally all, or a service without TALLY_KAFKA_BROKERS).
  { metric: LM.diskBytes, part: "log", labels: [] },
  { metric: LM.freeBytes, part: "log", labels: [] },
  {
    metric: LM.records,
    part: "log",
    labels: ["topic"],
    series: (c) => each(catalogue(1, PARTITIONS, c.prefix), (t) => ({ topic: t.name })),
  },
  { metric: LM.deleted, part: "log", labels: [] },
]

/** Dead letters are counted by the sink and the retrier alike. */
export const DEAD_LETTERS: Documented = {
  metric: SM.deadLettered,
  part: "sink",
  labels: ["shard", "type"],
  series: (c) => shardsOf(c).flatMap((shard) => RolledUpTypes.map((type) => ({ shard, type }))),
}

/** Every documented metric, in the doc's order (dead letters after the retrier's). */
export const ALL_DOCUMENTED: ReadonlyArray<Documented> = (
  ["process", "ingress", "aggregator", "sink", "retrier", "alerter", "consumer", "log"] as const
).flatMap((part) => [
  ...DOCUMENTED.filter((d) => d.part === part),
  ...(part === "retrier" ? [DEAD_LETTERS] : []),
])

/** The metrics (and their first series) of the given parts. */
export const documentedFor = (parts: ReadonlyArray<Part>): ReadonlyArray<Documented> => {
  const out = DOCUMENTED.filter((d) => parts.includes(d.part))
  return parts.includes("sink") || parts.includes("retrier") ? [...out, DEAD_LETTERS] : out
}

/**
 * Shows every metric of `parts` from the start (at 0: the series are registered, never set, so a value a
 * stage wrote first is left alone). `stages` names the process's stages.
 */
export const MetricsFromZero = (parts: ReadonlyArray<Part>, stages: ReadonlyArray<string> = []) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const s = yield* TallyConfig
      const context: Context = {
        prefix: s.topicPrefix,
        shards: Option.match(s.pgShards, { onNone: () => 1, onSome: (urls) => urls.length }),
        workerIndex: s.workerIndex,
        workers: s.workers,
        stages,
      }
      const all = [...parts, ...(Option.isNone(s.kafkaBrokers) ? (["log"] as const) : [])]
      for (const d of documentedFor(all)) {
        const series = d.series?.(context)
        if (series === undefined) yield* Metric.value(d.metric)
        else for (const labels of series) yield* Metric.value(Metric.withAttributes(d.metric, labels))
      }
    }),
  )
