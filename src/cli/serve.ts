/**
 * The long-running services, each a composition of layers launched until SIGTERM/SIGINT. Settings and
 * the Bus come from the command's context; everything else a service needs is composed here.
 */
import { Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { Aggregator } from "../aggregator/Aggregator.ts"
import { HttpLive } from "../api/Server.ts"
import { AdminToken } from "../apps/AdminToken.ts"
import { Apps } from "../apps/Apps.ts"
import { EnsureTopics } from "../bus/EnsureTopics.ts"
import { Ingress } from "../ingress/Ingress.ts"
import { Shards } from "../store/Shards.ts"

/** Drains in, raw topics out; serves the HTTP API on TALLY_PORT. */
export const IngressService = HttpLive.pipe(
  Layer.provide(Ingress.layer),
  Layer.provide(Apps.layer),
  Layer.provide(AdminToken.layer),
  Layer.provide(Shards.layer),
  Layer.provide(EnsureTopics),
)

/** Raw topics in, summary topics out (worker TALLY_WORKER_INDEX of TALLY_WORKERS). */
export const AggregatorService = Aggregator.layer.pipe(Layer.provide(EnsureTopics))

const launch =
  <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  () =>
    Layer.launch(layer).pipe(Effect.asVoid)

export const ingress = Command.make("ingress", {}, launch(IngressService)).pipe(
  Command.withDescription(
    "receive Logplex drains (POST /logs) into the raw topics; serves the API on TALLY_PORT",
  ),
)

export const aggregator = Command.make("aggregator", {}, launch(AggregatorService)).pipe(
  Command.withDescription(
    "roll raw measurements up into 1m and 15m summaries (worker TALLY_WORKER_INDEX of TALLY_WORKERS)",
  ),
)
