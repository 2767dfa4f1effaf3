/**
 * The input of the peers benchmark: raw router measurements as tally's ingress writes them (Encode.ts
 * `toRecord`), in drain batches of 100 lines: 200 apps × 3 process types (600 record keys), event time
 * advancing over `spanMs` so 1-minute windows close, a real Frame-Id and delivery id per batch, and one
 * batch in 97 retried (same Frame-Id, another delivery, a few batches later) so both systems must drop
 * the retry to get the counts right. Deterministic in its seed.
 */
import type { OutRecord } from "../../src/bus/Records.ts"
import type { RouterRequest } from "../../src/domain/Measurement.ts"
import { toRecord } from "../../src/ingress/Encode.ts"

export const APPS = 200
export const PROCESS_TYPES = ["web", "worker", "api"] as const
export const LINES_PER_BATCH = 100
const RETRY_EVERY = 97
const RETRY_AFTER = 5

/** How many summaries of each metric the input adds up to (per period: every record is in one window of each). */
export interface Expected {
  router_status: number
  router_service_ms: number
  router_connect_ms: number
  router_bytes: number
}

/** What a load holds, counted while it is generated. */
export interface Plan {
  /** Records produced, retries included: what each system reads. */
  records: number
  /** Records of retried deliveries: what each system must drop. */
  retried: number
  readonly expected: Expected
}

export const emptyPlan = (): Plan => ({
  records: 0,
  retried: 0,
  expected: { router_status: 0, router_service_ms: 0, router_connect_ms: 0, router_bytes: 0 },
})

// mulberry32: small, fast, deterministic
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0").slice(-width)
export const ownerOf = (app: number) => `00000000-0000-4000-8000-${hex(app, 12)}`

/** One drain batch: `lines` router measurements of one app, from `startMs` over one second. */
const batchLines = (app: number, batch: number, startMs: number, lines: number, next: () => number) => {
  const out: Array<RouterRequest> = []
  for (let i = 0; i < lines; i++) {
    const r = next()
    const status = r < 0.85 ? 200 : r < 0.9 ? 304 : r < 0.95 ? 404 : r < 0.98 ? 500 : 503
    const timeoutLine = status === 503
    // lognormal service time around 50 ms, whole milliseconds as the router logs them
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
    const service = timeoutLine ? 30_000 : Math.max(0, Math.round(Math.exp(Math.log(50) + normal)))
    const processType = PROCESS_TYPES[(i + batch) % PROCESS_TYPES.length]!
    out.push({
      type: "ROUTER_REQUESTS",
      processType,
      dyno: `${processType}.${1 + (i % 4)}`,
      timeUs: (startMs + Math.floor((i * 997) % 1000)) * 1000 + (i % 1000),
      at: timeoutLine ? "error" : "info",
      method: i % 5 === 0 ? "POST" : "GET",
      path: `/api/v1/items/${Math.floor(next() * 100_000)}`,
      host: `app-${app}.example.com`,
      requestId: `${hex(batch, 8)}-${hex(i, 4)}-4000-8000-${hex(Math.floor(next() * 2 ** 48), 12)}`,
      fwd: `73.75.${i % 256}.${(batch + i) % 256}`,
      status,
      connectMs: Math.floor(next() * 5),
      serviceMs: service,
      ...(timeoutLine ? {} : { bytes: 200 + Math.floor(next() * 50_000) }),
      protocol: "https",
      code: timeoutLine ? "H12" : "",
      desc: timeoutLine ? "Request timeout" : "",
    })
  }
  return out
}

interface Scheduled {
  readonly app: number
  readonly frameId: string
  readonly delivery: string
  readonly retry: boolean
  readonly lines: ReadonlyArray<RouterRequest>
}

/** Batches in the order drains deliver them; retries come RETRY_AFTER batches after their first delivery. */
function* schedule(records: number, t0: number, spanMs: number): Generator<Scheduled> {
  const batches = Math.ceil(records / LINES_PER_BATCH)
  const next = random(12)
  const pending = new Map<number, Scheduled>()
  let produced = 0
  for (let b = 0; produced < records; b++) {
    const retry = pending.get(b)
    if (retry) {
      pending.delete(b)
      const lines = retry.lines.slice(0, records - produced)
      produced += lines.length
      yield { ...retry, delivery: `peers-${b}-retry`, retry: true, lines }
      if (produced >= records) return
    }
    const app = b % APPS
    const startMs = t0 + Math.floor((b * spanMs) / batches)
    const lines = batchLines(app, b, startMs, Math.min(LINES_PER_BATCH, records - produced), next)
    produced += lines.length
    const first: Scheduled = { app, frameId: hex(b, 32), delivery: `peers-${b}`, retry: false, lines }
    if (b % RETRY_EVERY === RETRY_EVERY - 1) pending.set(b + RETRY_AFTER, first)
    yield first
  }
}

/**
 * `records` raw records for `prefix`'s ROUTER_REQUESTS topic, event times from `t0` over `spanMs`, in
 * chunks of about `chunk`; counts what they hold into `plan` as it goes.
 */
export function* load(
  records: number,
  prefix: string,
  t0: number,
  spanMs: number,
  plan: Plan,
  chunk = 20_000,
): Generator<Array<OutRecord>> {
  let out: Array<OutRecord> = []
  for (const s of schedule(records, t0, spanMs)) {
    const owner = ownerOf(s.app)
    const delivery = { owner, drain: owner, frameId: s.frameId, delivery: s.delivery }
    plan.records += s.lines.length
    if (s.retry) plan.retried += s.lines.length
    for (const m of s.lines) {
      out.push(toRecord(m, delivery, prefix))
      if (s.retry) continue
      plan.expected.router_status++
      if (m.serviceMs !== undefined) plan.expected.router_service_ms++
      if (m.connectMs !== undefined) plan.expected.router_connect_ms++
      if (m.bytes !== undefined) plan.expected.router_bytes++
    }
    if (out.length >= chunk) {
      yield out
      out = []
    }
  }
  if (out.length > 0) yield out
}
