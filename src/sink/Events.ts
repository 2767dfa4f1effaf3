/**
 * Platform events: PLATFORM_EVENTS.1 -> the `events` table of the day schema on the event's shard.
 * Writes are idempotent on the event's natural key, so a replay (or a retried drain batch) never
 * duplicates an event; a shard outage stalls only this stream, retried with backoff until it is back.
 */
import { Effect, Metric, Schedule, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import type { Batch, BusError } from "../bus/Records.ts"
import type { EventKind } from "../domain/Measurement.ts"
import * as Wire from "../proto/Wire.ts"
import { type EventRow, SummaryStore } from "../store/SummaryStore.ts"
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

export const decodeEvent = (value: Uint8Array): EventRow & { readonly processType: string } => {
  const e = Wire.PlatformEvent.decode(value)
  return {
    owner: e.origin.owner,
    processType: e.origin.processType,
    timeMs: Math.floor(e.origin.timeUs / 1000),
    kind: KINDS[e.kind] ?? "state",
    process: e.process,
    description: e.description,
    actor: e.actor,
  }
}

/** Until the shard is back: exponential backoff capped at 30 s, forever. */
export const forever = Schedule.min([Schedule.exponential("500 millis"), Schedule.spaced("30 seconds")])

export const eventsTopology = (
  group: string,
  source: Stream.Stream<Batch, BusError>,
): Stream.Stream<void, BusError, Bus | SummaryStore> =>
  source.pipe(
    Stream.mapEffect((batch) =>
      Effect.gen(function* () {
        const bus = yield* Bus
        const store = yield* SummaryStore
        const byShard = new Map<number, Array<EventRow>>()
        for (const r of batch.records) {
          const { processType, ...event } = decodeEvent(r.value)
          const shard = store.shardOf(event.owner, processType)
          const list = byShard.get(shard)
          if (list) list.push(event)
          else byShard.set(shard, [event])
        }
        yield* Effect.forEach(
          byShard,
          ([shard, rows]) =>
            store.writeEvents(shard, rows).pipe(
              Effect.tapError((e) => Effect.logWarning(`events on shard ${shard} wait: ${e.message}`)),
              Effect.retry({ schedule: forever }),
              Effect.orDie, // the schedule never ends: unreachable
            ),
          { concurrency: "unbounded", discard: true },
        )
        yield* Metric.update(M.events, batch.records.length)
        const last = batch.records[batch.records.length - 1]!
        yield* bus
          .commit(group, [
            { topic: batch.topic, partition: batch.partition, offset: last.offset + 1, metadata: "" },
          ])
          .pipe(Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: forever }))
      }),
    ),
  )
