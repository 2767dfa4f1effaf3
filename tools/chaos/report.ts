/**
 * The chaos run's verdict as one readable block (seed, schedule, what was injected, load, processes,
 * verdict) or as one JSON object, and the time from the last fault to exact numbers.
 */
import { formatSummary } from "../load/index.ts"
import { type ChaosResult, failFast } from "./run.ts"
import { clock, formatSchedule } from "./schedule.ts"

export interface Convergence {
  /** When the last fault was over (ms), undefined when one never was. */
  readonly lastFaultEndMs: number | undefined
  /**
   * By when the numbers were exact for good (ms): the end of the first check, begun after the last
   * fault, from which every later check was exact (an upper bound: checks run every 5 s and take a few
   * seconds each); undefined when the run did not end exact.
   */
  readonly exactFromMs: number | undefined
  /** exactFromMs - lastFaultEndMs, in seconds. */
  readonly seconds: number | undefined
  /** How it was seen: a live check during the fault-free tail, or the final check after the load. */
  readonly seenBy: "live check" | "final check" | "none"
  /** Live checks after the last fault, and how many of them were exact. */
  readonly checksAfter: number
  readonly exactChecksAfter: number
}

export const convergence = (r: ChaosResult): Convergence => {
  const ends = r.injected.map((i) => i.endMs)
  const lastFaultEndMs =
    ends.length === 0 || ends.includes(undefined) ? undefined : Math.max(...(ends as Array<number>))
  const after = lastFaultEndMs === undefined ? [] : r.liveChecks.filter((c) => c.atMs >= lastFaultEndMs)
  const exactChecksAfter = after.filter((c) => c.differences === 0).length
  const none = {
    lastFaultEndMs,
    exactFromMs: undefined,
    seconds: undefined,
    checksAfter: after.length,
    exactChecksAfter,
  }
  if (lastFaultEndMs === undefined || !r.verdict?.exact || !r.load) return { ...none, seenBy: "none" }
  let from = after.length
  while (from > 0 && after[from - 1]!.differences === 0) from--
  const exactFromMs = from < after.length ? after[from]!.endMs : r.load.endMs + (r.verdict.timeToExactMs ?? 0)
  return {
    lastFaultEndMs,
    exactFromMs,
    seconds: (exactFromMs - lastFaultEndMs) / 1000,
    seenBy: from < after.length ? "live check" : "final check",
    checksAfter: after.length,
    exactChecksAfter,
  }
}

const n = (x: number) => Math.round(x).toLocaleString("en-US")
const at = (r: ChaosResult, ms: number) => {
  const s = (ms - r.loadStartMs) / 1000
  return `${s < 0 ? "-" : "+"}${clock(Math.floor(Math.abs(s)))}`
}

export const formatResult = (r: ChaosResult): string => {
  const o = r.options
  const c = convergence(r)
  const lines: Array<string> = [
    `==== tally chaos: seed ${o.seed}, ${o.minutes} min of load at ${n(o.rate)} lines/s from ${o.apps} apps ====`,
    `replay: npm run chaos -- --minutes ${o.minutes} --seed ${o.seed}${o.rate !== 3000 ? ` --rate ${o.rate}` : ""}${o.without.length ? ` --without ${o.without.join(",")}` : ""}${o.faults ? ` --schedule ${r.runDir}/schedule.json` : ""}`,
    `tally under test: ${r.tally.dir} at ${r.tally.commit}${r.tally.dirty ? " with uncommitted changes in src/" : ""}`,
    `run dir: ${r.runDir} (a log per process, schedule.json, result.json)`,
    ...formatSchedule(r.schedule),
    `injected (${r.injected.filter((i) => i.ok).length}/${r.schedule.faults.length}):`,
  ]
  for (const i of r.injected)
    lines.push(
      `  ${at(r, i.startMs)}  ${i.what}${i.target ? ` -> ${i.target}` : ""}${i.detail ? ` (${i.detail})` : ""}; ${i.endMs === undefined ? "NEVER OVER" : `over after ${((i.endMs - i.startMs) / 1000).toFixed(1)} s`}${i.ok ? "" : " [NOT AS PLANNED]"}`,
    )
  if (r.load && r.verdict)
    lines.push(
      ...formatSummary({ settings: {}, load: r.load, verdict: r.verdict })
        .split("\n")
        .map((l) => (l.startsWith("  ") ? `  ${l}` : `  ${l}`)),
    )
  const restarts = new Map<string, number>()
  for (const e of r.exits) restarts.set(e.name, (restarts.get(e.name) ?? 0) + 1)
  const unexpected = r.exits.filter((e) => !e.expected)
  lines.push(
    `processes: exits ${[...restarts].map(([k, v]) => `${k}×${v}`).join(", ") || "none"}; ${unexpected.length} not caused by the harness${unexpected.length ? ":" : ""}`,
  )
  for (const e of unexpected.slice(0, 12))
    lines.push(
      `  ${at(r, e.atMs)}  ${e.name}#${e.incarnation} ${e.signal ?? `exit ${e.code}`} after ${(e.upMs / 1000).toFixed(1)} s${failFast(e) ? " (failed and ended its process, as designed)" : " (CRASH)"}: ${e.lastLines.at(-1)?.slice(0, 200) ?? ""}`,
    )
  const p = r.poison
  lines.push(
    `poison: ${n(p.acknowledged)} poison lines in acknowledged bodies (${n(p.given)} in bodies given up); the ingress refused ${n(p.counted)} (${Object.entries(
      p.byReason,
    )
      .map(([k, v]) => `${k}×${n(v)}`)
      .join(
        ", ",
      )}) over ${p.incarnations.length} ingress processes — ${p.counted === p.acknowledged ? "equal" : `allowed ${n(p.lo)}…${n(p.hi)}: ${n(p.exposed)} were in bodies in flight while an ingress process died`}`,
  )
  if (r.deadLetters) {
    lines.push(`dead letters: ${n(r.deadLetters.total)} rows in the DEAD topics (expected none)`)
    for (const d of r.deadLetters.sample.slice(0, 5))
      lines.push(`  ${d.topic} ${d.key}: ${d.reason} (${d.stage})`)
  }
  for (const [name, s] of Object.entries(r.pipeline)) {
    const counters = Object.entries(s.counters)
      .map(([k, v]) => `${k.replace(/^tally_/, "")} ${n(v)}`)
      .join(", ")
    const h = s.health as { status?: string } | null
    lines.push(`  ${name}: /healthz ${h?.status ?? "?"}${counters ? `; ${counters}` : ""}`)
  }
  const exactLive = r.liveChecks.filter((x) => x.differences === 0).length
  lines.push(
    `live checks during the load: ${r.liveChecks.length} (${exactLive} exact); after the last fault: ${c.checksAfter} (${c.exactChecksAfter} exact)`,
  )
  for (const x of r.liveChecks.filter((x) => x.differences > 0).slice(-3))
    lines.push(
      `  ${at(r, x.atMs)} ${x.differences} differences of ${x.rollups} rollups, e.g. ${x.sample[0] ?? ""}`,
    )
  if (c.lastFaultEndMs !== undefined)
    lines.push(
      `convergence: the last fault was over at ${at(r, c.lastFaultEndMs)}; ${c.seconds === undefined ? "the numbers never became exact" : `exact by ${at(r, c.exactFromMs!)}: ${c.seconds.toFixed(1)} s after the last fault (seen by the ${c.seenBy}${c.seenBy === "live check" ? ", every later one exact too" : ""})`}`,
    )
  if (r.verdict?.exact && r.load)
    lines.push(`  after the load ended: exact in ${((r.verdict.timeToExactMs ?? 0) / 1000).toFixed(1)} s`)
  if (r.shutdown.length)
    lines.push(
      `shutdown (SIGTERM): ${r.shutdown.map((e) => `${e.name} ${e.signal ?? `exit ${e.code}`}`).join(", ")}`,
    )
  if (Object.keys(p.otherRefusals).length)
    lines.push(
      `  other refusals: ${Object.entries(p.otherRefusals)
        .map(([k, v]) => `${k}×${n(v)}`)
        .join(", ")}`,
    )
  if (r.findings.length) {
    lines.push(`findings (the pipeline misbehaved without changing the numbers): ${r.findings.length}`)
    for (const f of r.findings.slice(0, 12)) lines.push(`  - ${f}`)
  }
  lines.push(
    r.failures.length === 0
      ? "EXACT: every stored 1-minute rollup equals the oracle, poison refused and counted, no dead letters"
      : `NOT EXACT:\n${r.failures.map((f) => `  - ${f}`).join("\n")}`,
  )
  return lines.join("\n")
}

export const toJson = (r: ChaosResult) => ({
  ok: r.failures.length === 0,
  ...r,
  convergence: convergence(r),
})
