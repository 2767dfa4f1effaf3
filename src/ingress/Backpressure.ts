/**
 * Backpressure (DESIGN.md semantics 12): drains get 503 with Retry-After while the aggregators are further
 * behind than TALLY_MAX_LAG, so the pipeline never accepts more than it can process; Logplex retries with
 * the same Frame-Id, so nothing is lost and nothing counts twice.
 *
 * How far behind: every two seconds the raw partitions' end offsets are sampled, and the committed
 * offsets of the aggregator workers' groups read with their resume metadata (the offset processing had
 * reached), all through the Bus — the same in embedded mode and on Kafka. A partition is behind by the
 * age of its oldest record not yet processed: the time since the first sample whose end passed the offset
 * its worker reached (to within a sampling interval). Event times play no part, so a backfill of old
 * lines is not mistaken for a slow pipeline. Partitions whose worker never committed are not counted.
 */
import { Clock, Context, Duration, Effect, Layer, Metric, Schedule } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Committed, EndOffset } from "../bus/Records.ts"
import { groups, rawTopic } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { RolledUpTypes } from "../domain/MeasurementType.ts"
import { decodeResume } from "../stream/CommitPoint.ts"

export const lagSeconds = Metric.gauge("tally_ingress_pipeline_lag_seconds", {
  description: "how far the aggregators are behind (age of the oldest raw record not yet processed)",
})
export const refusing = Metric.gauge("tally_ingress_backpressure", {
  description: "1 while drains get 503 because the pipeline is further behind than TALLY_MAX_LAG",
})

/** End-offset samples per partition, kept for `horizonMs`: when did each partition's end pass an offset? */
export class LagTracker {
  private readonly samples = new Map<string, Array<{ readonly at: number; readonly end: number }>>()
  private readonly horizonMs: number

  constructor(horizonMs: number) {
    this.horizonMs = horizonMs
  }

  observe(ends: ReadonlyArray<EndOffset>, nowMs: number): void {
    for (const e of ends) {
      const id = `${e.topic}/${e.partition}`
      let list = this.samples.get(id)
      if (!list) this.samples.set(id, (list = []))
      if (list.length === 0 || list[list.length - 1]!.end !== e.offset)
        list.push({ at: nowMs, end: e.offset })
      // Keep one sample older than the horizon: it bounds the age of anything still waiting.
      while (list.length > 1 && list[1]!.at < nowMs - this.horizonMs) list.shift()
    }
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

export interface BackpressureApi {
  /** The refusal to answer with while the pipeline is too far behind, or undefined. */
  readonly refusal: () => string | undefined
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
      const tracker = new LagTracker(2 * maxMs)
      const measure = Effect.gen(function* () {
        const committed = (yield* Effect.forEach(workerGroups, (g) => bus.committed(g, topics))).flat()
        const now = yield* Clock.currentTimeMillis
        tracker.observe(yield* bus.endOffsets(topics), now)
        lagMs = tracker.lag(committed, now)
        yield* Metric.update(lagSeconds, lagMs / 1000)
        yield* Metric.update(refusing, lagMs > maxMs ? 1 : 0)
      })
      // A failed measurement keeps the last one (a broker outage answers drains with 503 anyway).
      yield* measure.pipe(
        Effect.catch((e) => Effect.logDebug(`backpressure: ${e.message}`)),
        Effect.repeat(Schedule.spaced("2 seconds")),
        Effect.forkScoped,
      )
      return Backpressure.of({
        refusal: () =>
          lagMs > maxMs
            ? `the pipeline is ${Math.round(lagMs / 1000)} s behind (TALLY_MAX_LAG ${Duration.format(settings.maxLag)}); retry shortly`
            : undefined,
      })
    }),
  )

  /** Never refuses (tests of the ingress alone). */
  static readonly layerOff = Layer.succeed(Backpressure, Backpressure.of({ refusal: () => undefined }))
}
