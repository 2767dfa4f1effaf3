/**
 * The aggregator thread of `tally all` (started by AggregatorThread.ts): the Aggregator service on its
 * parent's Bus, with settings from the parent. It reports its stages' status every half second and its
 * stage failure at once, answers metrics requests with its own registry's text, and on "stop" stops
 * gracefully (flush, commit) and exits.
 */
import { parentPort, workerData } from "node:worker_threads"
import { Context, Deferred, Duration, Effect, Layer, Logger, References, Schedule } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { Bus } from "../bus/Bus.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { Stages } from "../stream/Stage.ts"
import { Aggregator } from "./Aggregator.ts"
import type { FromThread, ThreadData, ToThread } from "./AggregatorThread.ts"

const port = parentPort!
const { bus, settings } = workerData as ThreadData
const post = (m: FromThread) => port.postMessage(m)

const services = Aggregator.layer.pipe(
  Layer.provideMerge(Stages.layer),
  Layer.provideMerge(Bus.layerRemote(bus)),
  Layer.provideMerge(
    TallyConfig.layerWith({
      topicPrefix: settings.topicPrefix,
      workerIndex: settings.workerIndex,
      workers: settings.workers,
      flushAfter: Duration.millis(settings.flushAfterMs),
      stallTimeout: Duration.millis(settings.stallTimeoutMs),
      logLevel: settings.logLevel,
      logFormat: settings.logFormat,
    }),
  ),
)

const program = Effect.gen(function* () {
  const stop = yield* Deferred.make<void>()
  port.on("message", (m: ToThread) => {
    if (m.t === "stop") Deferred.doneUnsafe(stop, Effect.void)
    else
      Effect.runFork(Effect.map(PrometheusMetrics.format(), (text) => post({ t: "metrics", id: m.id, text })))
  })
  yield* Effect.scoped(
    Effect.gen(function* () {
      const stages = Context.get(yield* Layer.build(services), Stages)
      const report = Effect.sync(() => post({ t: "status", stages: [...stages.status()] }))
      yield* report.pipe(Effect.repeat(Schedule.spaced("500 millis")), Effect.forkScoped)
      yield* Deferred.await(stages.failure).pipe(
        Effect.catch((e) => Effect.sync(() => post({ t: "failed", stage: e.stage, reason: e.reason }))),
        Effect.forkScoped,
      )
      // The status first: once the parent is told "ready", it shows the stage.
      yield* report
      post({ t: "ready" })
      yield* Deferred.await(stop)
      yield* report
    }),
  )
})

program
  .pipe(
    Effect.provideService(References.MinimumLogLevel, settings.logLevel),
    Effect.provide(settings.logFormat === "json" ? Logger.layer([Logger.consoleJson]) : Layer.empty),
    Effect.runPromiseExit,
  )
  .then((exit) => {
    if (exit._tag === "Failure") console.error(`tally: the aggregator thread failed: ${exit.cause}`)
    process.exit(exit._tag === "Success" ? 0 : 1)
  })
