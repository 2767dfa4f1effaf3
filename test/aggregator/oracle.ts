/**
 * The oracle: the final rollups computed directly from the raw topics, with no windows lifecycle, no
 * emissions, no offsets and no restarts; only DESIGN.md's rules. Per partition in offset order: stream
 * time is the largest event time seen; a record counts in a window if `end + 5 min > stream time`; of a
 * retried drain batch (same key, drain and Frame-Id) only the first delivery counts.
 */

import { measurementsOf } from "../../src/aggregator/Samples.ts"
import type { PartitionedLog } from "../../src/bus/memory/MemoryLog.ts"
import { rawTopic } from "../../src/bus/Topics.ts"
import type { RolledUpType } from "../../src/domain/MeasurementType.ts"
import { Sketch, Stats } from "../../src/domain/Sketch.ts"
import * as Wire from "../../src/proto/Wire.ts"

export interface Final {
  readonly count: number
  readonly sum: number
  readonly sumsq: number
  readonly min: number
  readonly max: number
  readonly sketch: string
}

const PERIODS = [
  ["1m", 60_000],
  ["15m", 900_000],
] as const
const LATENESS = 300_000

export const oracle = (log: PartitionedLog, types: ReadonlyArray<RolledUpType>): Map<string, Final> => {
  const acc = new Map<string, { stats: Stats; sketch: Sketch | undefined }>()
  for (const type of types) {
    const topic = rawTopic(type)
    for (let p = 0; p < (log.topic(topic)?.partitions ?? 0); p++) {
      let streamTime = Number.NEGATIVE_INFINITY
      const firstDelivery = new Map<string, string>()
      for (const r of log.read(topic, p, 0, Number.MAX_SAFE_INTEGER).records) {
        // A record holds one delivery's measurements of its key, in line order: each counts as a line would.
        const { origin, measurements } = measurementsOf(type, r.value)
        if (origin.frameId !== "") {
          const id = `${r.key}|${origin.drain}|${origin.frameId}`
          const first = firstDelivery.get(id)
          if (first === undefined) firstDelivery.set(id, origin.delivery)
          else if (first !== origin.delivery) {
            // A retry: its lines move stream time as the first delivery's did, and count nowhere.
            for (const m of measurements) streamTime = Math.max(streamTime, Math.floor(m.timeUs / 1000))
            continue
          }
        }
        for (const { timeUs, samples } of measurements) {
          const t = Math.floor(timeUs / 1000)
          streamTime = Math.max(streamTime, t)
          for (const [name, size] of PERIODS) {
            const start = t - (t % size)
            if (start + size + LATENESS <= streamTime) continue
            for (const [metric, label, value, sketched] of samples) {
              const key = `${origin.owner}:${origin.processType}:${metric}:${label}:${name}:${start}`
              let a = acc.get(key)
              if (!a) acc.set(key, (a = { stats: new Stats(), sketch: sketched ? new Sketch() : undefined }))
              a.stats.add(value)
              a.sketch?.add(value)
            }
          }
        }
      }
    }
  }
  return new Map(
    [...acc].map(([k, a]) => [
      k,
      {
        count: a.stats.count,
        sum: a.stats.sum,
        sumsq: a.stats.sumsq,
        min: a.stats.min,
        max: a.stats.max,
        sketch: a.sketch ? Buffer.from(a.sketch.toBytes()).toString("hex") : "",
      },
    ]),
  )
}

/**
 * What a store that keeps the highest version per key ends with, read from the summary topics (every
 * record ever produced, not the compacted view). Fails if two snapshots of one key share a version
 * but differ: versions must name one content.
 */
export const stored = (
  log: PartitionedLog,
  types: ReadonlyArray<RolledUpType>,
): Map<string, Final & { version: number }> => {
  const best = new Map<string, Final & { version: number }>()
  for (const type of types) {
    const topic = `${type}_SUMMARY.1`
    for (let p = 0; p < (log.topic(topic)?.partitions ?? 0); p++)
      for (const r of log.readAll(topic, p)) {
        const s = Wire.Summary.decode(r.value)
        const snapshot = {
          count: s.count,
          sum: s.sum,
          sumsq: s.sumsq,
          min: s.min,
          max: s.max,
          sketch: Buffer.from(s.sketch).toString("hex"),
          version: s.version,
        }
        const have = best.get(r.key)
        if (have && have.version === snapshot.version && JSON.stringify(have) !== JSON.stringify(snapshot))
          throw new Error(`two snapshots of ${r.key} share version ${snapshot.version} but differ`)
        if (!have || snapshot.version > have.version) best.set(r.key, snapshot)
      }
  }
  return best
}
