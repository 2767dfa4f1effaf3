/**
 * The sink's topology, in reading order: summary topics -> batches per (shard, type, period) -> COPY +
 * upsert into the shard -> commit. A batch that still fails after a few quick tries goes to its RETRY
 * topic (unchanged records) and the sink moves on; while a shard keeps failing, its batches go straight
 * to RETRY for a few seconds, so other shards never wait on it. Offsets are committed only up to records
 * that are written or safely in RETRY.
 */
import { Clock, Effect, Metric, Schedule, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Batch, BusError, Committed, OutRecord } from "../bus/Records.ts"
import { retryTopic, summaryTopic } from "../bus/Topics.ts"
import { type RolledUpType, RolledUpTypes } from "../domain/MeasurementType.ts"
import * as Wire from "../proto/Wire.ts"
import type { PeriodName } from "../store/Schema.ts"
import type { StoreError } from "../store/Shards.ts"
import { type SummaryRow, SummaryStore } from "../store/SummaryStore.ts"
import { steps } from "../stream/Steps.ts"
import { Batches, type Group, type Located } from "./Batches.ts"
import * as M from "./SinkMetrics.ts"

export interface SinkOptions {
  readonly group: string
  readonly prefix: string
  readonly partitions: ReadonlyArray<number>
  readonly lingerMs: number
  /** Quick tries of a batch before it goes to RETRY. */
  readonly tries: number
  /** How long a failing shard's batches skip the quick tries. */
  readonly shardCooldownMs: number
}

export const summaryTopics = (prefix: string) => RolledUpTypes.map((t) => summaryTopic(t, prefix))

export const decodeSummary = (
  value: Uint8Array,
): { readonly row: SummaryRow; readonly period: PeriodName } => {
  const s = Wire.Summary.decode(value)
  return {
    period: s.period === Wire.Period.PERIOD_15M ? "15m" : "1m",
    row: {
      owner: s.owner,
      processType: s.processType,
      metric: s.metric,
      label: s.label,
      startMs: s.startMs,
      count: s.count,
      sum: s.sum,
      sumsq: s.sumsq,
      min: s.min,
      max: s.max,
      sketch: s.sketch,
      version: s.version,
    },
  }
}

export const sinkTopology = (
  options: SinkOptions,
  source: Stream.Stream<Batch, BusError>,
  stop: Effect.Effect<void> = Effect.never,
  tick: Stream.Stream<void> = Stream.tick(Math.max(50, Math.floor(options.lingerMs / 2))),
): Stream.Stream<number, BusError, Bus | SummaryStore> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const bus = yield* Bus
      const store = yield* SummaryStore
      const batches = new Batches()
      const typeOf = new Map<string, RolledUpType>(
        RolledUpTypes.map((t) => [summaryTopic(t, options.prefix), t]),
      )
      const coolingUntil = new Map<number, number>()
      const lastCommitted = new Map<string, number>()

      const quickTries = Schedule.exponential("100 millis").pipe(
        Schedule.upTo({ times: Math.max(0, options.tries - 1) }),
      )

      /** Kafka is the way out for a failed batch: wait for it as long as it takes, never drop. */
      const toRetryTopic = (g: Group) =>
        bus
          .produce(
            g.records.map(
              (r): OutRecord => ({
                topic: retryTopic(g.type, options.prefix),
                key: r.key,
                value: r.value,
                timestamp: r.timestamp,
              }),
            ),
          )
          .pipe(
            Effect.retry({
              while: (e) => e.reason === "Unavailable",
              schedule: Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")]),
            }),
          )

      const flush = Effect.fnUntraced(function* (g: Group) {
        const now = yield* Clock.currentTimeMillis
        const shard = { shard: String(g.shard) }
        const started = performance.now()
        // The catalogue of process types (for the API's `missing` lists); its failure never blocks a write.
        yield* store.noteProcessTypes(g.rows).pipe(Effect.catch((e) => Effect.logWarning(e.message)))
        const written =
          (coolingUntil.get(g.shard) ?? 0) > now
            ? false
            : yield* store.writeSummaries(g.shard, g.type, g.period, g.rows).pipe(
                Effect.retry({ schedule: quickTries }),
                Effect.as(true),
                Effect.catch((e: StoreError) =>
                  Effect.logWarning(
                    `shard ${g.shard}: batch of ${g.rows.length} goes to RETRY: ${e.message}`,
                  ).pipe(
                    Effect.andThen(Clock.currentTimeMillis),
                    Effect.tap((t) =>
                      Effect.sync(() => coolingUntil.set(g.shard, t + options.shardCooldownMs)),
                    ),
                    Effect.as(false),
                  ),
                ),
              )
        if (written) {
          yield* Metric.update(Metric.withAttributes(M.rows, shard), g.rows.length)
          yield* Metric.update(Metric.withAttributes(M.batches, { ...shard, outcome: "written" }), 1)
          yield* Metric.update(M.latency, (performance.now() - started) / 1000)
        } else {
          yield* toRetryTopic(g)
          yield* Metric.update(Metric.withAttributes(M.retried, shard), 1)
          yield* Metric.update(Metric.withAttributes(M.batches, { ...shard, outcome: "retry" }), 1)
        }
        batches.finish(g.records)
      })

      const commit = Effect.gen(function* () {
        const offsets: Array<Committed> = []
        for (const [id, inFlight] of batches.inFlight) {
          const point = inFlight.commitPoint()
          if (point === undefined || lastCommitted.get(id) === point) continue
          const [topic, partition] = id.split("\u0000")
          offsets.push({ topic: topic!, partition: Number(partition), offset: point, metadata: "" })
        }
        if (offsets.length === 0) return
        yield* bus
          .commit(options.group, offsets)
          .pipe(
            Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: Schedule.spaced("1 second") }),
          )
        for (const o of offsets) lastCommitted.set(`${o.topic}\u0000${o.partition}`, o.offset)
      })

      const flushAll = (groups: ReadonlyArray<Group>) =>
        Effect.forEach(groups, flush, { concurrency: "unbounded", discard: true }).pipe(
          Effect.andThen(commit),
        )

      return steps(source, tick, stop).pipe(
        Stream.mapEffect((step) =>
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            const full: Array<Group> = []
            if (step._tag === "Item") {
              const type = typeOf.get(step.item.topic)!
              for (const r of step.item.records) {
                const located: Located = { ...r, topic: step.item.topic, partition: step.item.partition }
                const { row, period } = decodeSummary(r.value)
                const g = batches.add(
                  located,
                  row,
                  store.shardOf(row.owner, row.processType),
                  type,
                  period,
                  now,
                )
                if (g) full.push(g)
              }
            }
            yield* flushAll([...full, ...batches.due(now, options.lingerMs, step._tag === "Stop")])
            return step._tag === "Item" ? step.item.records.length : 0
          }),
        ),
      )
    }),
  )
