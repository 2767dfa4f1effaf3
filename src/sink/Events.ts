/**
 * Platform events, in reading order: PLATFORM_EVENTS.1 -> events with their shard -> batches per shard
 * -> one lane per shard, written with patient backoff (idempotent on the event's natural key, so a replay
 * or a retried drain batch never duplicates one) -> commit what was written (the pipeline is
 * src/sink/ShardWriter.ts's). A shard outage holds back only its own lane.
 */
import { Effect, Metric, Stream } from "effect"
import type { Batch, BusError, Delivery } from "../bus/Records.ts"
import type { EventKind } from "../domain/Measurement.ts"
import * as Wire from "../proto/Wire.ts"
import { type EventRow, type StoreApi, SummaryStore } from "../store/SummaryStore.ts"
import type { Flow } from "../stream/Flow.ts"
import type { Position } from "../stream/OffsetCommitter.ts"
import { patientWriter } from "../stream/RetryFallback.ts"
import { trackWrite } from "../stream/Stage.ts"
import type { SinkStageError } from "./Rows.ts"
import { shardWriter } from "./ShardWriter.ts"
import * as M from "./SinkMetrics.ts"

const KINDS: Readonly<Record<number, EventKind>> = {
  [Wire.EventKind.EVENT_KIND_STATE]: "state",
  [Wire.EventKind.EVENT_KIND_CRASH]: "crash",
  [Wire.EventKind.EVENT_KIND_RESTART]: "restart",
  [Wire.EventKind.EVENT_KIND_SCALE]: "scale",
  [Wire.EventKind.EVENT_KIND_RELEASE]: "release",
  [Wire.EventKind.EVENT_KIND_DEPLOY]: "deploy",
  [Wire.EventKind.EVENT_KIND_CONFIG]: "config",
}

/**
 * The events of one PLATFORM_EVENTS record: the message, then each of `next` (one delivery's events of
 * one key, in order; a further one's origin carries only its dyno and time, the rest is the first one's).
 */
export const decodeEvents = (
  value: Uint8Array,
): { readonly owner: string; readonly processType: string; readonly events: Array<EventRow> } => {
  const first = Wire.PlatformEvent.decode(value)
  const owner = first.origin.owner
  const row = (e: Wire.PlatformEvent): EventRow => ({
    owner,
    timeMs: Math.floor((e.origin?.timeUs ?? 0) / 1000),
    kind: KINDS[e.kind] ?? "state",
    process: e.process,
    description: e.description,
    actor: e.actor,
  })
  return { owner, processType: first.origin.processType, events: [row(first), ...first.next.map(row)] }
}

interface LocatedEvent {
  readonly event: EventRow
  readonly shard: number
  /**
   * The record's position, on its last event only: a record is written once its last event is (a
   * record's events are of one key, so one shard, one lane, written in order).
   */
  readonly position: Position | undefined
}

export interface EventsOptions {
  readonly lingerMs: number
  readonly laneCapacity: number
  readonly commitIntervalMs: number
}

/** The events of a batch, each with its shard. */
const locatedIn =
  (store: Pick<StoreApi, "shardOf">) =>
  (batch: Batch): ReadonlyArray<LocatedEvent> =>
    batch.records.flatMap((r) => {
      const { owner, processType, events } = decodeEvents(r.value)
      const shard = store.shardOf(owner, processType)
      const last = events.length - 1
      return events.map((event, i) => ({
        event,
        shard,
        position:
          i === last ? { topic: batch.topic, partition: batch.partition, offset: r.offset } : undefined,
      }))
    })

/**
 * Writes a batch of one shard's events, with patient backoff. Events the shard refuses (the ingress cleans
 * their text, so this is a defect upstream) are isolated, logged and counted, never retried for ever: they
 * would hold back every later event.
 */
const eventWriter = (store: StoreApi) =>
  patientWriter({
    write: (rows: ReadonlyArray<LocatedEvent>) =>
      trackWrite(
        store.writeEvents(
          rows[0]!.shard,
          rows.map((r) => r.event),
        ),
        `shard ${rows[0]!.shard}`,
      ),
    deadLetter: (rows: ReadonlyArray<LocatedEvent>, reason: string) =>
      Effect.logError(`event refused by shard ${rows[0]!.shard}, skipped: ${reason}`).pipe(
        Effect.andThen(Metric.update(M.eventsRefused, rows.length)),
      ),
    tryTimeout: 5000,
  })

export const eventsTopology = (
  options: EventsOptions,
  source: Stream.Stream<Delivery, BusError>,
  stop: Effect.Effect<void> = Effect.never,
): Stream.Stream<Flow<ReadonlyArray<Position>>, SinkStageError, SummaryStore> =>
  Stream.unwrap(
    Effect.map(Effect.service(SummaryStore), (store) =>
      shardWriter({ ...options, decode: locatedIn(store), write: M.eventBatches(eventWriter(store)) })(
        source,
        stop,
      ),
    ),
  )
