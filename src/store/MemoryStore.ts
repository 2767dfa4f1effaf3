/**
 * The store in memory, for tests (`npm start` uses PGlite): the same semantics as SQL (a row only moves
 * to a higher version, events are idempotent, one map per UTC day, retention drops whole days), shard
 * outages played with `setAvailable` (down: Unavailable at once) and `setHung` (calls never answer, as
 * a server that accepts connections and then says nothing), and text a database refuses (a NUL byte)
 * Rejected like one.
 */
import { Clock, Effect } from "effect"
import type { EventRow, SummaryRow } from "./Rows.ts"
import { dayOf, daysBetween, schemaOf, tableOf } from "./Schema.ts"
import { shardFor } from "./ShardRouter.ts"
import type { StoreApi } from "./StoreApi.ts"
import { StoreError } from "./StoreError.ts"

export interface MemoryShards {
  /** Plays a shard outage: every call on that shard fails as Unavailable. */
  readonly setAvailable: (shard: number, up: boolean) => void
  /** Plays a hung shard: every call on it waits for ever (until interrupted). */
  readonly setHung: (shard: number, hung: boolean) => void
}

export const makeMemoryStore = (shardCount: number): StoreApi & MemoryShards => {
  const summaries = Array.from({ length: shardCount }, () => new Map<number, Map<string, SummaryRow>>())
  const events = Array.from({ length: shardCount }, () => new Map<number, Map<string, EventRow>>())
  const down = new Set<number>()
  const hung = new Set<number>()
  /** Per app, its process types with when each was last seen. */
  const processTypes = new Map<string, Map<string, number>>()
  const typesOf = (owner: string) => {
    let types = processTypes.get(owner)
    if (!types) processTypes.set(owner, (types = new Map()))
    return types
  }
  const day = <A>(maps: Array<Map<number, Map<string, A>>>, shard: number, d: number) => {
    let m = maps[shard]!.get(d)
    if (!m) maps[shard]!.set(d, (m = new Map()))
    return m
  }
  const guard = <A>(shard: number, what: string, f: () => A, text: () => ReadonlyArray<string> = () => []) =>
    Effect.suspend((): Effect.Effect<A, StoreError> => {
      if (hung.has(shard)) return Effect.never
      if (down.has(shard))
        return Effect.fail(
          new StoreError({
            reason: "Unavailable",
            shard,
            message: `${what} on shard ${shard}: shard is down`,
          }),
        )
      if (text().some((s) => s.includes("\u0000")))
        return Effect.fail(
          new StoreError({
            reason: "Rejected",
            shard,
            message: `${what} on shard ${shard}: invalid byte sequence for encoding "UTF8": 0x00`,
          }),
        )
      return Effect.sync(f)
    })
  return {
    shardCount,
    shardOf: (owner, processType) => shardFor(owner, processType, shardCount),
    setAvailable: (shard, up) => (up ? down.delete(shard) : down.add(shard)),
    setHung: (shard, on) => (on ? hung.add(shard) : hung.delete(shard)),
    noteProcessTypes: (pairs) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        guard(
          0,
          "note process types",
          () => {
            for (const p of pairs) {
              const types = typesOf(p.owner)
              if (!types.has(p.processType)) types.set(p.processType, now)
            }
          },
          () => pairs.map((p) => p.processType),
        ),
      ),
    processTypesOf: (owner) =>
      guard(0, "read process types", () => [...(processTypes.get(owner)?.keys() ?? [])].sort()),
    registerProcessTypes: (owner, list, seenMs) =>
      guard(
        0,
        "register process types",
        () => {
          const types = typesOf(owner)
          for (const t of list) types.set(t, Math.max(seenMs, types.get(t) ?? seenMs))
          return types.size
        },
        () => list,
      ),
    dropProcessTypesUnseenSince: (beforeMs) =>
      guard(0, "drop unseen process types", () => {
        let dropped = 0
        for (const types of processTypes.values())
          for (const [t, seen] of types)
            if (seen < beforeMs) {
              types.delete(t)
              dropped++
            }
        return dropped
      }),
    ensureDays: (shard, instants) =>
      guard(shard, "create day schemas", () => {
        for (const i of instants) {
          day(summaries, shard, dayOf(i))
          day(events, shard, dayOf(i))
        }
      }),
    writeSummaries: (shard, type, period, rows) =>
      guard(
        shard,
        "write summaries",
        () => {
          for (const r of rows) {
            const m = day(summaries, shard, dayOf(r.startMs))
            day(events, shard, dayOf(r.startMs))
            const key = `${tableOf(type, period)}|${r.owner}|${r.metric}|${r.processType}|${r.label}|${r.startMs}`
            const have = m.get(key)
            if (!have || have.version < r.version) m.set(key, { ...r, sketch: new Uint8Array(r.sketch) })
          }
        },
        () => rows.flatMap((r) => [r.processType, r.metric, r.label]),
      ),
    writeEvents: (shard, rows) =>
      guard(
        shard,
        "write events",
        () => {
          for (const e of rows) {
            day(summaries, shard, dayOf(e.timeMs))
            const m = day(events, shard, dayOf(e.timeMs))
            const key = `${e.owner}|${e.timeMs}|${e.kind}|${e.process}|${e.description}`
            if (!m.has(key)) m.set(key, e)
          }
        },
        () => rows.flatMap((e) => [e.kind, e.process, e.description, e.actor]),
      ),
    readSummaries: (shard, q) =>
      guard(shard, "read summaries", () => {
        const out: Array<SummaryRow> = []
        const prefix = `${tableOf(q.type, q.period)}|${q.owner}|${q.metric}|`
        for (const d of daysBetween(q.fromMs, q.toMs))
          for (const [key, r] of summaries[shard]!.get(d) ?? [])
            if (
              key.startsWith(prefix) &&
              r.startMs >= q.fromMs &&
              r.startMs < q.toMs &&
              (!q.processTypes || q.processTypes.includes(r.processType))
            )
              out.push(r)
        if (q.limit === undefined)
          return out.sort(
            (a, b) =>
              a.startMs - b.startMs ||
              a.processType.localeCompare(b.processType) ||
              a.label.localeCompare(b.label),
          )
        return out
          .sort(
            (a, b) =>
              a.processType.localeCompare(b.processType) ||
              a.label.localeCompare(b.label) ||
              a.startMs - b.startMs,
          )
          .slice(0, q.limit)
      }),
    readEvents: (shard, q) =>
      guard(shard, "read events", () => {
        const out: Array<EventRow> = []
        for (const d of daysBetween(q.fromMs, q.toMs))
          for (const e of events[shard]!.get(d)?.values() ?? [])
            if (e.owner === q.owner && e.timeMs >= q.fromMs && e.timeMs < q.toMs) out.push(e)
        return out
          .sort(
            (a, b) =>
              a.timeMs - b.timeMs || a.kind.localeCompare(b.kind) || a.process.localeCompare(b.process),
          )
          .slice(0, q.limit ?? out.length)
      }),
    days: (shard) => guard(shard, "list days", () => [...summaries[shard]!.keys()].sort((a, b) => a - b)),
    dropDaysBefore: (shard, beforeMs) =>
      guard(shard, "drop old days", () => {
        const dropped: Array<string> = []
        for (const d of [...summaries[shard]!.keys()].sort((a, b) => a - b))
          if (d < dayOf(beforeMs)) {
            summaries[shard]!.delete(d)
            events[shard]!.delete(d)
            dropped.push(schemaOf(d))
          }
        return dropped
      }),
  }
}
