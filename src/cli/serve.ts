/**
 * The long-running services, each a composition of layers launched until SIGTERM/SIGINT. Settings and
 * the Bus come from the command's context; everything else a service needs is composed here.
 */
import { Layer } from "effect"
import { Command } from "effect/cli"
import { Aggregator } from "../aggregator/Aggregator.ts"
import { AdminToken } from "../apps/AdminToken.ts"
import { Apps } from "../apps/Apps.ts"
import { EnsureTopics } from "../bus/EnsureTopics.ts"
import { HttpLive } from "../http/Server.ts"
import { Backpressure } from "../ingress/Backpressure.ts"
import { Cardinality } from "../ingress/Cardinality.ts"
import { Ingress } from "../ingress/Ingress.ts"
import { MetricsFromZero } from "../observability/Catalogue.ts"
import { healthOf, SystemServer } from "../observability/SystemServer.ts"
import { Query } from "../query/Query.ts"
import { Retrier, Sink } from "../sink/Sink.ts"
import { Shards } from "../store/Shards.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { AnnounceServer, type Parts } from "./DataDir.ts"
import { launch } from "./launch.ts"

/**
 * What the HTTP surface and the stages need besides settings and the bus; each layer is built once
 * per process however many stages use it (layers are shared by reference).
 */
export const withDependencies = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  layer.pipe(
    Layer.provide(Ingress.layer),
    Layer.provide(Cardinality.layer),
    Layer.provide(Backpressure.layer),
    Layer.provide(Query.layer),
    Layer.provide(SummaryStore.layer),
    Layer.provide(Apps.layer),
    Layer.provide(AdminToken.layer),
    Layer.provide(Shards.layer),
    Layer.provide(EnsureTopics),
  )

/** Drains in, raw topics out; serves the HTTP API on TALLY_PORT (announced to shell commands, DataDir.ts). */
export const IngressService = withDependencies(
  Layer.mergeAll(AnnounceServer, MetricsFromZero(["process", "ingress"])).pipe(Layer.provideMerge(HttpLive)),
)

/** Raw topics in, summary topics out (worker TALLY_WORKER_INDEX of TALLY_WORKERS). */
export const AggregatorService = Layer.mergeAll(
  Aggregator.layer,
  SystemServer(healthOf.kafka, { service: "aggregator" }),
  MetricsFromZero(["process", "aggregator", "consumer"], ["aggregator"]),
).pipe(Layer.provide(EnsureTopics))

/** What each service opens (in the data dir unless Kafka / Postgres shards are set). */
const BUS_AND_STORE = { bus: true, store: true }
const BUS_ONLY = { bus: true, store: false }

const launchCommand =
  <A, E, R>(command: string, parts: Parts, layer: Layer.Layer<A, E, R>) =>
  () =>
    launch(command, parts, layer)

export const ingress = Command.make(
  "ingress",
  {},
  launchCommand("ingress", BUS_AND_STORE, IngressService),
).pipe(
  Command.withDescription(
    "receive Logplex drains (POST /logs) into the raw topics; serves the API on TALLY_PORT",
  ),
)

export const aggregator = Command.make(
  "aggregator",
  {},
  launchCommand("aggregator", BUS_ONLY, AggregatorService),
).pipe(
  Command.withDescription(
    "roll raw measurements up into 1m and 15m summaries (worker TALLY_WORKER_INDEX of TALLY_WORKERS)",
  ),
)

/** Summary topics into the shards; platform events; retention. */
export const SinkService = Layer.mergeAll(
  Sink.layer,
  SystemServer(healthOf.kafkaAndShards, { service: "sink" }),
  MetricsFromZero(["process", "sink", "consumer"], ["sink", "events"]),
).pipe(Layer.provide(SummaryStore.layer), Layer.provide(Shards.layer), Layer.provide(EnsureTopics))

/** RETRY topics into the shards, with backoff, forever. */
export const RetrierService = Layer.mergeAll(
  Retrier.layer,
  SystemServer(healthOf.kafkaAndShards, { service: "retrier" }),
  MetricsFromZero(["process", "retrier", "consumer"], ["retrier"]),
).pipe(Layer.provide(SummaryStore.layer), Layer.provide(Shards.layer), Layer.provide(EnsureTopics))

export const sink = Command.make("sink", {}, launchCommand("sink", BUS_AND_STORE, SinkService)).pipe(
  Command.withDescription(
    "write summaries (COPY batches) and events into the Postgres shards; runs retention hourly",
  ),
)

export const retrier = Command.make(
  "retrier",
  {},
  launchCommand("retrier", BUS_AND_STORE, RetrierService),
).pipe(Command.withDescription("write the RETRY topics into the shards with exponential backoff, forever"))

/** The read API and the dashboard (the same HTTP surface as `tally ingress`, deployable apart). */
export const api = Command.make("api", {}, launchCommand("api", BUS_AND_STORE, IngressService)).pipe(
  Command.withDescription(
    "serve the metrics API and the dashboard on TALLY_PORT (and /logs: one HTTP surface)",
  ),
)
