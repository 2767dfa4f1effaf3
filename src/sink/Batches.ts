/**
 * Sink batching as plain TypeScript: summaries grouped by (shard, type, period) until 1024 rows or a
 * linger time, and per partition the offsets still in flight, so that a partition's commit point never
 * passes a record whose write (or hand-off to the RETRY topic) has not succeeded.
 */
import type { InRecord } from "../bus/Records.ts"
import type { RolledUpType } from "../domain/MeasurementType.ts"
import type { PeriodName } from "../store/Schema.ts"
import type { SummaryRow } from "../store/SummaryStore.ts"

export const BATCH_ROWS = 1024

export interface Located extends InRecord {
  readonly topic: string
  readonly partition: number
}

export interface Group {
  readonly shard: number
  readonly type: RolledUpType
  readonly period: PeriodName
  readonly rows: Array<SummaryRow>
  /** The records the rows came from (to hand them to the RETRY topic unchanged, and to mark them done). */
  readonly records: Array<Located>
  readonly since: number
}

/** Offsets of one partition in arrival order; the commit point is the first one not yet done. */
export class InFlight {
  private readonly offsets: Array<number> = []
  private readonly done = new Set<number>()
  private next = -1

  add(offset: number): void {
    this.offsets.push(offset)
    if (offset + 1 > this.next) this.next = offset + 1
  }

  finish(offset: number): void {
    this.done.add(offset)
    while (this.offsets.length > 0 && this.done.has(this.offsets[0]!)) this.done.delete(this.offsets.shift()!)
  }

  /** The offset to commit (the first not done), or undefined before anything was seen. */
  commitPoint(): number | undefined {
    if (this.offsets.length > 0) return this.offsets[0]
    return this.next < 0 ? undefined : this.next
  }
}

export class Batches {
  private readonly groups = new Map<string, Group>()
  readonly inFlight = new Map<string, InFlight>()

  /** Adds a row; returns its group when that reached BATCH_ROWS (it is removed). */
  add(
    record: Located,
    row: SummaryRow,
    shard: number,
    type: RolledUpType,
    period: PeriodName,
    nowMs: number,
  ): Group | undefined {
    this.track(record)
    const id = `${shard}|${type}|${period}`
    let g = this.groups.get(id)
    if (!g) {
      g = { shard, type, period, rows: [], records: [], since: nowMs }
      this.groups.set(id, g)
    }
    g.rows.push(row)
    g.records.push(record)
    if (g.rows.length < BATCH_ROWS) return undefined
    this.groups.delete(id)
    return g
  }

  /** A record that needs no write (nothing to store) is done at once. */
  skip(record: Located): void {
    this.track(record)
    this.finish([record])
  }

  /** Groups that waited `lingerMs` (all of them with `all`). */
  due(nowMs: number, lingerMs: number, all = false): Array<Group> {
    const out: Array<Group> = []
    for (const [id, g] of this.groups)
      if (all || nowMs - g.since >= lingerMs) {
        out.push(g)
        this.groups.delete(id)
      }
    return out
  }

  finish(records: ReadonlyArray<Located>): void {
    for (const r of records) this.inFlight.get(`${r.topic}\u0000${r.partition}`)!.finish(r.offset)
  }

  private track(record: Located): void {
    const id = `${record.topic}\u0000${record.partition}`
    let f = this.inFlight.get(id)
    if (!f) {
      f = new InFlight()
      this.inFlight.set(id, f)
    }
    f.add(record.offset)
  }
}
