/**
 * The input of the peers benchmark: raw router measurements as tally's ingress writes them (Encode.ts
 * `toRecords`: one record per delivery and key), in drain batches of 100 lines: 200 apps × 3 process types (600 record keys), event time
 * advancing over `spanMs` so 1-minute windows close, a real Frame-Id and delivery id per batch, and one
 * batch in 97 retried (same Frame-Id, another delivery, a few batches later) so both systems must drop
 * the retry to get the counts right. Deterministic in its seed.
 */
import type { OutRecord } from "../../src/bus/Records.ts"
import type { RouterRequest } from "../../src/domain/Measurement.ts"
import { toRecords } from "../../src/ingress/Encode.ts"
import {
  APPS,
  batchLines,
  hex,
  LINES_PER_BATCH,
  ownerOf,
  RETRY_AFTER,
  RETRY_EVERY,
  random,
} from "../aggregator/routerLines.ts"

export { APPS, LINES_PER_BATCH, PROCESS_TYPES } from "../aggregator/routerLines.ts"

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
  let lines = 0
  for (const s of schedule(records, t0, spanMs)) {
    const owner = ownerOf(s.app)
    const delivery = { owner, drain: owner, frameId: s.frameId, delivery: s.delivery }
    plan.records += s.lines.length
    if (s.retry) plan.retried += s.lines.length
    // One record per delivery and key, as the ingress produces them.
    for (const r of toRecords(s.lines, delivery, prefix)) out.push(r)
    lines += s.lines.length
    for (const m of s.lines) {
      if (s.retry) continue
      plan.expected.router_status++
      if (m.serviceMs !== undefined) plan.expected.router_service_ms++
      if (m.connectMs !== undefined) plan.expected.router_connect_ms++
      if (m.bytes !== undefined) plan.expected.router_bytes++
    }
    // `chunk` lines at a time
    if (lines >= chunk) {
      yield out
      out = []
      lines = 0
    }
  }
  if (out.length > 0) yield out
}
