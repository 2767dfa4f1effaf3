/**
 * Router lines as drains deliver them, for the benchmarks that feed raw records (aggregator/input.ts,
 * peers/load.ts): drain batches of 100 lines of one app over one second, 3 process types, statuses,
 * lognormal service times and timeouts as the Heroku router logs them. Deterministic in its seed.
 */
import type { RouterRequest } from "../../src/domain/Measurement.ts"

export const APPS = 200
export const PROCESS_TYPES = ["web", "worker", "api"] as const
export const LINES_PER_BATCH = 100
/** One batch in RETRY_EVERY is delivered again RETRY_AFTER batches later (same Frame-Id). */
export const RETRY_EVERY = 97
export const RETRY_AFTER = 5

/** mulberry32: small, fast, deterministic. */
export const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export const hex = (n: number, width: number) => n.toString(16).padStart(width, "0").slice(-width)
export const ownerOf = (app: number) => `00000000-0000-4000-8000-${hex(app, 12)}`

/** One drain batch: `lines` router measurements of one app over one second from `startMs`. */
export const batchLines = (
  app: number,
  batch: number,
  startMs: number,
  lines: number,
  next: () => number,
): Array<RouterRequest> => {
  const out: Array<RouterRequest> = []
  for (let i = 0; i < lines; i++) {
    const r = next()
    const status = r < 0.85 ? 200 : r < 0.9 ? 304 : r < 0.95 ? 404 : r < 0.98 ? 500 : 503
    const timeout = status === 503
    // lognormal service time around 50 ms, whole milliseconds as the router logs them
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
    const service = timeout ? 30_000 : Math.max(0, Math.round(Math.exp(Math.log(50) + normal)))
    const processType = PROCESS_TYPES[(i + batch) % PROCESS_TYPES.length]!
    out.push({
      type: "ROUTER_REQUESTS",
      processType,
      dyno: `${processType}.${1 + (i % 4)}`,
      timeUs: (startMs + Math.floor((i * 997) % 1000)) * 1000 + (i % 1000),
      at: timeout ? "error" : "info",
      method: i % 5 === 0 ? "POST" : "GET",
      path: `/api/v1/items/${Math.floor(next() * 100_000)}`,
      host: `app-${app}.example.com`,
      requestId: `${hex(batch, 8)}-${hex(i, 4)}-4000-8000-${hex(Math.floor(next() * 2 ** 48), 12)}`,
      fwd: `73.75.${i % 256}.${(batch + i) % 256}`,
      status,
      connectMs: Math.floor(next() * 5),
      serviceMs: service,
      ...(timeout ? {} : { bytes: 200 + Math.floor(next() * 50_000) }),
      protocol: "https",
      code: timeout ? "H12" : "",
      desc: timeout ? "Request timeout" : "",
    })
  }
  return out
}
