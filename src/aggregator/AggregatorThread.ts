/**
 * `tally all`'s aggregator in a thread of its own (src/aggregator/thread.ts), so rolling up does not
 * compete with the drains for the one thread that parses them. Its Bus is this thread's (RemoteBus.ts):
 * group, offsets and commits stay here, so backpressure, retention and /healthz see its commits as
 * before. Its stage's status is mirrored into this process's Stages (/healthz, the stall watchdog's
 * verdict, a failure ends the process), its metrics are on this process's /metrics, and a stop is the
 * same graceful stop as in one thread: finish what is arriving, flush, commit, then the thread exits.
 */
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads"
import { Deferred, Duration, Effect } from "effect"
import { Bus } from "../bus/Bus.ts"
import { serveBus } from "../bus/RemoteBus.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { addThreadMetrics } from "../observability/ProcessMetrics.ts"
import { StageFailed, type StageStatus, Stages } from "../stream/Stage.ts"

/** The settings the thread needs, as plain data (what crosses to it). */
export interface ThreadSettings {
  readonly topicPrefix: string
  readonly workerIndex: number
  readonly workers: number
  readonly flushAfterMs: number
  readonly stallTimeoutMs: number
  readonly logLevel: "Trace" | "Debug" | "Info" | "Warn" | "Error"
  readonly logFormat: "pretty" | "json"
}

export interface ThreadData {
  readonly bus: MessagePort
  readonly settings: ThreadSettings
}

export type FromThread =
  | { readonly t: "ready" }
  | { readonly t: "status"; readonly stages: ReadonlyArray<readonly [string, StageStatus]> }
  | { readonly t: "failed"; readonly stage: string; readonly reason: string }
  | { readonly t: "metrics"; readonly id: number; readonly text: string }

export type ToThread = { readonly t: "stop" } | { readonly t: "metrics"; readonly id: number }

/** The longest a stop waits for the thread's graceful stop (it bounds its own at 20 s). */
const STOP_WITHIN = Duration.seconds(25)

/** Starts the aggregator thread in the current scope; the scope's close stops it gracefully. */
export const runAggregatorThread = Effect.fnUntraced(function* () {
  const settings = yield* TallyConfig
  const bus = yield* Bus
  const stages = yield* Stages
  const { port1, port2 } = new MessageChannel()
  yield* serveBus(bus, port1)
  const data: ThreadData = {
    bus: port2,
    settings: {
      topicPrefix: settings.topicPrefix,
      workerIndex: settings.workerIndex,
      workers: settings.workers,
      flushAfterMs: Duration.toMillis(settings.flushAfter),
      stallTimeoutMs: Duration.toMillis(settings.stallTimeout),
      logLevel: settings.logLevel,
      logFormat: settings.logFormat,
    },
  }
  const worker = new Worker(new URL("./thread.ts", import.meta.url), {
    workerData: data,
    transferList: [port2],
    // Not the parent's execArgv: per-process flags (--expose-gc, --cpu-prof) are refused in a worker.
    execArgv: ["--disable-warning=ExperimentalWarning"],
  })
  const ready = yield* Deferred.make<void, StageFailed>()
  const exited = yield* Deferred.make<number>()
  const metricsWaiting = new Map<number, (text: string) => void>()
  let nextMetrics = 0
  let stopping = false
  const fail = (stage: string, reason: string) => {
    const failure = new StageFailed({ stage, reason })
    const current = stages.status().get(stage)
    stages.set(stage, { lag: 0, lastBatchAt: undefined, ...current, state: "failed", reason })
    Deferred.doneUnsafe(ready, Effect.fail(failure))
    Deferred.doneUnsafe(stages.failure, Effect.fail(failure))
  }
  worker.on("message", (m: FromThread) => {
    switch (m.t) {
      case "ready":
        return Deferred.doneUnsafe(ready, Effect.void)
      case "status":
        for (const [name, status] of m.stages)
          if (stages.status().get(name)?.state !== "failed") stages.set(name, status)
        return
      case "failed":
        return fail(m.stage, m.reason)
      case "metrics": {
        metricsWaiting.get(m.id)?.(m.text)
        metricsWaiting.delete(m.id)
      }
    }
  })
  worker.on("error", (cause) => fail("aggregator", `its thread failed: ${String(cause)}`))
  worker.on("exit", (code) => {
    Deferred.doneUnsafe(exited, Effect.succeed(code))
    for (const resume of metricsWaiting.values()) resume("")
    metricsWaiting.clear()
    if (!stopping) fail("aggregator", `its thread exited (code ${code})`)
  })
  const post = (m: ToThread) => worker.postMessage(m)
  yield* addThreadMetrics(
    Effect.callback<string>((resume) => {
      const id = nextMetrics++
      metricsWaiting.set(id, (text) => resume(Effect.succeed(text)))
      post({ t: "metrics", id })
      return Effect.sync(() => metricsWaiting.delete(id))
    }),
  )
  // Added after serveBus: the scope closes this first, so the thread stops while its bus still answers.
  yield* Effect.addFinalizer(() =>
    Effect.gen(function* () {
      stopping = true
      post({ t: "stop" })
      const code = yield* Deferred.await(exited).pipe(Effect.timeoutOption(STOP_WITHIN))
      if (code._tag === "None") {
        yield* Effect.logWarning("the aggregator thread did not stop in time: terminated")
        yield* Effect.promise(() => worker.terminate())
      }
    }),
  )
  yield* Deferred.await(ready)
})
