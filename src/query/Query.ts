/**
 * The read side: metric series and events of one app, fanned out over the shards that can hold them.
 * A query with a process type touches one shard; without, the shards of the app's process types (from
 * the catalogue on shard 0). A shard that fails makes the answer partial, with its process types in
 * `missing`; when the catalogue itself cannot be read, every shard is asked, and a failing one is named
 * `shard N` — `missing` is never empty when a shard failed.
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

export interface SeriesAnswer {
  readonly unit: string
  readonly missing: ReadonlyArray<string>
  readonly series: ReadonlyArray<SeriesOut>
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
    ) => Effect.Effect<{ events: ReadonlyArray<EventOut>; missing: ReadonlyArray<string> }>
    readonly processTypes: (owner: string) => Effect.Effect<ReadonlyArray<string>>
  }
>()("tally/query/Query") {
  static readonly layer = Layer.effect(
    Query,
    Effect.gen(function* () {
      const store = yield* SummaryStore

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
              byShard.set(s, [...(byShard.get(s) ?? []), t])
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
        const results = yield* Effect.forEach(
          byShard,
          ([shard, types]) =>
            store
              .readSummaries(shard, {
                type: info.type,
                period: periodFor(range.step),
                owner,
                metric,
                processTypes: types,
                fromMs: range.fromMs,
                toMs: range.toMs,
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
        const groups = new Map<
          string,
          { label: string; processType: string; rows: Array<(typeof results)[number][number]> }
        >()
        for (const rows of results)
          for (const r of rows) {
            const id = processType === undefined ? `${r.processType}\u0000${r.label}` : r.label
            let g = groups.get(id)
            if (!g) groups.set(id, (g = { label: r.label, processType: r.processType, rows: [] }))
            g.rows.push(r)
          }
        const out: Array<SeriesOut> = [...groups.values()]
          .sort(
            (a, b) =>
              a.processType.localeCompare(b.processType) ||
              a.label.localeCompare(b.label, "en", { numeric: true }),
          )
          .map((g) => ({
            label: g.label,
            ...(processType === undefined ? { processType: g.processType } : {}),
            points: downsample(g.rows, range.stepMs, info.sketched),
          }))
        return { unit: info.unit, missing: missing.sort(), series: out }
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
              .readEvents(shard, { owner, fromMs, toMs })
              .pipe(
                Effect.catch(() =>
                  Effect.sync(() => missing.push(...unread(shard, byShard.get(shard)))).pipe(Effect.as([])),
                ),
              ),
          { concurrency: "unbounded" },
        )
        const all = found.flat().sort((a, b) => a.timeMs - b.timeMs || a.kind.localeCompare(b.kind))
        return {
          missing: missing.sort(),
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
