/**
 * The Bus across a MessagePort (a worker thread's bus is its parent's): the messages both sides send,
 * and a batch packed for the crossing — its values end to end in one transferred buffer, its offsets,
 * timestamps and value lengths in typed arrays — so a batch of 500 records crosses as a handful of
 * objects, not 500 of them. RemoteBus.ts runs both sides.
 */
import type { Batch, BusErrorReason, Committed, InRecord, OutRecord, Owned, Subscription } from "./Records.ts"
import { BusError } from "./Records.ts"
import type { TopicSpec } from "./Topics.ts"

/** A call the worker makes; the parent answers with a Reply of the same id. */
export type Call =
  | { readonly op: "produce"; readonly records: ReadonlyArray<OutRecord> }
  | { readonly op: "committed"; readonly group: string; readonly topics: ReadonlyArray<string> }
  | { readonly op: "endOffsets"; readonly topics: ReadonlyArray<string> }
  | { readonly op: "health" }
  | { readonly op: "ensureTopics"; readonly specs: ReadonlyArray<TopicSpec> }
  /** A commit under the assignment of consume stream `sid` whose generation is `generation`. */
  | {
      readonly op: "commit"
      readonly sid: number
      readonly generation: number
      readonly offsets: ReadonlyArray<Committed>
    }

export type ToParent =
  | { readonly t: "call"; readonly id: number; readonly call: Call }
  /** Starts consume stream `sid`; the parent sends at most `credit` deliveries before more credit comes. */
  | { readonly t: "consume"; readonly sid: number; readonly sub: Subscription; readonly credit: number }
  | { readonly t: "credit"; readonly sid: number; readonly n: number }
  | { readonly t: "cancel"; readonly sid: number }

export interface WireError {
  readonly reason: BusErrorReason
  readonly message: string
}

export interface PackedBatch {
  readonly _tag: "Batch"
  readonly topic: string
  readonly partition: number
  readonly highWatermark: number
  readonly generation: number
  readonly keys: ReadonlyArray<string>
  readonly offsets: Float64Array
  readonly timestamps: Float64Array
  readonly lengths: Uint32Array
  readonly values: Uint8Array
}

export interface PackedAssigned {
  readonly _tag: "Assigned"
  readonly generation: number
  readonly partitions: ReadonlyArray<Owned>
}

export type ToWorker =
  | { readonly t: "reply"; readonly id: number; readonly value: unknown }
  | { readonly t: "reply"; readonly id: number; readonly error: WireError }
  | { readonly t: "delivery"; readonly sid: number; readonly d: PackedBatch | PackedAssigned }
  | { readonly t: "end"; readonly sid: number; readonly error?: WireError }

export const toWire = (e: BusError): WireError => ({ reason: e.reason, message: e.message })

export const fromWire = (e: WireError): BusError => new BusError({ reason: e.reason, message: e.message })

/** A batch as it crosses; the second element is what to transfer rather than copy. */
export const packBatch = (b: Batch): [PackedBatch, Array<ArrayBuffer>] => {
  const n = b.records.length
  const keys: Array<string> = new Array(n)
  const offsets = new Float64Array(n)
  const timestamps = new Float64Array(n)
  const lengths = new Uint32Array(n)
  let total = 0
  for (let i = 0; i < n; i++) total += b.records[i]!.value.byteLength
  const values = new Uint8Array(total)
  let at = 0
  for (let i = 0; i < n; i++) {
    const r = b.records[i]!
    keys[i] = r.key
    offsets[i] = r.offset
    timestamps[i] = r.timestamp
    lengths[i] = r.value.byteLength
    values.set(r.value, at)
    at += r.value.byteLength
  }
  const packed: PackedBatch = {
    _tag: "Batch",
    topic: b.topic,
    partition: b.partition,
    highWatermark: b.highWatermark,
    generation: b.generation,
    keys,
    offsets,
    timestamps,
    lengths,
    values,
  }
  return [packed, [values.buffer, offsets.buffer, timestamps.buffer, lengths.buffer] as Array<ArrayBuffer>]
}

/** The batch again; each record's value is a view into the one buffer it crossed in. */
export const unpackBatch = (p: PackedBatch): Batch => {
  const n = p.keys.length
  const records: Array<InRecord> = new Array(n)
  let at = 0
  for (let i = 0; i < n; i++) {
    const length = p.lengths[i]!
    records[i] = {
      key: p.keys[i]!,
      value: p.values.subarray(at, at + length),
      timestamp: p.timestamps[i]!,
      offset: p.offsets[i]!,
    }
    at += length
  }
  return {
    _tag: "Batch",
    topic: p.topic,
    partition: p.partition,
    highWatermark: p.highWatermark,
    generation: p.generation,
    records,
  }
}
