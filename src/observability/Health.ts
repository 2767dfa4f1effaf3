/**
 * Health, split the way supervisors and load balancers ask (docs/operations.md, "Health"):
 *
 * - **liveness** (`/livez`): the process's stages run. 503 only when a stage has failed or stopped (a
 *   process whose stage fails also exits 1, so this is brief) — never because a dependency is down, so a
 *   liveness probe does not restart every process when Kafka or a shard has an outage.
 * - **readiness** (`/readyz`, and `/healthz`, kept for existing probes): it can do its work now. 503
 *   when the bus (Kafka, or the embedded log) does not answer, or a stage has failed, stalled, or has
 *   been failing its writes or appends for 30 s (src/stream/Stage.ts, "Failing writes"). A shard that
 *   does not answer is reported (`"degraded"`, still 200): a shard that is down holds back only its own
 *   rows (DESIGN semantics 11) — reads answer with it in `missing`, the sink hands its rows to RETRY — and
 *   a sink or retrier whose writes to it keep failing is not ready through its failing stage.
 *
 * The body names every check (`"ok"` or `"down: why"`) and each stage's lag; a 503 also carries the
 * error shape of every 4xx/5xx (`error: "not_ready"`, `message`: the first check that is down).
 */
import { Effect } from "effect"
import { Stages } from "../stream/Stage.ts"

export interface Report {
  /** ok: every check answers; degraded: only shards do not (ready); down: not ready (503). */
  readonly status: "ok" | "degraded" | "down"
  readonly checks: Record<string, string>
  readonly lag: Record<string, number>
  readonly error?: "not_ready"
  readonly message?: string
}

/** Checks that do not make a process unready: the shards (see the header). */
const optional = (name: string) => name.startsWith("shard ")

/** The report of `checks`: down when a required one is down, degraded when only optional ones are. */
export const report = (
  checks: Record<string, string>,
  lag: Record<string, number>,
  what: "live" | "ready",
): Report => {
  const down = Object.entries(checks).filter(([, c]) => c !== "ok")
  const required = down.filter(([name]) => !optional(name))
  if (required.length > 0) {
    const [name, why] = required[0]!
    return {
      status: "down",
      checks,
      lag,
      error: "not_ready",
      message: `${what === "live" ? "not live" : "not ready"}: ${name}: ${why.replace(/^down: /, "")}${required.length > 1 ? ` (and ${required.length - 1} more; see checks)` : ""}`,
    }
  }
  return { status: down.length > 0 ? "degraded" : "ok", checks, lag }
}

/** Records each stage is behind the end of what it reads (as of its last batch). */
export const stageLag = Effect.map(Effect.service(Stages), (s) => {
  const out: Record<string, number> = {}
  for (const [name, status] of s.status()) out[name] = status.lag
  return out
})

/** Liveness: every stage of the process runs (or stops gracefully). */
export const liveness = Effect.gen(function* () {
  const stages = yield* Stages
  const checks: Record<string, string> = {}
  for (const [name, status] of stages.status())
    checks[`stage ${name}`] =
      status.state === "running" || status.state === "stopping"
        ? "ok"
        : `down: ${status.state}${status.reason ? `: ${status.reason}` : ""}`
  return report(checks, yield* stageLag, "live")
})

/** Readiness from the process's checks (dependencies and stages, src/observability/SystemServer.ts). */
export const readiness = <R>(checks: Effect.Effect<Record<string, string>, never, R>) =>
  Effect.gen(function* () {
    return report(yield* checks, yield* stageLag, "ready")
  })
