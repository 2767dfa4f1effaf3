/**
 * Backpressure (DESIGN.md semantics 12 and "Tenants"): while the aggregators are behind, drains get 503
 * with Retry-After, so the pipeline never accepts more than it can process; Logplex retries with the same
 * Frame-Id, so nothing is lost and nothing counts twice. Who is refused is decided per app:
 *
 * - **Behind** (lag above TALLY_MAX_LAG): an app is refused while its bytes accepted in the last 10-20 s
 *   are at or above the mean of the apps that had any accepted then (AppBudgets.overShare); the apps
 *   under the mean are accepted. The heaviest apps are held back first; an app alone is refused.
 * - **Far behind** (lag above twice TALLY_MAX_LAG): every drain is refused, as before, so memory and lag
 *   stay bounded whatever the mix of apps.
 *
 * How far behind: every two seconds (every ten while nothing arrives and nothing is behind: the ends
 * did not move since the last sample and the lag is 0) the raw partitions' end offsets are sampled, and the committed
 * offsets of the aggregator workers' groups read with their resume metadata (the offset processing had
 * reached), all through the Bus — the same in embedded mode and on Kafka. A partition is behind by the
 * age of its oldest record not yet processed: the time since the first sample whose end passed the offset
 * its worker reached (to within a sampling interval). Event times play no part, so a backfill of old
 * lines is not mistaken for a slow pipeline. Partitions whose worker never committed are not counted.
 */
import { Clock, Context, Duration, Effect, Layer, Metric } from "effect"
import { decodeResume } from "../aggregator/CommitPoint.ts"
import { Bus } from "../bus/Bus.ts"
import type { Committed, EndOffset } from "../bus/Records.ts"
import { groups, rawTopic } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { RolledUpTypes } from "../domain/MeasurementType.ts"

export const lagSeconds = Metric.gauge("tally_ingress_pipeline_lag_seconds", {
  description: "how far the aggregators are behind (age of the oldest raw record not yet processed)",
})
export const refusing = Metric.gauge("tally_ingress_backpressure", {
  description:
    "0 keeping up; 1 behind by more than TALLY_MAX_LAG (apps above the mean share get 503); 2 behind by more than twice that (every drain gets 503)",
})

/** End-offset samples per partition, kept for `horizonMs`: when did each partition's end pass an offset? */
export class LagTracker {
  private readonly samples = new Map<string, Array<{ readonly at: number; readonly end: number }>>()
  private readonly horizonMs: number

  constructor(horizonMs: number) {
    this.horizonMs = horizonMs
  }

  /** Records the ends sampled at `nowMs`; whether any moved since the last sample. */
  observe(ends: ReadonlyArray<EndOffset>, nowMs: number): boolean {
    let moved = false
    for (const e of ends) {
      const id = `${e.topic}/${e.partition}`
      let list = this.samples.get(id)
      if (!list) this.samples.set(id, (list = []))
      if (list.length === 0 || list[list.length - 1]!.end !== e.offset) {
        list.push({ at: nowMs, end: e.offset })
        moved = true
      }
      // Keep one sample older than the horizon: it bounds the age of anything still waiting.
      while (list.length > 1 && list[1]!.at < nowMs - this.horizonMs) list.shift()
    }
    return moved
  }

  /** How far behind the committed positions are, in ms (0 when every record seen has been processed). */
  lag(committed: ReadonlyArray<Committed>, nowMs: number): number {
    let lag = 0
    for (const c of committed) {
      const reached = decodeResume(c.metadata)?.upto ?? c.offset
      const list = this.samples.get(`${c.topic}/${c.partition}`)
      const first = list?.find((s) => s.end > reached)
      if (first) lag = Math.max(lag, nowMs - first.at)
    }
    return lag
  }
}

/** How often the lag is measured, and how often while the pipeline is quiet. */
const EVERY = Duration.seconds(2)
const QUIET_EVERY = Duration.seconds(10)

/** "ok": keeping up; "behind": past TALLY_MAX_LAG (apps at or above the mean share are refused); "far": past twice that (all are). */
export type Level = "ok" | "behind" | "far"

export interface BackpressureApi {
  /** How far behind the pipeline is, as of the last measurement (every 2 s). */
  readonly level: () => Level
  /** The refusal to answer with while it is behind. */
  readonly message: () => string
}

export class Backpressure extends Context.Service<Backpressure, BackpressureApi>()(
  "tally/ingress/Backpressure",
) {
  static readonly layer = Layer.effect(
    Backpressure,
    Effect.gen(function* () {
      const bus = yield* Bus
      const settings = yield* TallyConfig
      const maxMs = Duration.toMillis(settings.maxLag)
      const topics = RolledUpTypes.map((t) => rawTopic(t, settings.topicPrefix))
      const workerGroups = Array.from({ length: settings.workers }, (_, i) =>
        groups.aggregator(settings.topicPrefix, i, settings.workers),
      )
      let lagMs = 0
      let level: Level = "ok"
      // Samples are kept for three times TALLY_MAX_LAG, so a lag past twice it is seen as such.
      const tracker = new LagTracker(3 * maxMs)
      /** One measurement; whether the pipeline is quiet (no end moved, nothing behind). */
      const measure = Effect.gen(function* () {
        const committed = (yield* Effect.forEach(workerGroups, (g) => bus.committed(g, topics))).flat()
        const now = yield* Clock.currentTimeMillis
        const moved = tracker.observe(yield* bus.endOffsets(topics), now)
        lagMs = tracker.lag(committed, now)
        level = lagMs > 2 * maxMs ? "far" : lagMs > maxMs ? "behind" : "ok"
        yield* Metric.update(lagSeconds, lagMs / 1000)
        yield* Metric.update(refusing, level === "far" ? 2 : level === "behind" ? 1 : 0)
        return !moved && lagMs === 0
      })
      // A failed measurement keeps the last one (a broker outage answers drains with 503 anyway).
      yield* measure.pipe(
        Effect.catch((e) => Effect.as(Effect.logDebug(`backpressure: ${e.message}`), false)),
        Effect.flatMap((quiet) => Effect.sleep(quiet ? QUIET_EVERY : EVERY)),
        Effect.forever,
        Effect.forkScoped,
      )
      return Backpressure.of({
        level: () => level,
        message: () =>
          `the pipeline is ${Math.round(lagMs / 1000)} s behind (TALLY_MAX_LAG ${Duration.format(settings.maxLag)}); retry shortly`,
      })
    }),
  )

  /** A fixed level (tests of the ingress alone): `layerOff` never refuses. */
  static readonly layerFixed = (level: Level | (() => Level)) =>
    Layer.succeed(
      Backpressure,
      Backpressure.of({
        level: typeof level === "function" ? level : () => level,
        message: () => "the pipeline is behind (test); retry shortly",
      }),
    )

  static readonly layerOff = Backpressure.layerFixed("ok")
}
