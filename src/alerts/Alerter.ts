/**
 * The alerter service (`tally alerter`, and part of `tally all`): worker i of N (TALLY_WORKER_INDEX,
 * TALLY_WORKERS) reads the summary partitions p with p mod N == i — those of aggregator worker i — in a
 * consumer group of its own (`tally-alerter.w<i>of<N>`; a second process with the same index stands by),
 * evaluates the rules of those partitions' apps and process types (Topology.ts, Evaluator.ts), and
 * delivers their notifications (Delivery.ts) while it owns them.
 */
import { Context, Duration, Effect, Layer, Option } from "effect"
import { publicBase } from "../apps/http.ts"
import { Bus } from "../bus/Bus.ts"
import { partitionsOfWorker } from "../bus/Partitioner.ts"
import { groups, PARTITIONS } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { runStage } from "../stream/Stage.ts"
import { AlertStore } from "./AlertStore.ts"
import { makeDeliverer } from "./Delivery.ts"
import { type AlerterOptions, alerterTopics, alerterTopology } from "./Topology.ts"
import { selfSpec } from "./WebhookUrl.ts"

export const alertmanagerEndpoint = (base: string) => `${base.replace(/\/+$/, "")}/api/v2/alerts`

export class Alerter extends Context.Service<Alerter, { readonly options: AlerterOptions }>()(
  "tally/alerts/Alerter",
) {
  static readonly layer = Layer.effect(
    Alerter,
    Effect.gen(function* () {
      const settings = yield* TallyConfig
      const bus = yield* Bus
      const store = yield* AlertStore
      const options: AlerterOptions = {
        group: groups.alerter(settings.topicPrefix, settings.workerIndex, settings.workers),
        prefix: settings.topicPrefix,
        partitions: partitionsOfWorker(settings.workerIndex, settings.workers, PARTITIONS),
        flushAfterMs: Duration.toMillis(settings.flushAfter),
        alertmanagerUrl: Option.getOrUndefined(Option.map(settings.alertmanagerUrl, alertmanagerEndpoint)),
        publicBase: publicBase(settings, settings.port),
        commitIntervalMs: 1000,
        rulesEveryMs: 1000,
        barrierMaxMs: 30_000,
      }
      const deliverer = yield* makeDeliverer({
        store,
        self: selfSpec(
          settings.port,
          Option.getOrUndefined(settings.publicUrl),
          Option.getOrUndefined(settings.host),
        ),
      })
      yield* Effect.forkScoped(deliverer.run)
      yield* runStage(
        "alerter",
        bus.consume({
          group: options.group,
          topics: alerterTopics(options.prefix),
          partitions: options.partitions,
          bufferBatches: 4,
        }),
        (source, stop) => alerterTopology(options, source, deliverer, stop),
        { quietMs: 200, maxQuietMs: 2000 },
      )
      yield* Effect.logInfo(
        `alerter worker ${settings.workerIndex} of ${settings.workers}: partitions ${options.partitions.join(",")}${options.alertmanagerUrl ? `, Alertmanager ${Option.getOrUndefined(settings.alertmanagerUrl)}` : ""}`,
      )
      return Alerter.of({ options })
    }),
  )
}
