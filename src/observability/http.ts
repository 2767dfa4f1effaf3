/** Handlers of /healthz (ready only when Kafka and every shard answer) and /metrics (Prometheus text). */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { PrometheusMetrics } from "effect/observability"
import { TallyApi } from "../api/Api.ts"
import { healthOf } from "./SystemServer.ts"

export const SystemHandlers = HttpApiBuilder.group(
  TallyApi,
  "system",
  Effect.fn(function* (handlers) {
    return handlers
      .handle("healthz", () =>
        Effect.gen(function* () {
          const checks = yield* healthOf.kafkaAndShards
          if (!Object.values(checks).every((r) => r === "ok"))
            return yield* Effect.fail({ status: "degraded" as const, checks })
          return { status: "ok" as const, checks }
        }),
      )
      .handle("metrics", () => PrometheusMetrics.format())
  }),
)
