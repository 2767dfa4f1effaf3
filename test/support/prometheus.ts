/**
 * A real Prometheus for tests (Debian's prometheus 2.42 at /usr/bin/prometheus, installed by .ci/run):
 * started on a free port with a temporary config and TSDB, its HTTP API wrapped for queries, and stopped
 * (its directory removed) by `stop()`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "../e2e/support.ts"
import { within } from "./eventually.ts"

export const PROMETHEUS = process.env.TALLY_PROMETHEUS ?? "/usr/bin/prometheus"
export const PROMTOOL = process.env.TALLY_PROMTOOL ?? "/usr/bin/promtool"

export interface RemoteRead {
  readonly url: string
  readonly token: string
  readonly name?: string
}

export interface ScrapeJob {
  readonly job: string
  readonly targets: ReadonlyArray<string>
  readonly metricsPath?: string
}

export interface PrometheusOptions {
  readonly remoteRead?: ReadonlyArray<RemoteRead>
  readonly scrape?: ReadonlyArray<ScrapeJob>
  /** Rule files (absolute paths). */
  readonly ruleFiles?: ReadonlyArray<string>
  readonly scrapeInterval?: string
  readonly evaluationInterval?: string
}

/** One value of a vector or a matrix, as Prometheus' API gives it: [seconds, "value"]. */
export type PromValue = [number, string]
export interface PromSeries {
  readonly metric: Record<string, string>
  readonly value?: PromValue
  readonly values?: ReadonlyArray<PromValue>
}
export interface PromAnswer<A> {
  readonly status: "success" | "error"
  readonly data: A
  readonly error?: string
  readonly errorType?: string
  readonly warnings?: ReadonlyArray<string>
}

export interface Prometheus {
  readonly base: string
  readonly config: string
  readonly query: (
    expr: string,
    timeMs?: number,
  ) => Promise<PromAnswer<{ resultType: string; result: Array<PromSeries> }>>
  readonly queryRange: (
    expr: string,
    startMs: number,
    endMs: number,
    stepSeconds: number,
  ) => Promise<PromAnswer<{ resultType: string; result: Array<PromSeries> }>>
  readonly series: (
    match: string,
    startMs: number,
    endMs: number,
  ) => Promise<PromAnswer<Array<Record<string, string>>>>
  readonly get: <A>(path: string, params?: Record<string, string>) => Promise<PromAnswer<A>>
  readonly output: () => string
  readonly stop: () => Promise<void>
}

const yamlString = (s: string) => JSON.stringify(s)

/** The config file's text for `options`. */
export const prometheusConfig = (options: PrometheusOptions): string => {
  const lines = [
    "global:",
    `  scrape_interval: ${options.scrapeInterval ?? "1s"}`,
    `  evaluation_interval: ${options.evaluationInterval ?? "1s"}`,
  ]
  if (options.ruleFiles?.length)
    lines.push("rule_files:", ...options.ruleFiles.map((f) => `  - ${yamlString(f)}`))
  if (options.remoteRead?.length) {
    lines.push("remote_read:")
    options.remoteRead.forEach((r, i) => {
      lines.push(
        `  - name: ${yamlString(r.name ?? `tally-${i}`)}`,
        `    url: ${yamlString(r.url)}`,
        "    read_recent: true",
        "    authorization:",
        `      credentials: ${yamlString(r.token)}`,
      )
    })
  }
  if (options.scrape?.length) {
    lines.push("scrape_configs:")
    for (const s of options.scrape)
      lines.push(
        `  - job_name: ${yamlString(s.job)}`,
        `    metrics_path: ${yamlString(s.metricsPath ?? "/metrics")}`,
        "    static_configs:",
        `      - targets: [${s.targets.map(yamlString).join(", ")}]`,
      )
  }
  return `${lines.join("\n")}\n`
}

/** Starts Prometheus with `options` (or a config file's text) and waits until /-/ready answers 200. */
export const startPrometheus = async (
  options: PrometheusOptions | { readonly configText: string },
): Promise<Prometheus> => {
  const dir = mkdtempSync(join(tmpdir(), "tally-prometheus-"))
  const config = join(dir, "prometheus.yml")
  writeFileSync(config, "configText" in options ? options.configText : prometheusConfig(options))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let output = ""
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  )
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      child.kill("SIGTERM")
      if ((await within(exited, 10_000)) === "timeout") {
        child.kill("SIGKILL")
        await exited
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`prometheus exited ${child.exitCode}:\n${output}`)
    }
    const ready = await fetch(`${base}/-/ready`)
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ready) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`prometheus not ready within 60 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const get = async <A>(path: string, params: Record<string, string> = {}): Promise<PromAnswer<A>> => {
    const query = new URLSearchParams(params).toString()
    const r = await fetch(`${base}${path}${query === "" ? "" : `?${query}`}`)
    return (await r.json()) as PromAnswer<A>
  }
  const seconds = (ms: number) => (ms / 1000).toFixed(3)
  return {
    base,
    config,
    get,
    query: (expr, timeMs) =>
      get("/api/v1/query", { query: expr, ...(timeMs === undefined ? {} : { time: seconds(timeMs) }) }),
    queryRange: (expr, startMs, endMs, step) =>
      get("/api/v1/query_range", {
        query: expr,
        start: seconds(startMs),
        end: seconds(endMs),
        step: String(step),
      }),
    series: (match, startMs, endMs) =>
      get("/api/v1/series", { "match[]": match, start: seconds(startMs), end: seconds(endMs) }),
    output: () => output,
    stop,
  }
}

/** Runs promtool with `args`: its exit code and output. */
export const promtool = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number; output: string }>((resolve) =>
    execFile(PROMTOOL, [...args], { timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  )
