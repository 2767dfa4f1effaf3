/**
 * /metrics and /healthz for the stages that serve no API (aggregator, sink, retrier): served on
 * TALLY_METRICS_PORT when it is set, so several stages can run on one host without port clashes.
 */

import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { Bus } from "../bus/Bus.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { Shards } from "../store/Shards.ts"
import { failingReason, Stages } from "../stream/Stage.ts"
import { metricsText } from "./ProcessMetrics.ts"

const check = <E>(effect: Effect.Effect<unknown, E>) =>
  effect.pipe(
    Effect.timeout("3 seconds"),
    Effect.as("ok"),
    Effect.catch((e) => Effect.succeed(`down: ${(e as { message?: string })?.message ?? String(e)}`)),
  )

type Checks<R> = Effect.Effect<Record<string, string>, never, R>

const kafka: Checks<Bus> = Effect.flatMap(Effect.service(Bus), (bus) =>
  Effect.map(check(bus.health), (kafka) => ({ kafka })),
)

const shards: Checks<Shards> = Effect.gen(function* () {
  const s = yield* Shards
  const out: Record<string, string> = {}
  for (const [i, name] of s.names.entries())
    out[`shard ${i} (${name})`] = yield* check(s.use(i, "health", (sql) => sql`SELECT 1`))
  return out
})

/**
 * Every stage of this process: "ok" while it runs (or stops gracefully) and its writes or appends do
 * not keep failing (src/stream/Stage.ts, "Failing writes"), else why not. A part that only tracks its
 * writes (the ingress's appends) is listed once it has made one.
 */
const stages: Checks<Stages> = Effect.map(Effect.service(Stages), (s) => {
  const out: Record<string, string> = {}
  const streaks = s.streaks()
  for (const [name, status] of s.status()) {
    const failing = failingReason(streaks.get(name))
    out[`stage ${name}`] =
      status.state !== "running" && status.state !== "stopping"
        ? `down: ${status.state}${status.reason ? `: ${status.reason}` : ""}`
        : failing
          ? `down: ${failing}`
          : "ok"
  }
  for (const [name, streak] of streaks) {
    if (s.status().has(name)) continue
    const failing = failingReason(streak)
    out[`stage ${name}`] = failing ? `down: ${failing}` : "ok"
  }
  return out
})

/** Kafka alone (the aggregator), or Kafka and every shard (the sink, the retrier), and the stages. */
export const healthOf = {
  kafka: Effect.map(Effect.all([kafka, stages]), ([a, b]) => ({ ...a, ...b })),
  kafkaAndShards: Effect.map(Effect.all([kafka, shards, stages]), ([a, b, c]) => ({ ...a, ...b, ...c })),
}

/** Records each stage is behind the end of what it reads (as of its last batch). */
export const stageLag = Effect.map(Effect.service(Stages), (s) => {
  const out: Record<string, number> = {}
  for (const [name, status] of s.status()) out[name] = status.lag
  return out
})

const routes = <R>(health: Checks<R>) =>
  Layer.mergeAll(
    HttpRouter.add(
      "GET",
      "/metrics",
      Effect.map(metricsText, (text) => HttpServerResponse.text(text)),
    ),
    HttpRouter.add(
      "GET",
      "/healthz",
      Effect.gen(function* () {
        const checks = yield* health
        const lag = yield* stageLag
        const ok = Object.values(checks).every((c) => c === "ok")
        return yield* HttpServerResponse.json(
          { status: ok ? "ok" : "degraded", checks, lag },
          { status: ok ? 200 : 503 },
        )
      }),
    ),
  )

export const SystemServer = <R>(health: Checks<R>) =>
  Layer.unwrap(
    Effect.map(Effect.service(TallyConfig), (s) =>
      Option.match(s.metricsPort, {
        onNone: () => Layer.empty,
        onSome: (port) =>
          HttpRouter.serve(routes(health), { disableLogger: true, disableListenLog: true }).pipe(
            Layer.provide(
              NodeHttpServer.layer(createServer, {
                port,
                ...(Option.isSome(s.host) ? { host: s.host.value } : {}),
              }),
            ),
          ),
      }),
    ),
  )
