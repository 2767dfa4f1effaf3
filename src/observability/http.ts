/**
 * Handlers of /healthz (ready only when Kafka and every shard answer and every stage of the process runs;
 * the body names each check and each stage's lag) and /metrics (Prometheus text).
 */

import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { metricsText } from "./ProcessMetrics.ts"
import { healthOf, stageLag } from "./SystemServer.ts"

export const SystemHandlers = HttpApiBuilder.group(
  TallyApi,
  "system",
  Effect.fn(function* (handlers) {
    return handlers
      .handle("healthz", () =>
        Effect.gen(function* () {
          const checks = yield* healthOf.kafkaAndShards
          const lag = yield* stageLag
          if (!Object.values(checks).every((r) => r === "ok"))
            return yield* Effect.fail({ status: "degraded" as const, checks, lag })
          return { status: "ok" as const, checks, lag }
        }),
      )
      .handle("metrics", () => metricsText)
  }),
)
