/**
 * Verify: every 1-minute rollup of every app, metric, process type and label read back through
 * GET /api/v1/apps/{owner}/metrics/{metric}?process_type=…&step=1m and compared with the oracle: count,
 * min and max exactly, sum and sumsq within 1e-9 relative, p50/p95/p99 within DDSketch's 1% of the exact
 * quantile (see quantile.ts). One more read per metric without process_type finds series the oracle does
 * not have (from poison lines, or lines counted in the wrong process type). Platform events are compared
 * through /api/v1/apps/{owner}/events (the alerter's own events, kind "alert", are not the load's: left
 * out). Indeterminate rollups and events of uncertain bodies are skipped.
 * When the oracle keeps 15-minute windows, each (metric, process type) is read with step=15m too and
 * compared the same way; the reads span the times of too-late samples (they must show nothing of them).
 *
 * Polling re-reads only what differed last time; once that is all equal, one full pass confirms.
 */
import { createHash } from "node:crypto"
import { ApiError, type ApiEvent, type ApiPoint, type ApiSeriesAnswer, getJson, pool } from "./api.ts"
import type { ExpectedEvent } from "./body.ts"
import { METRIC_NAMES } from "./metrics.ts"
import { type AppExpectation, type Rollup, rollupKey } from "./oracle.ts"
import { closeEnough, withinSketchAccuracy } from "./quantile.ts"

export interface VerifyApp {
  readonly owner: string
  readonly readToken: string
  readonly expectation: AppExpectation
}

export interface Comparison {
  readonly rollups: number
  readonly exactRollups: number
  /** 15-minute rollups compared, and exact (0 when the oracle keeps none). */
  readonly rollups15: number
  readonly exactRollups15: number
  readonly indeterminate: number
  readonly unexpected: number
  readonly events: number
  readonly matchedEvents: number
  /** Every difference, one line each (rollups first, then events). */
  readonly differences: ReadonlyArray<string>
  /** Changes whenever any answer changes. */
  readonly fingerprint: string
  /** The reads whose answers differed (re-read on the next poll). */
  readonly dirty: ReadonlySet<string>
}

export interface Read {
  readonly text: string
  readonly json?: unknown
  readonly error?: Error
}

/** A planned read: `key` names it across polls. */
interface Plan {
  readonly key: string
  readonly app: number
  readonly path: string
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z")
const expectedKey = (e: ExpectedEvent) =>
  `${iso(e.timeMs)} ${e.kind} ${e.process} "${e.description}" ${e.actor}`
const apiKey = (e: ApiEvent) =>
  `${iso(Date.parse(e.time))} ${e.kind} ${e.process} "${e.description}" ${e.actor}`

/** A printable key: control characters escaped and long process types shortened. */
const show = (s: string) =>
  JSON.stringify(s.length > 80 ? `${s.slice(0, 40)}…(${s.length} chars)` : s).slice(1, -1)

const compareRollup = (label: string, want: Rollup, got: ApiPoint, out: Array<string>) => {
  const before = out.length
  if (got.count !== want.count) out.push(`${label}: count ${got.count} != ${want.count}`)
  if (got.min !== want.min) out.push(`${label}: min ${got.min} != ${want.min}`)
  if (got.max !== want.max) out.push(`${label}: max ${got.max} != ${want.max}`)
  if (!closeEnough(got.sum, want.sum)) out.push(`${label}: sum ${got.sum} != ${want.sum}`)
  if (!closeEnough(got.sumsq, want.sumsq)) out.push(`${label}: sumsq ${got.sumsq} != ${want.sumsq}`)
  for (const q of ["p50", "p95", "p99"] as const) {
    const exact = want[q]
    if (exact === undefined) continue
    const value = got[q]
    if (value === undefined || !withinSketchAccuracy(value, exact))
      out.push(`${label}: ${q} ${value} not within 1% of ${exact}`)
  }
  return out.length === before
}

/** The time range (whole minutes) that covers everything an app may show. */
const rangeOf = (x: AppExpectation): { from: string; to: string } | undefined => {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  const span = (ms: number) => {
    if (ms < lo) lo = ms
    if (ms > hi) hi = ms
  }
  for (const r of x.rollups.values()) span(r.minute)
  for (const k of x.indeterminate) span(Number(k.slice(k.lastIndexOf("|") + 1)))
  for (const e of [...x.events, ...x.uncertainEvents, ...x.poison, ...x.uncertainPoison]) span(e.timeMs)
  for (const r of x.rollups15?.values() ?? []) span(r.minute)
  if (x.span) {
    span(x.span.fromMs)
    span(x.span.toMs)
  }
  if (lo > hi) return undefined
  // Whole quarters of an hour: the same range serves the 1m and the 15m reads.
  const q = 15 * 60_000
  return { from: iso(Math.floor(lo / q) * q), to: iso(Math.floor(hi / q) * q + q) }
}

/** (metric, process type) pairs the oracle has determinate rollups for. */
const pairsOf = (x: AppExpectation, rollups: ReadonlyMap<string, Rollup> = x.rollups) => {
  const pairs = new Map<string, readonly [string, string]>()
  for (const r of rollups.values()) pairs.set(`${r.metric}|${r.processType}`, [r.metric, r.processType])
  return pairs
}

/** Every read a full pass makes: per (metric, process type), per metric over every process type, events. */
const plan = (apps: ReadonlyArray<VerifyApp>): Array<Plan> => {
  const out: Array<Plan> = []
  for (const [i, app] of apps.entries()) {
    const range = rangeOf(app.expectation)
    if (!range) continue
    const q = `from=${range.from}&to=${range.to}`
    const base = `/api/v1/apps/${app.owner}`
    for (const [pair, [metric, pt]] of pairsOf(app.expectation))
      out.push({
        key: `${i}|type|${pair}`,
        app: i,
        path: `${base}/metrics/${metric}?process_type=${encodeURIComponent(pt)}&${q}&step=1m`,
      })
    for (const [pair, [metric, pt]] of pairsOf(app.expectation, app.expectation.rollups15 ?? new Map()))
      out.push({
        key: `${i}|q|${pair}`,
        app: i,
        path: `${base}/metrics/${metric}?process_type=${encodeURIComponent(pt)}&${q}&step=15m`,
      })
    for (const metric of METRIC_NAMES)
      out.push({ key: `${i}|all|${metric}`, app: i, path: `${base}/metrics/${metric}?${q}&step=1m` })
    out.push({ key: `${i}|events`, app: i, path: `${base}/events?${q}` })
  }
  return out
}

/** Reads the planned paths (those in `only`, when given) into `reads`. */
const readInto = async (
  base: string,
  apps: ReadonlyArray<VerifyApp>,
  plans: ReadonlyArray<Plan>,
  reads: Map<string, Read>,
  concurrency: number,
  only?: ReadonlySet<string>,
) => {
  const todo = only ? plans.filter((p) => only.has(p.key)) : plans
  await pool(todo, concurrency, async (p) => {
    const r = await getJson<unknown>(base, p.path, apps[p.app]!.readToken).then(
      (ok): Read => ok,
      (error: Error): Read => ({ text: error.message, error }),
    )
    reads.set(p.key, r)
  })
}

/** Compares what was read with the oracle. */
export const compareReads = (
  apps: ReadonlyArray<VerifyApp>,
  reads: ReadonlyMap<string, Read>,
): Comparison => {
  const hash = createHash("sha1")
  const differences: Array<string> = []
  const eventDifferences: Array<string> = []
  const dirty = new Set<string>()
  let rollups = 0
  let exactRollups = 0
  let rollups15 = 0
  let exactRollups15 = 0
  let indeterminate = 0
  let unexpected = 0
  let events = 0
  let matchedEvents = 0
  for (const [i, app] of apps.entries()) {
    const x = app.expectation
    const name = `app ${i} (${app.owner.slice(0, 8)})`
    rollups += x.rollups.size
    indeterminate += x.indeterminate.size
    events += x.events.length
    const pairs = pairsOf(x)
    const seen = new Set<string>()
    for (const [pair, [metric, pt]] of pairs) {
      const key = `${i}|type|${pair}`
      const r = reads.get(key)
      if (!r) continue
      hash.update(r.text)
      const before = differences.length
      if (r.error) differences.push(`${name} ${metric}?process_type=${show(pt)}: ${r.error.message}`)
      else {
        const answer = r.json as ApiSeriesAnswer
        if (answer.missing.length > 0)
          differences.push(
            `${name} ${metric}?process_type=${show(pt)}: partial, missing ${answer.missing.join(",")}`,
          )
        for (const s of answer.series)
          for (const p of s.points) {
            if (x.until !== undefined && Date.parse(p.time) + 60_000 > x.until) continue
            const k = rollupKey(pt, metric, s.label, Date.parse(p.time))
            seen.add(k)
            const want = x.rollups.get(k)
            if (want) {
              if (compareRollup(`${name} ${show(k)}`, want, p, differences)) exactRollups++
            } else if (!x.indeterminate.has(k)) {
              unexpected++
              differences.push(`${name} ${show(k)}: unexpected (count ${p.count})`)
            }
          }
      }
      for (const [k, want] of x.rollups)
        if (want.metric === metric && want.processType === pt && !seen.has(k))
          differences.push(`${name} ${show(k)}: missing (want count ${want.count})`)
      if (differences.length > before) dirty.add(key)
    }
    // The 15-minute rollups, the same way.
    const quarters = x.rollups15 ?? new Map<string, Rollup>()
    const uncertain15 = x.indeterminate15 ?? new Set<string>()
    rollups15 += quarters.size
    for (const [pair, [metric, pt]] of pairsOf(x, quarters)) {
      const key = `${i}|q|${pair}`
      const r = reads.get(key)
      if (!r) continue
      hash.update(r.text)
      const before = differences.length
      const seen = new Set<string>()
      if (r.error) differences.push(`${name} ${metric}?process_type=${show(pt)}&step=15m: ${r.error.message}`)
      else {
        const answer = r.json as ApiSeriesAnswer
        if (answer.missing.length > 0)
          differences.push(
            `${name} ${metric}?process_type=${show(pt)}&step=15m: partial, missing ${answer.missing.join(",")}`,
          )
        for (const s of answer.series)
          for (const p of s.points) {
            if (x.until !== undefined && Date.parse(p.time) + 15 * 60_000 > x.until) continue
            const k = rollupKey(pt, metric, s.label, Date.parse(p.time))
            seen.add(k)
            const want = quarters.get(k)
            if (want) {
              if (compareRollup(`${name} 15m ${show(k)}`, want, p, differences)) exactRollups15++
            } else if (!uncertain15.has(k)) {
              unexpected++
              differences.push(`${name} 15m ${show(k)}: unexpected (count ${p.count})`)
            }
          }
      }
      for (const [k, want] of quarters)
        if (want.metric === metric && want.processType === pt && !seen.has(k))
          differences.push(`${name} 15m ${show(k)}: missing (want count ${want.count})`)
      if (differences.length > before) dirty.add(key)
    }
    // Series outside the oracle's (metric, process type) pairs: poison lines counted, or a wrong type.
    for (const metric of METRIC_NAMES) {
      const key = `${i}|all|${metric}`
      const r = reads.get(key)
      if (!r) continue
      hash.update(r.text)
      const before = differences.length
      if (r.error) {
        if (!(r.error instanceof ApiError && r.error.status === 404))
          differences.push(`${name} ${metric} (every process type): ${r.error.message}`)
      } else {
        const answer = r.json as ApiSeriesAnswer
        if (answer.missing.length > 0)
          differences.push(
            `${name} ${metric} (every process type): partial, missing ${answer.missing.join(",")}`,
          )
        for (const s of answer.series) {
          const pt = s.processType ?? ""
          if (pairs.has(`${metric}|${pt}`)) continue
          for (const p of s.points) {
            if (x.until !== undefined && Date.parse(p.time) + 60_000 > x.until) continue
            const k = rollupKey(pt, metric, s.label, Date.parse(p.time))
            if (x.indeterminate.has(k)) continue
            unexpected++
            const poison = /^[A-Za-z0-9_-]{1,64}$/.test(pt) ? "" : " — a poison line counted"
            differences.push(`${name} ${show(k)}: unexpected (count ${p.count})${poison}`)
          }
        }
      }
      if (differences.length > before) dirty.add(key)
    }
    const key = `${i}|events`
    const r = reads.get(key)
    if (!r) continue
    hash.update(r.text)
    const before = eventDifferences.length
    if (r.error) eventDifferences.push(`${name} events: ${r.error.message}`)
    else {
      const answer = r.json as { events: ReadonlyArray<ApiEvent>; missing?: ReadonlyArray<string> }
      if (answer.missing && answer.missing.length > 0)
        eventDifferences.push(`${name} events: partial, missing ${answer.missing.join(",")}`)
      const got = new Map<string, number>()
      for (const e of answer.events) {
        // The alerter's own events on an app's timeline (kind "alert") are not lines of a drain.
        if (e.kind === "alert") continue
        const t = Date.parse(e.time)
        if (x.until !== undefined && t - (t % 60_000) + 60_000 > x.until) continue
        got.set(apiKey(e), (got.get(apiKey(e)) ?? 0) + 1)
      }
      const maybe = new Set(x.uncertainEvents.map(expectedKey))
      for (const e of x.events) {
        const k = expectedKey(e)
        const n = got.get(k) ?? 0
        if (n === 0) eventDifferences.push(`${name} event missing: ${k}`)
        else {
          matchedEvents++
          got.set(k, n - 1)
        }
      }
      for (const [k, n] of got)
        if (n > 0 && !maybe.has(k))
          eventDifferences.push(`${name} event unexpected: ${k}${n > 1 ? ` ×${n}` : ""}`)
    }
    if (eventDifferences.length > before) dirty.add(key)
  }
  return {
    rollups,
    exactRollups,
    rollups15,
    exactRollups15,
    indeterminate,
    unexpected,
    events,
    matchedEvents,
    differences: [...differences, ...eventDifferences],
    fingerprint: hash.digest("hex"),
    dirty,
  }
}

/** One full pass over the API for every app; HTTP errors are differences, never thrown. */
export const compareOnce = async (
  base: string,
  apps: ReadonlyArray<VerifyApp>,
  concurrency = 8,
): Promise<Comparison> => compareReads(apps, await readAll(base, apps, concurrency))

/** Every read a full pass makes, answered (to compare later, e.g. with an expectation narrowed meanwhile). */
export const readAll = async (
  base: string,
  apps: ReadonlyArray<VerifyApp>,
  concurrency = 8,
): Promise<ReadonlyMap<string, Read>> => {
  const reads = new Map<string, Read>()
  await readInto(base, apps, plan(apps), reads, concurrency)
  return reads
}

export interface VerifyOptions {
  /** Give up this long after `sinceMs` (default 90 s). */
  readonly settleSeconds?: number
  /** Stop early when no answer changed for this long and the numbers still differ (default 30 s; 0: never). */
  readonly stableSeconds?: number
  readonly pollMs?: number
  /** When the load ended (default: now): the deadline and time-to-exact count from here. */
  readonly sinceMs?: number
  readonly concurrency?: number
  readonly onPoll?: (c: Comparison, elapsedMs: number) => void
}

export interface Verdict {
  /** Every determinate rollup and event equals the oracle, and there was at least one rollup to compare. */
  readonly exact: boolean
  readonly stoppedBecause: "exact" | "stable" | "deadline" | "nothing to compare"
  /** From the end of the load until the API first answered exactly (confirmed by a full pass; null: never). */
  readonly timeToExactMs: number | null
  readonly polls: number
  readonly rollups: {
    readonly total: number
    readonly exact: number
    readonly indeterminate: number
    readonly unexpected: number
    /** 15-minute rollups compared and exact (0 when the oracle keeps none). */
    readonly total15: number
    readonly exact15: number
  }
  readonly events: { readonly expected: number; readonly matched: number; readonly uncertain: number }
  readonly poison: {
    readonly lines: number
    readonly uncertain: number
    readonly byReason: Record<string, number>
  }
  /** Some differences (at most 20, taken across kinds), how many there were, and how many of each kind. */
  readonly differences: ReadonlyArray<string>
  readonly differenceCount: number
  readonly differenceKinds: Record<string, number>
}

/** What kind of difference a line reports: a field (count, sum, p99…), missing, unexpected, an event, an API error. */
export const differenceKind = (d: string): string => {
  const field = /: (count|min|max|sum|sumsq|p50|p95|p99) /.exec(d)
  if (field) return field[1]!
  if (d.includes("a poison line counted")) return "poison counted"
  if (d.includes("partial, missing")) return "partial answer"
  if (d.includes(" event missing: ")) return "event missing"
  if (d.includes(" event unexpected: ")) return "event unexpected"
  if (/: missing \(want/.test(d)) return "missing"
  if (/: unexpected \(count/.test(d)) return "unexpected"
  return "api"
}

const kinds = (all: ReadonlyArray<string>) => {
  const out: Record<string, number> = {}
  for (const d of all) out[differenceKind(d)] = (out[differenceKind(d)] ?? 0) + 1
  return out
}

/** Up to `n` differences, round-robin over their kinds (so one kind cannot hide the others). */
const sample = (all: ReadonlyArray<string>, n: number) => {
  const byKind = new Map<string, Array<string>>()
  for (const d of all) {
    const k = differenceKind(d)
    const list = byKind.get(k)
    if (!list) byKind.set(k, [d])
    else if (list.length < n) list.push(d)
  }
  const out: Array<string> = []
  for (let i = 0; out.length < Math.min(n, all.length); i++)
    for (const list of byKind.values()) if (i < list.length && out.length < n) out.push(list[i]!)
  return out
}

/** Polls until every determinate rollup and event equals the oracle, the answers stop changing, or the deadline. */
export const verify = async (
  base: string,
  apps: ReadonlyArray<VerifyApp>,
  options: VerifyOptions = {},
): Promise<Verdict> => {
  const since = options.sinceMs ?? Date.now()
  const deadline = since + (options.settleSeconds ?? 90) * 1000
  const stableMs = (options.stableSeconds ?? 30) * 1000
  const concurrency = options.concurrency ?? 8
  const plans = plan(apps)
  const reads = new Map<string, Read>()
  let only: ReadonlySet<string> | undefined
  let polls = 0
  let last: Comparison | undefined
  let lastChangeMs = Date.now()
  let stoppedBecause: Verdict["stoppedBecause"] = "deadline"
  let timeToExactMs: number | null = null
  let equalSinceMs: number | undefined
  for (;;) {
    await readInto(base, apps, plans, reads, concurrency, only)
    const c = compareReads(apps, reads)
    polls++
    const now = Date.now()
    options.onPoll?.(c, now - since)
    if (!last || c.fingerprint !== last.fingerprint) lastChangeMs = now
    last = c
    if (c.rollups === 0) {
      stoppedBecause = "nothing to compare"
      break
    }
    if (c.differences.length === 0) {
      if (only === undefined) {
        stoppedBecause = "exact"
        timeToExactMs = (equalSinceMs ?? now) - since
        break
      }
      equalSinceMs = now // all equal on the re-read part: confirm with a full pass
      only = undefined
      continue
    }
    equalSinceMs = undefined
    only = c.dirty
    if (stableMs > 0 && now - lastChangeMs >= stableMs) {
      stoppedBecause = "stable"
      break
    }
    if (now >= deadline) break
    await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 1000, Math.max(0, deadline - now))))
  }
  const byReason: Record<string, number> = {}
  for (const a of apps)
    for (const p of a.expectation.poison) byReason[p.reason] = (byReason[p.reason] ?? 0) + 1
  return {
    exact: stoppedBecause === "exact",
    stoppedBecause,
    timeToExactMs,
    polls,
    rollups: {
      total: last.rollups,
      exact: last.exactRollups,
      indeterminate: last.indeterminate,
      unexpected: last.unexpected,
      total15: last.rollups15,
      exact15: last.exactRollups15,
    },
    events: {
      expected: last.events,
      matched: last.matchedEvents,
      uncertain: apps.reduce((a, x) => a + x.expectation.uncertainEvents.length, 0),
    },
    poison: {
      lines: apps.reduce((a, x) => a + x.expectation.poison.length, 0),
      uncertain: apps.reduce((a, x) => a + x.expectation.uncertainPoison.length, 0),
      byReason,
    },
    differences: sample(last.differences, 20),
    differenceCount: last.differences.length,
    differenceKinds: kinds(last.differences),
  }
}
