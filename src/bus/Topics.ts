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
import type { TopicMismatch } from "./Records.ts"

export const PARTITIONS = 32

/** Topic names; `prefix` (TALLY_TOPIC_PREFIX, default empty) lets several installations share a cluster. */
export const rawTopic = (type: MeasurementType, prefix = ""): string => `${prefix}${type}.1`
export const summaryTopic = (type: RolledUpType, prefix = ""): string => `${prefix}${type}_SUMMARY.1`
export const retryTopic = (type: RolledUpType, prefix = ""): string => `${prefix}RETRY.${type}_SUMMARY.1`

export interface TopicSpec {
  readonly name: string
  readonly partitions: number
  readonly replicationFactor: number
  /** Topic-level configs that must hold; `tally topics ensure` reports any that differ. */
  readonly config: Readonly<Record<string, string>>
}

const DAY_MS = 24 * 60 * 60 * 1000

/** Raw measurements: kept a week (the aggregator only ever rewinds to its oldest open window). */
const rawConfig = { "cleanup.policy": "delete", "retention.ms": String(7 * DAY_MS) }
/** Summaries: the latest snapshot per key is all a new store needs to catch up. */
const summaryConfig = { "cleanup.policy": "compact", "min.compaction.lag.ms": String(60 * 60 * 1000) }
/** Retry topics are never expired: the retrier writes every row, however long the shard is down. */
const retryConfig = { "cleanup.policy": "delete", "retention.ms": "-1" }

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
  ]
}

export const isCompacted = (spec: TopicSpec): boolean => spec.config["cleanup.policy"] === "compact"

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
