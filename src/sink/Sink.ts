/**
 * The sink service: summary topics into the shards (COPY batches, RETRY on failure), platform events
 * into their day schemas, and the retention job (hourly). The retrier is a service of its own.
 * On a graceful stop, pending batches are written and their offsets committed.
 */
import { Context, Effect, Layer, Schedule, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import { PARTITIONS, rawTopic } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { runStage } from "../stream/Quiesce.ts"
import { eventsTopology } from "./Events.ts"
import { runRetention } from "./Retention.ts"
import { retrierTopology, retryTopics } from "./Retrier.ts"
import { type SinkOptions, sinkTopology, summaryTopics } from "./Topology.ts"

const ALL = Array.from({ length: PARTITIONS }, (_, p) => p)

export const sinkOptions = (prefix: string): SinkOptions => ({
  group: `${prefix}tally-sink`,
  prefix,
  partitions: ALL,
  lingerMs: 500,
  tries: 3,
  shardCooldownMs: 5000,
})

export class Sink extends Context.Service<Sink, { readonly options: SinkOptions }>()("tally/sink/Sink") {
  static readonly layer = Layer.effect(
    Sink,
    Effect.gen(function* () {
      const bus = yield* Bus
      const settings = yield* TallyConfig
      const options = sinkOptions(settings.topicPrefix)
      const source = bus.consume({
        group: options.group,
        topics: summaryTopics(options.prefix),
        partitions: ALL,
      })
      // Graceful stop: write what is still arriving (e.g. the aggregator's final flush), then the rest, then commit.
      yield* runStage("sink", (stop, quiet) => sinkTopology(options, quiet.watch(source), stop), 1000, 8000)
      const eventsGroup = `${options.prefix}tally-sink-events`
      yield* eventsTopology(
        eventsGroup,
        bus.consume({
          group: eventsGroup,
          topics: [rawTopic("PLATFORM_EVENTS", options.prefix)],
          partitions: ALL,
        }),
      ).pipe(
        Stream.runDrain,
        Effect.tapCause((c) => Effect.logError("events sink stopped", c)),
        Effect.forkScoped,
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

export class Retrier extends Context.Service<Retrier, { readonly group: string }>()("tally/sink/Retrier") {
  static readonly layer = Layer.effect(
    Retrier,
    Effect.gen(function* () {
      const bus = yield* Bus
      const settings = yield* TallyConfig
      const group = `${settings.topicPrefix}tally-retrier`
      yield* retrierTopology(
        group,
        settings.topicPrefix,
        bus.consume({ group, topics: retryTopics(settings.topicPrefix), partitions: ALL }),
      ).pipe(
        Stream.runDrain,
        Effect.tapCause((c) => Effect.logError("retrier stopped", c)),
        Effect.forkScoped,
      )
      yield* Effect.logInfo("retrier: RETRY topics into the shards")
      return Retrier.of({ group })
    }),
  )
}
