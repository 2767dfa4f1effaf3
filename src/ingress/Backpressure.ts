/**
 * Backpressure (DESIGN.md semantics 12): drains get 503 with Retry-After while the aggregators are further
 * behind than TALLY_MAX_LAG, so the pipeline never accepts more than it can process; Logplex retries with
 * the same Frame-Id, so nothing is lost and nothing counts twice.
 *
 * How far behind: every two seconds the committed offsets of the aggregator workers' groups (with their
 * resume metadata: the offset processing reached and the stream time) are read with the raw partitions'
 * end offsets, through the Bus — the same in embedded mode and on Kafka. A partition is behind by
 * `now - stream time` when records past the offset its worker reached are waiting: event times are the
 * drains' own clocks, so that is the age of the oldest record not yet processed, to within a commit
 * interval. Partitions whose worker never committed are not counted.
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

/** How far behind the partitions are, in ms (0 when everything read has been processed). */
export const lagOf = (
  committed: ReadonlyArray<Committed>,
  ends: ReadonlyArray<EndOffset>,
  nowMs: number,
): number => {
  const end = new Map(ends.map((e) => [`${e.topic}/${e.partition}`, e.offset]))
  let lag = 0
  for (const c of committed) {
    const resume = decodeResume(c.metadata)
    const reached = resume?.upto ?? c.offset
    if ((end.get(`${c.topic}/${c.partition}`) ?? 0) <= reached) continue
    if (resume && Number.isFinite(resume.streamTimeMs)) lag = Math.max(lag, nowMs - resume.streamTimeMs)
  }
  return lag
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
      const measure = Effect.gen(function* () {
        const ends = yield* bus.endOffsets(topics)
        const committed = (yield* Effect.forEach(workerGroups, (g) => bus.committed(g, topics))).flat()
        lagMs = lagOf(committed, ends, yield* Clock.currentTimeMillis)
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
