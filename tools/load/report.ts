/** The loadtest's summary: one human-readable block, or one JSON object. */
import type { LoadReport } from "./load.ts"
import type { Verdict } from "./verify.ts"

export interface RunSummary {
  readonly settings: Record<string, number | string | boolean>
  readonly load: LoadReport
  readonly verdict: Verdict
}

const n = (x: number) => Math.round(x).toLocaleString("en-US")
const ms = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : Math.round(x)} ms` : "-")

/** The summary as JSON (per-second numbers included). */
export const toJson = (s: RunSummary) => ({ ...s, ok: s.verdict.exact })

export const formatSummary = (s: RunSummary): string => {
  const { load, verdict } = s
  const wall = (load.offerEndMs - load.startMs) / 1000
  const full = load.perSecond.slice(0, Math.floor(wall))
  const held = full.length > 2 ? full.slice(1, -1) : full
  const acceptedRates = held.map((x) => x.accepted).sort((a, b) => a - b)
  const median = acceptedRates[Math.floor(acceptedRates.length / 2)] ?? 0
  const lines = [
    `load: ${n(load.offeredLines)} lines offered over ${wall.toFixed(0)} s (${n(load.offeredLines / wall)}/s), ${n(load.sentLines)} sent in ${n(load.bodies)} bodies, ${n(load.acceptedLines)} accepted (median ${n(median)}/s)`,
    `  POST latency p50 ${ms(load.latencyMs.p50)}, p95 ${ms(load.latencyMs.p95)}, p99 ${ms(load.latencyMs.p99)}, max ${ms(load.latencyMs.max)}; statuses ${Object.entries(
      load.statuses,
    )
      .map(([k, v]) => `${k}×${n(v)}`)
      .join(" ")}`,
    `  retries ${n(load.retries)}, bodies given up ${n(load.droppedBodies)} (${n(load.droppedLines)} lines), drain buffer overflow ${n(load.overflowedLines)} lines (reported as L10)${load.ambiguousBodies ? `, ${load.ambiguousBodies} retried bodies without Frame-Id` : ""}`,
    `  generator CPU ${(load.cpu.userSeconds + load.cpu.systemSeconds).toFixed(1)} s = ${(load.cpu.cores * 100).toFixed(0)}% of a core; event-loop delay p99 ${ms(load.eventLoopDelayP99Ms)}`,
    `verify: ${n(verdict.rollups.exact)}/${n(verdict.rollups.total)} rollups exact, ${n(verdict.rollups.indeterminate)} indeterminate (excluded), ${n(verdict.rollups.unexpected)} unexpected; events ${n(verdict.events.matched)}/${n(verdict.events.expected)}${verdict.events.uncertain ? ` (${verdict.events.uncertain} uncertain)` : ""}`,
  ]
  if (verdict.poison.lines > 0)
    lines.push(
      `  poison lines sent and accepted: ${verdict.poison.lines} (${Object.entries(verdict.poison.byReason)
        .map(([k, v]) => `${k}×${v}`)
        .join(", ")}), expected to count nowhere`,
    )
  const { total, indeterminate } = verdict.rollups
  if (indeterminate > total)
    lines.push(
      `  note: most rollups are indeterminate (touched by bodies given up): the exact comparison covers ${n(total)} of ${n(total + indeterminate)}`,
    )
  if (verdict.stoppedBecause === "nothing to compare") {
    lines.push(
      "NOT EXACT: nothing to compare — no rollup is determinate (each was touched by a body given up, or none was sent)",
    )
    return lines.join("\n")
  }
  lines.push(
    verdict.exact
      ? `EXACT: every determinate rollup and event equals the oracle, ${((verdict.timeToExactMs ?? 0) / 1000).toFixed(1)} s after the load ended (${verdict.polls} polls)`
      : `NOT EXACT (${verdict.stoppedBecause === "stable" ? "the answers stopped changing" : "deadline reached"}; ${n(verdict.differenceCount)} differences: ${Object.entries(
          verdict.differenceKinds,
        )
          .map(([k, v]) => `${k}×${n(v)}`)
          .join(", ")}), for example:`,
  )
  for (const d of verdict.differences) lines.push(`  ${d}`)
  return lines.join("\n")
}
