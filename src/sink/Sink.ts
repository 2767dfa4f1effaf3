/**
 * The sink service: summary topics into the shards (COPY batches, RETRY on failure), platform events
 * into their day schemas, and the retention job (hourly). The retrier is a service of its own.
 * On a graceful stop, pending batches are written and their offsets committed; the two stages stop
 * together, within the process's stop budget (Stage.ts: what a hung shard or a down broker holds in
 * flight is abandoned uncommitted, and read again at the next start).
 */
import { Context, Effect, Layer, Schedule, type Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { BusError, Delivery } from "../bus/Records.ts"
import { groups, PARTITIONS, rawTopic } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { runStage, type StageOptions, stopGroup } from "../stream/Stage.ts"
import { eventsTopology } from "./Events.ts"
import { runRetention } from "./Retention.ts"
import { type RetrierOptions, retrierTopology, retryTopics } from "./Retrier.ts"
import { BATCH_ROWS } from "./ShardWriter.ts"
import { type SinkOptions, sinkTopology, summaryTopics } from "./Topology.ts"

const ALL = Array.from({ length: PARTITIONS }, (_, p) => p)

export const sinkOptions = (prefix: string): SinkOptions => ({
  group: groups.sink(prefix),
  prefix,
  partitions: ALL,
  batchRows: BATCH_ROWS,
  // Each batch is a transaction on its shard (COPY + upsert): ~2 ms of the sink's CPU whatever its
  // rows. Summaries arrive spread over each flushAfter, so the linger sets how many rows share one.
  lingerMs: 2000,
  tries: 3,
  tryTimeoutMs: 2000,
  shardCooldownMs: 5000,
  laneCapacity: 8,
  commitIntervalMs: 1000,
})

export const retrierOptions = (prefix: string): RetrierOptions => ({
  group: groups.retrier(prefix),
  prefix,
  batchRows: BATCH_ROWS,
  lingerMs: 200,
  tryTimeoutMs: 5000,
  laneCapacity: 16,
  commitIntervalMs: 1000,
})

/** Runs a stage of the sink's process: `group`'s consumer of `topics`, every partition, into `topology`. */
const runOn = Effect.fnUntraced(function* <A, E, R>(
  name: string,
  subscription: { readonly group: string; readonly topics: ReadonlyArray<string> },
  topology: (source: Stream.Stream<Delivery, BusError>, stop: Effect.Effect<void>) => Stream.Stream<A, E, R>,
  options: StageOptions,
) {
  const bus = yield* Bus
  yield* runStage(name, bus.consume({ ...subscription, partitions: ALL }), topology, options)
})

export class Sink extends Context.Service<Sink, { readonly options: SinkOptions }>()("tally/sink/Sink") {
  static readonly layer = Layer.effect(
    Sink,
    Effect.gen(function* () {
      const settings = yield* TallyConfig
      const options = sinkOptions(settings.topicPrefix)
      // The two stages read apart and write apart: neither waits for the other's stop.
      const together = yield* stopGroup
      // Graceful stop: write what is still arriving (e.g. the aggregator's final flush), then the rest, then commit.
      yield* runOn(
        "sink",
        { group: options.group, topics: summaryTopics(options.prefix) },
        (source, stop) => sinkTopology(options, source, stop),
        { quietMs: 1000, maxQuietMs: 8000, stopsWith: together },
      )
      yield* runOn(
        "events",
        { group: groups.events(options.prefix), topics: [rawTopic("PLATFORM_EVENTS", options.prefix)] },
        (source, stop) =>
          eventsTopology({ lingerMs: 200, laneCapacity: 16, commitIntervalMs: 1000 }, source, stop),
        { quietMs: 500, maxQuietMs: 5000, stopsWith: together },
      )
      yield* runRetention(settings.retentionDays).pipe(
        Effect.tap((dropped) =>
          dropped.length > 0 ? Effect.logInfo(`retention dropped ${dropped.join(", ")}`) : Effect.void,
        ),
        Effect.catch((e) => Effect.logWarning(`retention: ${e.message}`)),
        Effect.repeat(Schedule.spaced("1 hour")),
        Effect.forkScoped,
      )
      yield* Effect.logInfo(
        `sink: summaries and events into ${settings.pgShards._tag === "Some" ? settings.pgShards.value.length : 1} shard(s)`,
      )
      return Sink.of({ options })
    }),
  )
}

export class Retrier extends Context.Service<Retrier, { readonly options: RetrierOptions }>()(
  "tally/sink/Retrier",
) {
  static readonly layer = Layer.effect(
    Retrier,
    Effect.gen(function* () {
      const settings = yield* TallyConfig
      const options = retrierOptions(settings.topicPrefix)
      yield* runOn(
        "retrier",
        { group: options.group, topics: retryTopics(options.prefix) },
        (source, stop) => retrierTopology(options, source, stop),
        { quietMs: 500, maxQuietMs: 5000 },
      )
      yield* Effect.logInfo("retrier: RETRY topics into the shards")
      return Retrier.of({ options })
    }),
  )
}
