/**
 * The aggregator service: worker i of N (TALLY_WORKER_INDEX, TALLY_WORKERS) owns the partitions p with
 * p mod N == i of every rolled-up raw topic, in a consumer group of its own (a second process with the
 * same index stands by). It runs the topology until its scope closes, then stops gracefully: emits every
 * changed window and commits, within the stop budget (10 s, src/stream/Stage.ts "A bounded stop"; what
 * is not flushed by then is read again at the next start).
 */
import { Context, Duration, Effect, Layer } from "effect"
import { Bus } from "../bus/Bus.ts"
import { partitionsOfWorker } from "../bus/Partitioner.ts"
import { groups, PARTITIONS } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { RolledUpTypes } from "../domain/MeasurementType.ts"
import { runStage } from "../stream/Stage.ts"
import { rawTopics, type TopologyOptions, topology } from "./Topology.ts"

export class Aggregator extends Context.Service<Aggregator, { readonly options: TopologyOptions }>()(
  "tally/aggregator/Aggregator",
) {
  static readonly layer = Layer.effect(
    Aggregator,
    Effect.gen(function* () {
      const settings = yield* TallyConfig
      const bus = yield* Bus
      const options: TopologyOptions = {
        group: groups.aggregator(settings.topicPrefix, settings.workerIndex, settings.workers),
        prefix: settings.topicPrefix,
        types: RolledUpTypes,
        partitions: partitionsOfWorker(settings.workerIndex, settings.workers, PARTITIONS),
        flushAfterMs: Duration.toMillis(settings.flushAfter),
        commitIntervalMs: 1000,
      }
      const source = bus.consume({
        group: options.group,
        topics: rawTopics(options),
        partitions: options.partitions,
        // Batches read ahead of the one being folded: 4 keep it busy (a batch is up to 4,096 records in
        // embedded mode, a fetch on Kafka); with 16, a heap snapshot taken while it was behind found 14 MB
        // of record buffers waiting.
        bufferBatches: 4,
      })
      // Graceful stop: finish what is arriving (quiet for 500 ms, at most 5 s), then flush and commit.
      yield* runStage("aggregator", source, (source, stop) => topology(options, source, stop), {
        quietMs: 500,
        maxQuietMs: 5000,
      })
      yield* Effect.logInfo(
        `aggregator worker ${settings.workerIndex} of ${settings.workers}: partitions ${options.partitions.join(",")}`,
      )
      return Aggregator.of({ options })
    }),
  )
}
