/**
 * The chaos run's verdict as one readable block (seed, schedule, what was injected and what the drains
 * saw meanwhile, each target's load and verdict, processes, counters) or as one JSON object, and the time
 * from the last fault to exact numbers of each target.
 */
import { formatSummary } from "../load/index.ts"
import { type Convergence, convergence, faultsOf } from "./convergence.ts"
import { type ChaosResult, failFast, statusesBetween, type TargetResult } from "./run.ts"
import { clock, EMBEDDED_KINDS, formatSchedule } from "./schedule.ts"

export { type Convergence, convergence }

const n = (x: number) => Math.round(x).toLocaleString("en-US")
const at = (r: ChaosResult, ms: number) => {
  const s = (ms - r.loadStartMs) / 1000
  return `${s < 0 ? "-" : "+"}${clock(Math.floor(Math.abs(s)))}`
}
const statuses = (x: Record<string, number>) =>
  Object.entries(x)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}×${n(v)}`)
    .join(" ") || "none"

const targetLines = (r: ChaosResult, t: TargetResult): Array<string> => {
  const lines: Array<string> = [
    `${t.name}: ${n(t.rate)} lines/s offered from ${t.apps} apps (${t.shieldApps} Shield)`,
  ]
  if (t.load && t.verdict)
    lines.push(
      ...formatSummary({ settings: {}, load: t.load, verdict: t.verdict })
        .split("\n")
        .map((l) => `  ${l}`),
    )
  if (t.verdict)
    lines.push(`  15-minute rollups: ${n(t.verdict.rollups.exact15)}/${n(t.verdict.rollups.total15)} exact`)
  lines.push(
    `  too-late lines: ${n(t.tooLate.linesSent)} sent; certainly dropped (records): 1m ${n(Object.values(t.tooLate.droppedRecords[0]).reduce((a, b) => a + b, 0))}, 15m ${n(Object.values(t.tooLate.droppedRecords[1]).reduce((a, b) => a + b, 0))}`,
  )
  const exactLive = t.liveChecks.filter((x) => x.differences === 0).length
  const c = convergence(t, r.injected)
  lines.push(
    `  live checks during the load: ${t.liveChecks.length} (${exactLive} exact); after the last fault: ${c.checksAfter} (${c.exactChecksAfter} exact)`,
  )
  for (const x of t.liveChecks.filter((x) => x.differences > 0).slice(-3))
    lines.push(
      `    ${at(r, x.atMs)} ${x.differences} differences of ${x.rollups}+${x.rollups15} rollups, e.g. ${x.sample[0] ?? ""}`,
    )
  if (c.lastFaultEndMs !== undefined)
    lines.push(
      `  convergence: the last fault was over at ${at(r, c.lastFaultEndMs)}; ${c.seconds === undefined ? "the numbers never became exact" : `exact by ${at(r, c.exactFromMs!)}: ${c.seconds.toFixed(1)} s after the last fault (seen by the ${c.seenBy}${c.seenBy === "live check" ? ", every later one exact too" : ""})`}`,
    )
  if (t.verdict?.exact && t.load)
    lines.push(`  after the load ended: exact in ${((t.verdict.timeToExactMs ?? 0) / 1000).toFixed(1)} s`)
  return lines
}

export const formatResult = (r: ChaosResult): string => {
  const o = r.options
  const lines: Array<string> = [
    `==== tally chaos: seed ${o.seed}, ${o.minutes} min of load on ${o.brokers} Kafka broker${o.brokers === 1 ? "" : "s"} ====`,
    `replay: npm run chaos -- --brokers ${o.brokers} --minutes ${o.minutes} --seed ${o.seed}${o.rate !== 30_000 ? ` --rate ${o.rate}` : ""}${o.without.length ? ` --without ${o.without.join(",")}` : ""}${o.faults ? ` --schedule ${r.runDir}/schedule.json` : ""}`,
    `tally under test: ${r.tally.dir} at ${r.tally.commit}${r.tally.dirty ? " with uncommitted changes in src/" : ""}`,
    `run dir: ${r.runDir} (a log per process, schedule.json, result.json)`,
    ...formatSchedule(r.schedule),
    `injected (${r.injected.filter((i) => i.ok).length}/${r.schedule.faults.length}); drains' answers while each lasted:`,
  ]
  for (const i of r.injected) {
    const t = r.targets.find(
      (x) => x.name === (EMBEDDED_KINDS.includes(i.fault.kind) ? "embedded" : "pipeline"),
    )
    const seen = t ? statuses(statusesBetween(r, t, i.startMs, i.endMs ?? i.startMs)) : ""
    lines.push(
      `  ${at(r, i.startMs)}  ${i.what}${i.target ? ` -> ${i.target}` : ""}${i.detail ? ` (${i.detail})` : ""}; ${i.endMs === undefined ? "NEVER OVER" : `over after ${((i.endMs - i.startMs) / 1000).toFixed(1)} s`}${seen ? `; drains: ${seen}` : ""}${i.ok ? "" : " [NOT AS PLANNED]"}`,
    )
  }
  for (const t of r.targets) lines.push(...targetLines(r, t))
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
  lines.push(
    `late counter (tally_aggregator_late_dropped_total, summed over the aggregators' incarnations): ${
      Object.entries(r.lateCounted.byPeriod)
        .map(([k, v]) => `${k} ${n(v)}`)
        .join(", ") || "none"
    }; at least ${Object.entries(r.lateCounted.expectedAtLeast)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(", ")} expected (the too-late records, less those near an aggregator's death)`,
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
  lines.push(...r.extensionLines)
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
      ? `EXACT: every stored 1-minute and 15-minute rollup equals the oracle${r.targets.length > 1 ? " (pipeline and embedded)" : ""}, poison refused and counted, too-late lines dropped and counted, no dead letters, exact within ${o.maxSecondsToExact} s of the last fault`
      : `NOT EXACT:\n${r.failures.map((f) => `  - ${f}`).join("\n")}`,
  )
  return lines.join("\n")
}

/** The verdict as JSON (the per-second statuses left out: they are in result.json's targets only via the summary). */
export const toJson = (r: ChaosResult) => ({
  ok: r.failures.length === 0,
  ...r,
  targets: r.targets.map((t) => ({
    ...t,
    statusesBySecond: undefined,
    convergence: convergence(t, r.injected),
    faults: faultsOf(t.name, r.injected).length,
  })),
  faultStatuses: r.injected.map((i) => {
    const t = r.targets.find(
      (x) => x.name === (EMBEDDED_KINDS.includes(i.fault.kind) ? "embedded" : "pipeline"),
    )
    return t ? statusesBetween(r, t, i.startMs, i.endMs ?? i.startMs) : {}
  }),
})
