/**
 * The process's own metrics on /metrics, read when /metrics is asked: resident memory, and of it the
 * JavaScript heap, memory outside it that JavaScript objects hold (Buffers, WebAssembly memory such as
 * embedded PGlite's), and the ArrayBuffers among that; CPU time used and when the process started (the
 * names Prometheus' client libraries use, so the usual rules and panels work); and which build runs
 * (`tally_build_info`, always 1). Operators alert on resident memory; the parts say where it went.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"

const gauge = (name: string, description: string) => Metric.gauge(name, { description })

export const resident = gauge("tally_process_resident_bytes", "resident memory of this process")
export const heapUsed = gauge("tally_process_heap_used_bytes", "JavaScript heap in use")
export const heapTotal = gauge("tally_process_heap_total_bytes", "JavaScript heap reserved")
export const external = gauge(
  "tally_process_external_bytes",
  "memory held outside the JavaScript heap by JavaScript objects (Buffers, WebAssembly memory)",
)
export const arrayBuffers = gauge("tally_process_array_buffers_bytes", "of the external memory, ArrayBuffers")
export const startTime = gauge(
  "process_start_time_seconds",
  "start time of the process since the Unix epoch, in seconds",
)
export const cpuSeconds = Metric.counter("process_cpu_seconds_total", {
  description: "user and system CPU time the process has used, in seconds",
  incremental: true,
})
export const buildInfo = gauge(
  "tally_build_info",
  "always 1; the labels name the tally version and the Node.js version running it",
)

/** tally's version, from its package.json. */
export const VERSION: string = (() => {
  try {
    return (
      JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8")) as { version: string }
    ).version
  } catch {
    return "unknown"
  }
})()

export const buildLabels = { version: VERSION, node: process.version }

const startedAt = Date.now() / 1000 - process.uptime()
/** CPU microseconds already counted (the counter only adds). */
let cpuCounted = 0

/** Sets the process gauges to now's values and adds the CPU time used since the last sample. */
export const sampleProcessMemory = Effect.suspend(() => {
  const m = process.memoryUsage()
  const cpu = process.cpuUsage()
  const used = cpu.user + cpu.system
  const delta = Math.max(0, used - cpuCounted)
  cpuCounted = Math.max(cpuCounted, used)
  return Effect.all(
    [
      Metric.update(resident, m.rss),
      Metric.update(heapUsed, m.heapUsed),
      Metric.update(heapTotal, m.heapTotal),
      Metric.update(external, m.external),
      Metric.update(arrayBuffers, m.arrayBuffers),
      Metric.update(startTime, startedAt),
      Metric.update(cpuSeconds, delta / 1e6),
      Metric.update(Metric.withAttributes(buildInfo, buildLabels), 1),
    ],
    { discard: true },
  )
})

/** The /metrics body of every process: the process metrics sampled now, then every metric as Prometheus text. */
export const metricsText = Effect.andThen(sampleProcessMemory, PrometheusMetrics.format())
