/**
 * The adversarial suite's harness: a real `tally all` (what `npm start` runs) as a child process on a
 * temporary data dir, an attacker app and a victim app, and the measurements an attack is judged by —
 * the victim's request latency while the attack runs, and the server's resident memory.
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, type Proc, stop, tally, waitHealthy } from "../e2e/support.ts"
import { ADMIN } from "../support/http.ts"

export { ADMIN }

export interface App {
  readonly owner: string
  readonly name: string
  readonly secret: string
  readonly readToken: string
}

export interface Server {
  readonly base: string
  readonly port: number
  readonly dataDir: string
  readonly proc: Proc
  readonly createApp: (name: string) => Promise<App>
  /** Resident memory of the server process, in bytes (from /proc). */
  readonly rss: () => number
  readonly stop: () => Promise<number | null>
}

/** Starts `tally all` on embedded defaults (plus `env`) and waits until /healthz answers 200. */
export const startTally = async (env: Record<string, string> = {}): Promise<Server> => {
  const dataDir = env.TALLY_DATA_DIR ?? mkdtempSync(join(tmpdir(), "tally-tenants-"))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const proc = tally(["all"], {
    TALLY_DATA_DIR: dataDir,
    TALLY_PORT: String(port),
    TALLY_FLUSH_AFTER: "1s",
    TALLY_ADMIN_TOKEN: ADMIN,
    ...env,
  })
  await waitHealthy(base, proc, 150_000)
  const createApp = async (name: string): Promise<App> => {
    const r = await fetch(`${base}/api/v1/apps`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name }),
    })
    if (r.status !== 201) throw new Error(`create app ${name}: ${r.status} ${await r.text()}`)
    const app = (await r.json()) as { owner: string; name: string; drainUrl: string; readToken: string }
    return {
      owner: app.owner,
      name: app.name,
      secret: decodeURIComponent(new URL(app.drainUrl).password),
      readToken: app.readToken,
    }
  }
  const rss = () => {
    const status = readFileSync(`/proc/${proc.child.pid}/status`, "utf8")
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)
    return kb ? Number(kb[1]) * 1024 : 0
  }
  return { base, port, dataDir, proc, createApp, rss, stop: () => stop(proc) }
}

export const drainHeaders = (app: App, extra: Record<string, string> = {}): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`tally:${app.secret}`).toString("base64")}`,
  "content-type": "application/logplex-1",
  ...extra,
})

/** Frames syslog messages (RFC 6587 octet counting) into one drain body. */
export const frame = (lines: ReadonlyArray<string>): Buffer =>
  Buffer.concat(
    lines.map((l) => {
      const bytes = Buffer.from(l, "utf8")
      return Buffer.concat([Buffer.from(`${bytes.length} `), bytes])
    }),
  )

/** An RFC 5424 line as Logplex sends it, at `timeMs`. */
export const syslogLine = (timeMs: number, appName: string, procId: string, msg: string): string =>
  `<190>1 ${new Date(timeMs).toISOString()} host ${appName} ${procId} - ${msg}`

/** A router line of `app`'s web dyno at `timeMs`. */
export const routerLine = (timeMs: number, status = 200, serviceMs = 20, dyno = "web.1"): string =>
  syslogLine(
    timeMs,
    "heroku",
    "router",
    `at=info method=GET path="/" host=victim.example.com request_id=r1 fwd="1.2.3.4" dyno=${dyno} connect=1ms service=${serviceMs}ms status=${status} bytes=100 protocol=https`,
  )

export const postDrain = (server: Server, app: App, body: Uint8Array | string, headers = {}) =>
  fetch(`${server.base}/logs`, {
    method: "POST",
    headers: drainHeaders(app, headers),
    body: typeof body === "string" ? body : Buffer.from(body),
  })

/** Milliseconds a request took, and its status. */
export const timed = async (f: () => Promise<Response>): Promise<{ ms: number; status: number }> => {
  const started = performance.now()
  const r = await f()
  await r.arrayBuffer()
  return { ms: performance.now() - started, status: r.status }
}

/**
 * Runs `attack` while the victim probes (`probe`, one request at a time, every `everyMs`) until the
 * attack settles; returns the probes' latencies and statuses and the attack's result.
 */
export const duringAttack = async <A>(
  attack: () => Promise<A>,
  probe: () => Promise<Response>,
  everyMs = 100,
): Promise<{ result: A; probes: Array<{ ms: number; status: number }> }> => {
  const probes: Array<{ ms: number; status: number }> = []
  let done = false
  const running = attack().finally(() => {
    done = true
  })
  const probing = (async () => {
    while (!done) {
      probes.push(await timed(probe))
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  const result = await running
  await probing
  return { result, probes }
}

export const max = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => Math.max(a, b), 0)

/** Reads one series of the metrics API (1m step over the last 2 h unless a range is given). */
export const readMetric = async (
  server: Server,
  app: App,
  metric: string,
  query: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: the metrics API's JSON, read field by field by each test
): Promise<{ status: number; body: any }> => {
  const now = Date.now()
  const to = new Date(Math.ceil(now / 60_000) * 60_000 + 60_000).toISOString()
  const from = new Date(Math.floor(now / 60_000) * 60_000 - 2 * 3600_000).toISOString()
  const params = new URLSearchParams({ from, to, step: "1m", ...query })
  const r = await fetch(`${server.base}/api/v1/apps/${app.owner}/metrics/${metric}?${params}`, {
    headers: { authorization: `Bearer ${app.readToken}` },
  })
  return { status: r.status, body: await r.json().catch(() => undefined) }
}

/** The value of one sample of the server's /metrics (summed over every label set that contains `labels`). */
export const metricValue = async (server: Server, name: string, labels: Record<string, string> = {}) => {
  const text = await (await fetch(`${server.base}/metrics`)).text()
  let sum = 0
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (!m || m[1] !== name) continue
    const set = m[2] ?? ""
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3])
  }
  return sum
}
