/**
 * `tally alerter`: the alert evaluator as a service of its own (worker TALLY_WORKER_INDEX of
 * TALLY_WORKERS, the aggregator's split), serving /metrics and health on TALLY_METRICS_PORT (default 8083). `tally all`
 * runs the same stage (`AlerterStage`) beside the others.
 */
import { Layer } from "effect"
import { Command } from "effect/cli"
import { Alerter } from "../alerts/Alerter.ts"
import { AlertStore } from "../alerts/AlertStore.ts"
import { EnsureTopics } from "../bus/EnsureTopics.ts"
import { MetricsFromZero } from "../observability/Catalogue.ts"
import { healthOf, SystemServer } from "../observability/SystemServer.ts"
import { Shards } from "../store/Shards.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { launch } from "./launch.ts"

/** The alerter stage with its rule store (on the Shards and SummaryStore of the process). */
export const AlerterStage = Alerter.layer.pipe(Layer.provide(AlertStore.layer))

export const AlerterService = Layer.mergeAll(
  AlerterStage,
  SystemServer(healthOf.kafkaAndShards, { service: "alerter" }),
  MetricsFromZero(["process", "alerter", "consumer"], ["alerter"]),
).pipe(Layer.provide(SummaryStore.layer), Layer.provide(Shards.layer), Layer.provide(EnsureTopics))

export const alerter = Command.make("alerter", {}, () =>
  launch("alerter", { bus: true, store: true }, AlerterService),
).pipe(
  Command.withDescription(
    "evaluate alert rules on the summary topics and deliver their notifications (worker TALLY_WORKER_INDEX of TALLY_WORKERS)",
  ),
)
