/** A parsed measurement plus where it came from, encoded for its raw topic (key owner:process_type). */

import type { OutRecord } from "../bus/Records.ts"
import { rawTopic } from "../bus/Topics.ts"
import type { Measurement } from "../domain/Measurement.ts"
import * as Wire from "../proto/Wire.ts"

export interface Delivery {
  readonly owner: string
  /** The drain (Logplex-Drain-Token, or the owner when absent). */
  readonly drain: string
  /** Logplex-Frame-Id, "" when absent. */
  readonly frameId: string
  /** Unique per POST: tells a retry of the same Frame-Id apart from the first delivery. */
  readonly delivery: string
}

const EVENT_KINDS = {
  state: Wire.EventKind.EVENT_KIND_STATE,
  crash: Wire.EventKind.EVENT_KIND_CRASH,
  restart: Wire.EventKind.EVENT_KIND_RESTART,
  scale: Wire.EventKind.EVENT_KIND_SCALE,
  release: Wire.EventKind.EVENT_KIND_RELEASE,
  deploy: Wire.EventKind.EVENT_KIND_DEPLOY,
  config: Wire.EventKind.EVENT_KIND_CONFIG,
} as const

const encodeValue = (m: Measurement, origin: Wire.Origin | object): Uint8Array => {
  switch (m.type) {
    case "DYNO_MEMORY":
      return Wire.DynoMemory.encode({
        origin,
        memoryTotal: m.memoryTotal ?? null,
        memoryRss: m.memoryRss ?? null,
        memoryCache: m.memoryCache ?? null,
        memorySwap: m.memorySwap ?? null,
        memoryPgpgin: m.memoryPgpgin ?? null,
        memoryPgpgout: m.memoryPgpgout ?? null,
        memoryQuota: m.memoryQuota ?? null,
      }).finish()
    case "DYNO_LOAD":
      return Wire.DynoLoad.encode({
        origin,
        loadAvg_1m: m.loadAvg1m ?? null,
        loadAvg_5m: m.loadAvg5m ?? null,
        loadAvg_15m: m.loadAvg15m ?? null,
      }).finish()
    case "ROUTER_REQUESTS":
      return Wire.RouterRequest.encode({
        origin,
        at: m.at,
        method: m.method,
        path: m.path,
        host: m.host,
        requestId: m.requestId,
        fwd: m.fwd,
        status: m.status,
        connectMs: m.connectMs ?? null,
        serviceMs: m.serviceMs ?? null,
        bytes: m.bytes ?? null,
        protocol: m.protocol,
        code: m.code,
        desc: m.desc,
      }).finish()
    case "ERRORS":
      return Wire.ErrorCode.encode({
        origin,
        code: m.code,
        count: m.count,
        description: m.description,
      }).finish()
    case "PLATFORM_EVENTS":
      return Wire.PlatformEvent.encode({
        origin,
        kind: EVENT_KINDS[m.kind],
        process: m.process,
        description: m.description,
        actor: m.actor,
      }).finish()
  }
}

export const toRecord = (m: Measurement, d: Delivery, prefix = ""): OutRecord => ({
  topic: rawTopic(m.type, prefix),
  key: `${d.owner}:${m.processType}`,
  timestamp: Math.floor(m.timeUs / 1000),
  value: encodeValue(m, {
    owner: d.owner,
    processType: m.processType,
    dyno: m.dyno,
    timeUs: m.timeUs,
    drain: d.drain,
    frameId: d.frameId,
    delivery: d.delivery,
  }),
})
