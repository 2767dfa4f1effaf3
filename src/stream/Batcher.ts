/**
 * Keyed batching as a step: rows are grouped by key until a group holds `maxRows` or has waited
 * `lingerMs` (checked on Ticks), and every group is let out on Stop. On a new assignment the pending
 * groups are void (their records were never acknowledged, so they are read again).
 */
import { Clock, Effect, Stream } from "effect"
import { type Flow, item } from "./Flow.ts"

export interface Group<A> {
  readonly key: string
  readonly rows: Array<A>
  /** When the first row arrived (processing time). */
  readonly since: number
}

export interface BatcherOptions<A> {
  readonly keyOf: (row: A) => string
  readonly maxRows: number
  readonly lingerMs: number
}

export const batchByKey =
  <A>(options: BatcherOptions<A>) =>
  <E, R>(self: Stream.Stream<Flow<ReadonlyArray<A>>, E, R>): Stream.Stream<Flow<Group<A>>, E, R> => {
    const pending = new Map<string, Group<A>>()
    let generation = -1
    const drain = (due: (g: Group<A>) => boolean): Array<Flow<Group<A>>> => {
      const out: Array<Flow<Group<A>>> = []
      for (const [key, g] of pending)
        if (due(g)) {
          pending.delete(key)
          out.push(item(g, generation))
        }
      return out
    }
    return self.pipe(
      Stream.mapEffect((f) =>
        Effect.gen(function* () {
          switch (f._tag) {
            case "Assigned":
              pending.clear()
              generation = f.generation
              return [f]
            case "Stop":
              return [...drain(() => true), f]
            case "Tick": {
              const now = yield* Clock.currentTimeMillis
              return [...drain((g) => now - g.since >= options.lingerMs), f]
            }
            case "Item": {
              if (f.generation !== generation) return []
              const now = yield* Clock.currentTimeMillis
              const out: Array<Flow<Group<A>>> = []
              for (const row of f.value) {
                const key = options.keyOf(row)
                let g = pending.get(key)
                if (!g) pending.set(key, (g = { key, rows: [], since: now }))
                g.rows.push(row)
                if (g.rows.length >= options.maxRows) {
                  pending.delete(key)
                  out.push(item(g, generation))
                }
              }
              return out
            }
          }
        }),
      ),
      Stream.flattenIterable,
    )
  }
