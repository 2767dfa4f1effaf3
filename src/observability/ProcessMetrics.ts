/**
 * The process's own memory on /metrics, read when /metrics is asked: resident memory, and of it the
 * JavaScript heap, memory outside it that JavaScript objects hold (Buffers, WebAssembly memory such as
 * embedded PGlite's), and the ArrayBuffers among that. Operators alert on resident memory; the parts
 * say where it went.
 */
import { Effect, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"

const gauge = (name: string, description: string) => Metric.gauge(name, { description })

const resident = gauge("tally_process_resident_bytes", "resident memory of this process")
const heapUsed = gauge("tally_process_heap_used_bytes", "JavaScript heap in use")
const heapTotal = gauge("tally_process_heap_total_bytes", "JavaScript heap reserved")
const external = gauge(
  "tally_process_external_bytes",
  "memory held outside the JavaScript heap by JavaScript objects (Buffers, WebAssembly memory)",
)
const arrayBuffers = gauge("tally_process_array_buffers_bytes", "of the external memory, ArrayBuffers")

/** Sets the process memory gauges to now's values. */
export const sampleProcessMemory = Effect.suspend(() => {
  const m = process.memoryUsage()
  return Effect.all(
    [
      Metric.update(resident, m.rss),
      Metric.update(heapUsed, m.heapUsed),
      Metric.update(heapTotal, m.heapTotal),
      Metric.update(external, m.external),
      Metric.update(arrayBuffers, m.arrayBuffers),
    ],
    { discard: true },
  )
})

/**
 * The metrics of this process's other threads (a thread of its own keeps its own registry: `tally all`'s
 * aggregator thread), each as Prometheus text; a thread adds itself for the life of its scope.
 */
const threads = new Set<Effect.Effect<string>>()

export const addThreadMetrics = (text: Effect.Effect<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => threads.add(text)),
    () => Effect.sync(() => threads.delete(text)),
  )

/**
 * Prometheus texts as one: a family (its HELP and TYPE lines, then its samples) that more than one
 * text has appears once, with every text's samples (the threads label them apart: stage, topic, ...).
 */
export const mergePrometheus = (texts: ReadonlyArray<string>): string => {
  const families = new Map<string, { head: Array<string>; samples: Array<string> }>()
  for (const text of texts) {
    let current: { head: Array<string>; samples: Array<string> } | undefined
    for (const line of text.split("\n")) {
      if (line === "") continue
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line)
      if (meta) {
        const name = meta[2]!
        current = families.get(name)
        const fresh = current === undefined
        if (!current) families.set(name, (current = { head: [], samples: [] }))
        if (fresh || !current.head.some((h) => h.startsWith(`# ${meta[1]} `))) current.head.push(line)
        continue
      }
      if (!current) families.set(line, (current = { head: [], samples: [] }))
      current.samples.push(line)
    }
  }
  let out = ""
  for (const f of families.values()) for (const line of [...f.head, ...f.samples]) out += `${line}\n`
  return out
}

/** The /metrics body of every process: the process memory sampled now, then every metric (every thread's) as Prometheus text. */
export const metricsText = Effect.gen(function* () {
  yield* sampleProcessMemory
  const own = yield* PrometheusMetrics.format()
  if (threads.size === 0) return own
  const others = yield* Effect.forEach(
    [...threads],
    (text) => text.pipe(Effect.timeoutOrElse({ duration: "2 seconds", orElse: () => Effect.succeed("") })),
    { concurrency: "unbounded" },
  )
  return mergePrometheus([own, ...others])
})
