/**
 * Handlers of /livez, /readyz and /healthz (src/observability/Health.ts: readiness is the bus and the
 * stages, shards reported; the body names each check and each stage's lag) and /metrics (Prometheus
 * text), on the HTTP surface of tally ingress, api and all.
 */

import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { liveness, type Report, readiness } from "./Health.ts"
import { metricsText } from "./ProcessMetrics.ts"
import { healthOf } from "./SystemServer.ts"

const answered = (report: Report) =>
  report.status === "down"
    ? Effect.fail({
        ...report,
        status: "down" as const,
        error: "not_ready" as const,
        message: report.message ?? "",
      })
    : Effect.succeed({ status: report.status, checks: report.checks, lag: report.lag })

export const SystemHandlers = HttpApiBuilder.group(
  TallyApi,
  "system",
  Effect.fn(function* (handlers) {
    const ready = Effect.flatMap(readiness(healthOf.kafkaAndShards), answered)
    return handlers
      .handle("livez", () => Effect.flatMap(liveness, answered))
      .handle("readyz", () => ready)
      .handle("healthz", () => ready)
      .handle("metrics", () => metricsText)
  }),
)
