/**
 * The topic catalogue: every topic tally uses, with its partitions and settings. One place names them;
 * `tally topics ensure` creates the missing ones and reports the ones whose settings differ.
 */

import {
  type MeasurementType,
  MeasurementTypes,
  type RolledUpType,
  RolledUpTypes,
} from "../domain/MeasurementType.ts"
import { DAY_MS, HOUR_MS } from "../domain/Time.ts"
import type { TopicMismatch, TopicSpec } from "./Records.ts"

/** The spec of a topic is part of the Bus contract (Records.ts); re-exported for the catalogue's users. */
export type { TopicSpec } from "./Records.ts"

export const PARTITIONS = 32

/** Topic names; `prefix` (TALLY_TOPIC_PREFIX, default empty) lets several installations share a cluster. */
export const rawTopic = (type: MeasurementType, prefix = ""): string => `${prefix}${type}.1`
export const summaryTopic = (type: RolledUpType, prefix = ""): string => `${prefix}${type}_SUMMARY.1`
export const retryTopic = (type: RolledUpType, prefix = ""): string => `${prefix}RETRY.${type}_SUMMARY.1`
export const deadTopic = (type: RolledUpType, prefix = ""): string => `${prefix}DEAD.${type}_SUMMARY.1`

/** Consumer groups, prefixed like the topics, so installations sharing a cluster never meet. */
export const groups = {
  /** Aggregator worker i of N: a group of its own, so workers never rebalance each other. */
  aggregator: (prefix: string, index: number, workers: number) =>
    `${prefix}tally-aggregator.w${index}of${workers}`,
  sink: (prefix: string) => `${prefix}tally-sink`,
  events: (prefix: string) => `${prefix}tally-sink-events`,
  retrier: (prefix: string) => `${prefix}tally-retrier`,
  /** Alerter worker i of N (src/alerts): the partitions of aggregator worker i, in a group of its own. */
  alerter: (prefix: string, index: number, workers: number) => `${prefix}tally-alerter.w${index}of${workers}`,
} as const

/**
 * How long each kind of topic keeps records (docs/architecture.md, "Retention"):
 * - raw measurements: 1 day. The aggregator rewinds at most to its oldest open window (15 min + 5 min
 *   lateness); the rest covers an aggregator outage of up to a day.
 * - summaries: compacted (the latest snapshot per key) and deleted after 8 days: a store that catches up
 *   needs at most the 7 days of rollups Postgres keeps by default, plus a day's margin.
 * - retry: 14 days: the retrier writes every row of a shard that comes back within two weeks.
 * - dead letters: 30 days, for operators to inspect and re-produce.
 */
export const RETENTION_MS = {
  raw: DAY_MS,
  summary: 8 * DAY_MS,
  retry: 14 * DAY_MS,
  dead: 30 * DAY_MS,
} as const

const rawConfig = { "cleanup.policy": "delete", "retention.ms": String(RETENTION_MS.raw) }
const summaryConfig = {
  "cleanup.policy": "compact,delete",
  "retention.ms": String(RETENTION_MS.summary),
  "min.compaction.lag.ms": String(HOUR_MS),
}
const retryConfig = { "cleanup.policy": "delete", "retention.ms": String(RETENTION_MS.retry) }
const deadConfig = { "cleanup.policy": "delete", "retention.ms": String(RETENTION_MS.dead) }

const minIsr = (replicationFactor: number) =>
  replicationFactor >= 3 ? { "min.insync.replicas": "2" } : ({} as Record<string, string>)

export const catalogue = (
  replicationFactor: number,
  partitions: number = PARTITIONS,
  prefix = "",
): ReadonlyArray<TopicSpec> => {
  const spec = (name: string, config: Record<string, string>): TopicSpec => ({
    name,
    partitions,
    replicationFactor,
    config: { ...config, ...minIsr(replicationFactor) },
  })
  return [
    ...MeasurementTypes.map((t) => spec(rawTopic(t, prefix), rawConfig)),
    ...RolledUpTypes.map((t) => spec(summaryTopic(t, prefix), summaryConfig)),
    ...RolledUpTypes.map((t) => spec(retryTopic(t, prefix), retryConfig)),
    ...RolledUpTypes.map((t) => spec(deadTopic(t, prefix), deadConfig)),
  ]
}

export const isCompacted = (spec: TopicSpec): boolean =>
  spec.config["cleanup.policy"]?.split(",").includes("compact") ?? false

/** The settings of an existing topic that differ from its spec. */
export const compareSpecs = (
  spec: TopicSpec,
  partitions: number,
  config: Readonly<Record<string, string | undefined>>,
): Array<TopicMismatch> => {
  const out: Array<TopicMismatch> = []
  if (partitions !== spec.partitions)
    out.push({
      topic: spec.name,
      setting: "partitions",
      expected: String(spec.partitions),
      actual: String(partitions),
    })
  for (const [setting, expected] of Object.entries(spec.config)) {
    const actual = config[setting]
    if (actual !== expected) out.push({ topic: spec.name, setting, expected, actual: actual ?? "(unset)" })
  }
  return out
}
