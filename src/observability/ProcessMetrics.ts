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

/** The /metrics body of every process: the process memory sampled now, then every metric as Prometheus text. */
export const metricsText = Effect.andThen(sampleProcessMemory, PrometheusMetrics.format())
