/**
 * The read side: metric series and events of one app, fanned out over the shards that can hold them.
 * A query with a process type touches one shard; without, the shards of the app's process types (from
 * the catalogue on shard 0). A shard that fails makes the answer partial, with its process types in
 * `missing`; when the catalogue itself cannot be read, every shard is asked, and a failing one is named
 * `shard N` — `missing` is never empty when a shard failed.
 *
 * Every answer is capped (DESIGN.md "Tenants") and says so in `truncated` when a cap was reached: at most
 * MAX_SERIES series, and at most MAX_POINTS stored rollups merged into it (each point merges at least
 * one, so also at most MAX_POINTS points), split evenly over the shards asked; events, at most MAX_EVENTS.
 * A shard is asked once, whatever the number of process types, for at most its share of rows plus one, in
 * series order (its primary key's), so the store stops reading at the cap. What a capped answer holds
 * is whole series: a series the cut went through is left out, never shown in part. The work of an answer
 * (decoding, merging, encoding) is bounded by the caps, so one app's heavy read holds the process for a
 * bounded time.
 */
import { Context, Effect, Layer } from "effect"
import { metricInfo } from "../domain/Metrics.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { downsample, type PointOut, periodFor, type Range } from "./Downsample.ts"

export interface SeriesOut {
  readonly label: string
  readonly processType?: string
  readonly points: ReadonlyArray<PointOut>
}

/** Series order: by process type, then label with numbers as numbers (404 before 1000). */
const typeOrder = new Intl.Collator().compare
const labelOrder = new Intl.Collator("en", { numeric: true }).compare

/** Series in one answer. */
export const MAX_SERIES = 500
/** Stored rollups merged into one answer (so also its points), split evenly over the shards asked. */
export const MAX_POINTS = 100_000
/** Events in one answer. */
export const MAX_EVENTS = 10_000

export interface Caps {
  readonly series: number
  readonly points: number
  readonly events: number
}

/** The caps of an answer: MAX_SERIES, MAX_POINTS and MAX_EVENTS unless a test sets them. */
export const QueryCaps = Context.Reference<Caps>("tally/query/QueryCaps", {
  defaultValue: () => ({ series: MAX_SERIES, points: MAX_POINTS, events: MAX_EVENTS }),
})

/** Present when an answer reached a cap: it is partial, and says how to ask for the rest. */
export interface Truncated {
  /** The cap reached: more series than `limit`, more stored points than `limit`, more events than `limit`. */
  readonly reason: "series" | "points" | "events"
  readonly limit: number
  readonly message: string
}

export interface SeriesAnswer {
  readonly unit: string
  readonly missing: ReadonlyArray<string>
  readonly series: ReadonlyArray<SeriesOut>
  readonly truncated?: Truncated
}

export interface EventOut {
  readonly time: string
  readonly kind: string
  readonly process: string
  readonly description: string
  readonly actor: string
}

export class Query extends Context.Service<
  Query,
  {
    readonly series: (
      owner: string,
      metric: string,
      processType: string | undefined,
      range: Range,
    ) => Effect.Effect<SeriesAnswer>
    readonly events: (
      owner: string,
      fromMs: number,
      toMs: number,
    ) => Effect.Effect<{
      events: ReadonlyArray<EventOut>
      missing: ReadonlyArray<string>
      truncated?: Truncated
    }>
    readonly processTypes: (owner: string) => Effect.Effect<ReadonlyArray<string>>
  }
>()("tally/query/Query") {
  static readonly layer = Layer.effect(
    Query,
    Effect.gen(function* () {
      const store = yield* SummaryStore
      const caps = yield* QueryCaps

      /**
       * Where to read: the shards of the app's process types, each with its types; when the catalogue
       * cannot be read, every shard, for every type (`types` undefined).
       */
      const shardsOf = (owner: string, processType: string | undefined) =>
        Effect.gen(function* () {
          const known =
            processType !== undefined
              ? [processType]
              : yield* store.processTypesOf(owner).pipe(
                  Effect.tapError((e) =>
                    Effect.logWarning(`query: catalogue unreadable, asking every shard: ${e.message}`),
                  ),
                  Effect.option,
                  Effect.map((o) => (o._tag === "Some" ? o.value : undefined)),
                )
          const byShard = new Map<number, Array<string> | undefined>()
          if (known === undefined) for (let s = 0; s < store.shardCount; s++) byShard.set(s, undefined)
          else
            for (const t of known) {
              const s = store.shardOf(owner, t)
              const types = byShard.get(s)
              if (types) types.push(t)
              else byShard.set(s, [t])
            }
          return byShard
        })

      /** What `missing` names for a shard that failed: its process types, or the shard. */
      const unread = (shard: number, types: ReadonlyArray<string> | undefined) => types ?? [`shard ${shard}`]

      const series = Effect.fn("Query.series")(function* (
        owner: string,
        metric: string,
        processType: string | undefined,
        range: Range,
      ) {
        const info = metricInfo(metric)
        // Callers check the name against the catalogue first (the API answers 404): anything else is a bug.
        if (info === undefined) return yield* Effect.die(new Error(`Query.series: unknown metric ${metric}`))
        const byShard = yield* shardsOf(owner, processType)
        const missing: Array<string> = []
        // Each shard's share of the points cap; one more row tells that the shard had more.
        const share = Math.max(1, Math.floor(caps.points / Math.max(1, byShard.size)))
        const results = yield* Effect.forEach(
          byShard,
          ([shard, types]) =>
            store
              .readSummaries(shard, {
                type: info.type,
                period: periodFor(range.step),
                owner,
                metric,
                // Every row of the app on a shard is of a process type that lives there: no list to send.
                processTypes: processType === undefined ? undefined : [processType],
                fromMs: range.fromMs,
                toMs: range.toMs,
                limit: share + 1,
              })
              .pipe(
                Effect.catch((e) =>
                  Effect.logWarning(`query: ${e.message}`).pipe(
                    Effect.andThen(Effect.sync(() => missing.push(...unread(shard, types)))),
                    Effect.as([]),
                  ),
                ),
              ),
          { concurrency: "unbounded" },
        )
        type Row = (typeof results)[number][number]
        // Rows by process type, then label: sorting is then of distinct names, not of every series at once.
        const byType = new Map<string, Map<string, Array<Row>>>()
        let pointsCut = false
        for (const rows of results) {
          // Over its share: the last series the cut went through is left out.
          let end = rows.length
          if (rows.length > share) {
            pointsCut = true
            const last = rows[end - 1]!
            while (
              end > 0 &&
              rows[end - 1]!.processType === last.processType &&
              rows[end - 1]!.label === last.label
            )
              end--
          }
          for (let i = 0; i < end; i++) {
            const r = rows[i]!
            let labels = byType.get(r.processType)
            if (!labels) byType.set(r.processType, (labels = new Map()))
            const group = labels.get(r.label)
            if (group) group.push(r)
            else labels.set(r.label, [r])
          }
        }
        const out: Array<SeriesOut> = []
        let found = 0
        for (const type of [...byType.keys()].sort(typeOrder)) {
          const labels = byType.get(type)!
          found += labels.size
          if (out.length >= caps.series) continue
          for (const label of [...labels.keys()].sort(labelOrder)) {
            if (out.length >= caps.series) break
            out.push({
              label,
              ...(processType === undefined ? { processType: type } : {}),
              points: downsample(labels.get(label)!, range.stepMs, info.sketched),
            })
          }
        }
        const narrower =
          processType === undefined
            ? "ask for one process type (process_type=...), a shorter range or a coarser step"
            : "ask for a shorter range or a coarser step"
        const truncated: Truncated | undefined =
          found > caps.series
            ? {
                reason: "series",
                limit: caps.series,
                message: `more than ${caps.series} series: this answer holds the first ${caps.series} (by process type, then label); ${narrower} for the others`,
              }
            : pointsCut
              ? {
                  reason: "points",
                  limit: caps.points,
                  message: `more than ${caps.points} stored points in the range: this answer holds ${out.length} whole series; ${narrower} for the others`,
                }
              : undefined
        return {
          unit: info.unit,
          missing: missing.sort(),
          series: out,
          ...(truncated ? { truncated } : {}),
        } satisfies SeriesAnswer
      })

      const events = Effect.fn("Query.events")(function* (owner: string, fromMs: number, toMs: number) {
        const byShard = yield* shardsOf(owner, undefined)
        const missing: Array<string> = []
        const shards = [
          ...new Set([...byShard.keys(), ...Array.from({ length: store.shardCount }, (_, i) => i)]),
        ]
        const found = yield* Effect.forEach(
          shards,
          (shard) =>
            store
              .readEvents(shard, { owner, fromMs, toMs, limit: caps.events + 1 })
              .pipe(
                Effect.catch(() =>
                  Effect.sync(() => missing.push(...unread(shard, byShard.get(shard)))).pipe(Effect.as([])),
                ),
              ),
          { concurrency: "unbounded" },
        )
        // A shard over the cap was read up to some instant: the answer stops before it, on every shard.
        let until = Number.POSITIVE_INFINITY
        for (const rows of found)
          if (rows.length > caps.events) until = Math.min(until, rows[caps.events]!.timeMs)
        let all = found.flat()
        if (until !== Number.POSITIVE_INFINITY) all = all.filter((e) => e.timeMs < until)
        all.sort((a, b) => a.timeMs - b.timeMs || a.kind.localeCompare(b.kind))
        const cut = until !== Number.POSITIVE_INFINITY || all.length > caps.events
        if (all.length > caps.events) all = all.slice(0, caps.events)
        const truncated: Truncated | undefined = cut
          ? {
              reason: "events",
              limit: caps.events,
              message: `more than ${caps.events} events in the range: this answer holds the earliest ${all.length}; ask for a shorter range for the others`,
            }
          : undefined
        return {
          missing: missing.sort(),
          ...(truncated ? { truncated } : {}),
          events: all.map((e) => ({
            time: new Date(e.timeMs).toISOString(),
            kind: e.kind,
            process: e.process,
            description: e.description,
            actor: e.actor,
          })),
        }
      })

      const processTypes = (owner: string) => store.processTypesOf(owner).pipe(Effect.orElseSucceed(() => []))

      return Query.of({ series, events, processTypes })
    }),
  )
}
