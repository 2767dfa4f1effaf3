/** Handlers of /healthz (ready only when Kafka and every shard answer) and /metrics (Prometheus text). */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { PrometheusMetrics } from "effect/observability"
import { TallyApi } from "../api/Api.ts"
import { Bus } from "../bus/Bus.ts"
import { Shards } from "../store/Shards.ts"

export const SystemHandlers = HttpApiBuilder.group(
  TallyApi,
  "system",
  Effect.fn(function* (handlers) {
    const bus = yield* Bus
    const shards = yield* Shards
    const check = <E>(effect: Effect.Effect<unknown, E>) =>
      effect.pipe(
        Effect.timeout("3 seconds"),
        Effect.as("ok"),
        Effect.catch((e) => Effect.succeed(`down: ${(e as { message?: string })?.message ?? String(e)}`)),
      )
    return handlers
      .handle("healthz", () =>
        Effect.gen(function* () {
          const results = yield* Effect.all(
            [
              check(bus.health).pipe(Effect.map((r) => ["kafka", r] as const)),
              ...shards.dbs.map((db, i) =>
                check(shards.use(i, "health", (d) => d.query("SELECT 1"))).pipe(
                  Effect.map((r) => [`shard ${i} (${db.name})`, r] as const),
                ),
              ),
            ],
            { concurrency: "unbounded" },
          )
          const checks = Object.fromEntries(results)
          const ok = results.every(([, r]) => r === "ok")
          if (!ok) return yield* Effect.fail({ status: "degraded" as const, checks })
          return { status: "ok" as const, checks }
        }),
      )
      .handle("metrics", () => PrometheusMetrics.format())
  }),
)
