/**
 * A typed measurement as the ingress parses it from one log line, before it is wrapped in an Origin
 * (owner, drain, Frame-Id) and encoded to its raw topic. One line can yield two (an H-code router line
 * is a request and an error).
 */

export type EventKind = "state" | "crash" | "restart" | "scale" | "release" | "deploy" | "config"

interface Base {
  /** Dyno name before the dot; "router" for router lines without dyno=; "logplex" for L1x; "api" for API events. */
  readonly processType: string
  /** Full dyno name ("web.1") when the line names one, else "". */
  readonly dyno: string
  /** Event time, microseconds since the epoch. */
  readonly timeUs: number
}

export interface DynoMemory extends Base {
  readonly type: "DYNO_MEMORY"
  readonly memoryTotal?: number
  readonly memoryRss?: number
  readonly memoryCache?: number
  readonly memorySwap?: number
  readonly memoryPgpgin?: number
  readonly memoryPgpgout?: number
  readonly memoryQuota?: number
}

export interface DynoLoad extends Base {
  readonly type: "DYNO_LOAD"
  readonly loadAvg1m?: number
  readonly loadAvg5m?: number
  readonly loadAvg15m?: number
}

export interface RouterRequest extends Base {
  readonly type: "ROUTER_REQUESTS"
  readonly at: string
  readonly method: string
  readonly path: string
  readonly host: string
  readonly requestId: string
  readonly fwd: string
  /** 0 when the line has none. */
  readonly status: number
  readonly connectMs?: number
  readonly serviceMs?: number
  readonly bytes?: number
  readonly protocol: string
  readonly code: string
  readonly desc: string
}

export interface ErrorCode extends Base {
  readonly type: "ERRORS"
  readonly code: string
  /** 1, or for L10 the number of messages dropped. */
  readonly count: number
  readonly description: string
}

export interface PlatformEvent extends Base {
  readonly type: "PLATFORM_EVENTS"
  readonly kind: EventKind
  readonly process: string
  readonly description: string
  readonly actor: string
}

export type Measurement = DynoMemory | DynoLoad | RouterRequest | ErrorCode | PlatformEvent
