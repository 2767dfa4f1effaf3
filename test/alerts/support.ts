/**
 * Alerts test support: summary records as the aggregator writes them (built here with the generated
 * encoder and a sketch of the given latencies), a webhook/Alertmanager receiver that counts deliveries
 * by id and checks signatures with its own HMAC, and p95 / error-percent oracles of their own.
 */
import { spawn } from "node:child_process"
import { createHmac, randomUUID } from "node:crypto"
import { createServer, type Server } from "node:http"
import { join } from "node:path"
import { Clock, Effect } from "effect"
import type { OutRecord } from "../../src/bus/Records.ts"
import { summaryTopic } from "../../src/bus/Topics.ts"
import { Sketch } from "../../src/domain/Sketch.ts"
import * as Wire from "../../src/proto/Wire.ts"

export const MINUTE = 60_000

interface Stats {
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
  readonly sketch?: Uint8Array
}

const statsOf = (values: ReadonlyArray<number>, sketched: boolean): Stats => {
  const sketch = new Sketch()
  for (const v of values) sketch.add(v)
  return {
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    ...(sketched ? { sketch: sketch.toBytes() } : {}),
  }
}

export const summary = (
  type: "ROUTER_REQUESTS" | "DYNO_MEMORY" | "DYNO_LOAD",
  owner: string,
  processType: string,
  metric: string,
  label: string,
  startMs: number,
  stats: Stats,
  version: number,
): OutRecord => ({
  topic: summaryTopic(type),
  key: `${owner}:${processType}:${metric}:${label}:1m:${startMs}`,
  timestamp: startMs,
  value: Wire.Summary.encode({
    owner,
    processType,
    metric,
    label,
    period: Wire.Period.PERIOD_1M,
    startMs,
    count: stats.count,
    sum: stats.sum,
    sumsq: 0,
    min: stats.min,
    max: stats.max,
    sketch: stats.sketch ?? new Uint8Array(),
    version,
  }).finish(),
})

/** A minute of router traffic: the service times' summary and one summary per status. */
export const routerMinute = (
  owner: string,
  processType: string,
  startMs: number,
  latencies: ReadonlyArray<number>,
  statuses: Readonly<Record<number, number>>,
  version = 1,
): Array<OutRecord> => [
  ...(latencies.length > 0
    ? [
        summary(
          "ROUTER_REQUESTS",
          owner,
          processType,
          "router_service_ms",
          "",
          startMs,
          statsOf(latencies, true),
          version * latencies.length,
        ),
      ]
    : []),
  ...Object.entries(statuses).map(([status, n]) =>
    summary(
      "ROUTER_REQUESTS",
      owner,
      processType,
      "router_status",
      status,
      startMs,
      { count: n, sum: n, min: 1, max: 1 },
      version * n,
    ),
  ),
]

/** `n` requests of `ms` each, all 200. */
export const requests = (
  owner: string,
  processType: string,
  startMs: number,
  n: number,
  ms: number,
  version = 1,
) =>
  routerMinute(
    owner,
    processType,
    startMs,
    Array.from({ length: n }, () => ms),
    { 200: n },
    version,
  )

/** The p95 of `values` as DDSketch reads it: the value at rank 0.95 * (n - 1), within 1%. */
export const p95Of = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(0.95 * (sorted.length - 1))]!
}

export interface Received {
  readonly url: string
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
  readonly atMs: number
  /** What the receiver answered (0: nothing). */
  readonly status: number
}

/** Checks `X-Tally-Signature` with an HMAC of its own. */
export const signedBy = (secret: string, r: Received) =>
  r.headers["x-tally-signature"] === `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`

/** A receiver in memory (the deliverer's `post` replaced): records every try, answers `status()`. */
export class MemoryReceiver {
  readonly tries: Array<Received> = []
  status: (url: string) => number | undefined = () => 200

  readonly post = (url: string, body: string, headers: Readonly<Record<string, string>>) =>
    Effect.map(Clock.currentTimeMillis, (atMs) => {
      const status = this.status(url)
      this.tries.push({ url, body, headers: { ...headers }, atMs, status: status ?? 0 })
      return status === undefined
        ? { status: undefined, error: "connection refused", refused: false }
        : { status, error: status < 300 ? undefined : `answered ${status}`, refused: false }
    })

  /** Tries that got a 2xx, once per delivery id, in order. */
  // biome-ignore lint/suspicious/noExplicitAny: the payloads are read field by field in the assertions
  acknowledged(filter: (r: Received) => boolean = () => true): Array<Received & { json: any }> {
    const seen = new Set<string>()
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const out: Array<Received & { json: any }> = []
    for (const r of this.tries) {
      const id = r.headers["x-tally-delivery"]!
      if (!filter(r) || seen.has(id) || r.status < 200 || r.status >= 300) continue
      seen.add(id)
      out.push({ ...r, json: JSON.parse(r.body) })
    }
    return out
  }
}

/** A real HTTP receiver: counts deliveries by id, answers `answer()` (0: no answer, hangs). */
export class HttpReceiver {
  readonly received: Array<Received> = []
  answer: () => number = () => 200
  private server: Server | undefined
  port = 0

  start(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      let body = ""
      req.setEncoding("utf8")
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        const status = this.answer()
        this.received.push({
          url: req.url ?? "",
          body,
          headers: req.headers as Record<string, string>,
          atMs: Date.now(),
          status,
        })
        if (status === 0) return
        res.statusCode = status
        res.end()
      })
    })
    this.server = server
    return new Promise((resolve) =>
      server.listen(port, "127.0.0.1", () => {
        this.port = (server.address() as { port: number }).port
        resolve(this.port)
      }),
    )
  }

  stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    return new Promise((resolve) => {
      if (!server) return resolve()
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }

  /** Distinct delivery ids received, with how many times each arrived. */
  byId(): Map<string, { count: number; first: Received }> {
    const out = new Map<string, { count: number; first: Received }>()
    for (const r of this.received) {
      const id = r.headers["x-tally-delivery"]!
      const held = out.get(id)
      if (held) held.count++
      else out.set(id, { count: 1, first: r })
    }
    return out
  }
}

/**
 * A Logplex drain body of `n` router lines (`service=<ms>ms status=<status>`, dyno web.1), stamped `atMs`:
 * written here, not with src's encoder.
 */
export const routerBody = (n: number, ms: number, status: number, atMs: number, dyno = "web.1") => {
  const stamp = `${new Date(atMs).toISOString().slice(0, 23)}000+00:00`
  let body = ""
  for (let i = 0; i < n; i++) {
    const line = `<158>1 ${stamp} host heroku router - at=info method=GET path="/p${i}" host=shop.herokuapp.com request_id=${randomUUID()} fwd="10.0.0.${i % 250}" dyno=${dyno} connect=1ms service=${ms}ms status=${status} bytes=120 protocol=https`
    body += `${Buffer.byteLength(line)} ${line}`
  }
  return body
}

const root = join(import.meta.dirname, "../..")

/** Runs `tally ARGS` to its end (without blocking this process's event loop): exit code and output. */
export const runTally = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(root, "src/main.ts"), ...args], {
      env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** Waits until `probe` gives a value `done` accepts (polling every 500 ms), or fails after `ms` saying what. */
export const waitFor = async <A>(
  what: string,
  probe: () => Promise<A>,
  done: (a: A) => boolean,
  ms: number,
): Promise<A> => {
  const until = Date.now() + ms
  let last: A | undefined
  for (;;) {
    last = await probe().catch(() => last)
    if (last !== undefined && done(last)) return last
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms; last: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** Until the clock reads `atMs` or later (a line stamped `atMs` is then not ahead of the ingest clock). */
export const untilClock = async (atMs: number) => {
  while (Date.now() < atMs) await new Promise((r) => setTimeout(r, Math.min(500, atMs - Date.now())))
}

/** Sleeps until the next whole minute has begun (plus `afterMs`), returning its start. */
export const nextMinute = async (afterMs = 1000) => {
  const start = Math.ceil(Date.now() / MINUTE) * MINUTE
  await untilClock(start + afterMs)
  return start
}
