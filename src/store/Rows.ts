/** What the store keeps and answers: summary rows (one rollup of one series and window) and events. */
import type { RolledUpType } from "../domain/MeasurementType.ts"
import type { PeriodName } from "./Schema.ts"

export interface SummaryRow {
  readonly owner: string
  readonly processType: string
  readonly metric: string
  readonly label: string
  readonly startMs: number
  readonly count: number
  readonly sum: number
  readonly sumsq: number
  readonly min: number
  readonly max: number
  readonly sketch: Uint8Array
  readonly version: number
}

export interface EventRow {
  readonly owner: string
  readonly timeMs: number
  readonly kind: string
  readonly process: string
  readonly description: string
  readonly actor: string
}

export interface SummaryQuery {
  readonly type: RolledUpType
  readonly period: PeriodName
  readonly owner: string
  readonly metric: string
  /** Only these process types (all when undefined). */
  readonly processTypes?: ReadonlyArray<string> | undefined
  readonly fromMs: number
  /** Exclusive. */
  readonly toMs: number
  /**
   * At most this many rows, read in series order (process type, label, then time) so that the cut leaves
   * whole series but the last one; without it, every row, in time order.
   */
  readonly limit?: number | undefined
}

export interface EventQuery {
  readonly owner: string
  readonly fromMs: number
  readonly toMs: number
  /** At most this many events (the earliest). */
  readonly limit?: number | undefined
}
