/**
 * /metrics, /livez, /readyz and /healthz for the stages that serve no API (aggregator, sink, retrier,
 * alerter). Every such process serves them: on TALLY_METRICS_PORT when it is set, else on its service's
 * default port (DEFAULT_METRICS_PORTS; an aggregator worker's is 8090 + TALLY_WORKER_INDEX), so each
 * stage of one host has its own port without configuration. The HTTP surface (ingress, api, all) serves
 * the same paths on TALLY_PORT.
 */

import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { Bus } from "../bus/Bus.ts"
import { type Settings, TallyConfig } from "../config/TallyConfig.ts"
import { Shards } from "../store/Shards.ts"
import { failingReason, Stages } from "../stream/Stage.ts"
import { liveness, type Report, readiness } from "./Health.ts"
import { metricsText } from "./ProcessMetrics.ts"

export { stageLag } from "./Health.ts"

/** The services that serve /metrics and health on a port of their own, and their default ports. */
export const DEFAULT_METRICS_PORTS = {
  sink: 8081,
  retrier: 8082,
  alerter: 8083,
  /** Worker i of TALLY_WORKERS serves on 8090 + i (8090-8121). */
  aggregator: 8090,
} as const
export type SystemService = keyof typeof DEFAULT_METRICS_PORTS

/** Where a service serves /metrics and health: TALLY_METRICS_PORT, else its default. */
export const metricsPortOf = (service: SystemService, settings: Settings): number =>
  Option.getOrElse(
    settings.metricsPort,
    () => DEFAULT_METRICS_PORTS[service] + (service === "aggregator" ? settings.workerIndex : 0),
  )

const check = <E>(effect: Effect.Effect<unknown, E>) =>
  effect.pipe(
    Effect.timeout("3 seconds"),
    Effect.as("ok"),
    Effect.catch((e) => Effect.succeed(`down: ${(e as { message?: string })?.message ?? String(e)}`)),
  )

type Checks<R> = Effect.Effect<Record<string, string>, never, R>

/** The bus: named `kafka` with TALLY_KAFKA_BROKERS, else `log` (the embedded log in the data dir). */
const kafka: Checks<Bus> = Effect.gen(function* () {
  const bus = yield* Bus
  const settings = yield* Effect.serviceOption(TallyConfig)
  const name = Option.isSome(settings) && Option.isNone(settings.value.kafkaBrokers) ? "log" : "kafka"
  return { [name]: yield* check(bus.health) }
})

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

/** The checks of a process: the bus alone (the aggregator), or the bus and every shard, and the stages. */
export const healthOf = {
  kafka: Effect.map(Effect.all([kafka, stages]), ([a, b]) => ({ ...a, ...b })),
  kafkaAndShards: Effect.map(Effect.all([kafka, shards, stages]), ([a, b, c]) => ({ ...a, ...b, ...c })),
}

const answer = (report: Report) =>
  HttpServerResponse.jsonUnsafe(report, { status: report.status === "down" ? 503 : 200 })

const routes = <R>(health: Checks<R>) =>
  Layer.mergeAll(
    HttpRouter.add(
      "GET",
      "/metrics",
      Effect.map(metricsText, (text) =>
        HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4" }),
      ),
    ),
    HttpRouter.add("GET", "/livez", Effect.map(liveness, answer)),
    HttpRouter.add("GET", "/readyz", Effect.map(readiness(health), answer)),
    HttpRouter.add("GET", "/healthz", Effect.map(readiness(health), answer)),
  )

/**
 * Serves /metrics, /livez, /readyz and /healthz with `health`'s checks, on the service's port (see
 * metricsPortOf). Without a service it is served only when TALLY_METRICS_PORT is set.
 */
export const SystemServer = <R>(health: Checks<R>, options?: { readonly service?: SystemService }) =>
  Layer.unwrap(
    Effect.map(Effect.service(TallyConfig), (s) => {
      const port =
        options?.service === undefined
          ? Option.getOrUndefined(s.metricsPort)
          : metricsPortOf(options.service, s)
      if (port === undefined) return Layer.empty
      return HttpRouter.serve(routes(health), { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provide(
          NodeHttpServer.layer(createServer, {
            port,
            ...(Option.isSome(s.host) ? { host: s.host.value } : {}),
          }),
        ),
      )
    }),
  )
