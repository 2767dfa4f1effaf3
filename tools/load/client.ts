/**
 * A drain client that behaves as Logplex does (LOGPLEX.md): POST with `Content-Type: application/logplex-1`,
 * `Logplex-Msg-Count`, `Logplex-Frame-Id` (32 hex, the same on every retry of a body),
 * `Logplex-Drain-Token`, `User-Agent: Logplex/…` and the drain URL's basic auth; keep-alive connections,
 * at most `connections` of them. A try that gets 429, 5xx, another non-2xx code, a connection error or no
 * answer within 5 s is retried with the same Frame-Id, up to `tries` tries in all; 4xx other than 429
 * drops the body at once (Logplex drops those for good). `Retry-After` on 503/429 is respected, capped.
 * Shield apps (log-shuttle) send no Frame-Id and no Drain-Token.
 */
import { randomBytes } from "node:crypto"
import http from "node:http"
import https from "node:https"
import type { Body } from "./body.ts"
import { Histogram } from "./histogram.ts"

export interface DrainTarget {
  /** Where to POST (the drain URL without its credentials). */
  readonly url: URL
  readonly authorization: string
  readonly drainToken: string
  readonly shield: boolean
}

/** Splits a drain URL (`http://user:secret@host/logs`) into a target; `base` overrides its origin. */
export const drainTarget = (
  drainUrl: string,
  drainToken: string,
  shield: boolean,
  base?: string,
): DrainTarget => {
  const u = new URL(drainUrl)
  const user = decodeURIComponent(u.username)
  const pass = decodeURIComponent(u.password)
  const url = new URL(`${u.pathname}${u.search}`, base ?? u.origin)
  return {
    url,
    authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
    drainToken,
    shield,
  }
}

export interface ClientOptions {
  readonly connections?: number
  readonly tries?: number
  readonly timeoutMs?: number
  /** Longest wait honoured from a Retry-After header (default 5 s). */
  readonly retryAfterCapMs?: number
  /** Called with the outcome of every try (a status code, `timeout` or `error`). */
  readonly onTry?: (status: number | "timeout" | "error") => void
}

export type Outcome =
  /** Got a 204 (on its last try). `retried`: earlier tries failed. */
  | { readonly delivered: true; readonly tries: number; readonly retried: boolean }
  /** Given up: after the last try, or at once on a 4xx other than 429. */
  | { readonly delivered: false; readonly tries: number; readonly last: string }

export class DrainClient {
  readonly latency = new Histogram()
  readonly statuses = new Map<string, number>()
  readonly tries: number
  private readonly timeoutMs: number
  private readonly retryAfterCapMs: number
  private readonly onTry: ((status: number | "timeout" | "error") => void) | undefined
  private readonly httpAgent: http.Agent
  private readonly httpsAgent: https.Agent
  retries = 0

  constructor(options: ClientOptions = {}) {
    const sockets = options.connections ?? 64
    this.tries = options.tries ?? 3
    this.timeoutMs = options.timeoutMs ?? 5000
    this.retryAfterCapMs = options.retryAfterCapMs ?? 5000
    this.onTry = options.onTry
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets })
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets })
  }

  private count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
  }

  /** One try: the status code, or `timeout` / `error`; `retryAfterMs` from a Retry-After header. */
  private once(
    target: DrainTarget,
    body: Body,
    frameId: string,
  ): Promise<{ status: number | "timeout" | "error"; retryAfterMs: number }> {
    const headers: Record<string, string | number> = {
      "content-type": "application/logplex-1",
      "content-length": body.bytes.length,
      "logplex-msg-count": body.frames,
      "user-agent": "Logplex/v123",
      authorization: target.authorization,
    }
    if (!target.shield) {
      headers["logplex-frame-id"] = frameId
      headers["logplex-drain-token"] = target.drainToken
    }
    const secure = target.url.protocol === "https:"
    return new Promise((resolve) => {
      const started = performance.now()
      let settled = false
      const done = (status: number | "timeout" | "error", retryAfterMs = 0) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.latency.record(performance.now() - started)
        this.count(String(status))
        this.onTry?.(status)
        resolve({ status, retryAfterMs })
      }
      const req = (secure ? https : http).request(
        target.url,
        { method: "POST", headers, agent: secure ? this.httpsAgent : this.httpAgent },
        (res) => {
          res.resume()
          res.on("end", () => {
            const after = Number(res.headers["retry-after"])
            done(res.statusCode ?? 0, Number.isFinite(after) && after > 0 ? after * 1000 : 0)
          })
          res.on("error", () => done("error"))
        },
      )
      const timer = setTimeout(() => {
        done("timeout")
        req.destroy()
      }, this.timeoutMs)
      req.on("error", () => done("error"))
      req.end(body.bytes)
    })
  }

  /** Delivers a body as Logplex would: same Frame-Id on every try, up to `tries` tries. */
  async deliver(target: DrainTarget, body: Body): Promise<Outcome> {
    const frameId = randomBytes(16).toString("hex")
    let last = ""
    for (let attempt = 1; attempt <= this.tries; attempt++) {
      const { status, retryAfterMs } = await this.once(target, body, frameId)
      if (status === 204) return { delivered: true, tries: attempt, retried: attempt > 1 }
      last = String(status)
      if (typeof status === "number" && status >= 200 && status < 300)
        return { delivered: false, tries: attempt, last } // a 2xx that is not tally's 204: do not guess
      if (typeof status === "number" && status >= 400 && status < 500 && status !== 429)
        return { delivered: false, tries: attempt, last }
      if (attempt === this.tries) break
      this.retries++
      const wait = retryAfterMs > 0 ? Math.min(retryAfterMs, this.retryAfterCapMs) : 100 * attempt
      await new Promise((r) => setTimeout(r, wait))
    }
    return { delivered: false, tries: this.tries, last }
  }

  close(): void {
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }
}
