/**
 * The one pipeline of the sink's process (issue 26): sink, retrier and events each read topics, decode
 * their records into rows of a store shard, batch the rows per key, write each batch in its shard's lane,
 * and commit the offsets a batch covers once it is written (or handed on). A stage brings its decode and
 * its write; the rest is here, in reading order:
 * source -> offsets tracked -> (onRead) -> decode -> batches per key, `batchRows` rows or `lingerMs` ->
 * one lane per shard (`laneCapacity` waiting; then `whenFull`, or the stream waits) -> the positions of
 * what was written -> commit -> until stopped. A shard that is down or hangs holds back only its own lane;
 * on a bounded stop (src/stream/Stage.ts) what is still in a lane is dropped unacknowledged.
 */
import { Effect, Stream } from "effect"
import type { Batch, BusError, Delivery } from "../bus/Records.ts"
import { batchByKey, type Group } from "../stream/Batcher.ts"
import { controlled, type Flow, mapItems, untilStopped } from "../stream/Flow.ts"
import { inLanes } from "../stream/Lanes.ts"
import { type Position, tracking } from "../stream/OffsetCommitter.ts"

/** Rows of one COPY batch at most (one key's rows, so one shard's). */
export const BATCH_ROWS = 1024

/** How often the steps get a Tick while records come: twice a linger, at most every 50 ms. */
export const tickEvery = (lingerMs: number) => Math.max(50, Math.floor(lingerMs / 2))

/** A row to write: its shard, and where it was read (undefined: its record is covered by a later row). */
export interface ShardRow {
  readonly shard: number
  readonly position: Position | undefined
}

/** A write of one batch, all of one shard. */
export type ShardWrite<Row, A, E, R> = (shard: number, rows: ReadonlyArray<Row>) => Effect.Effect<A, E, R>

export interface ShardWriterOptions<Row extends ShardRow, E, R> {
  readonly decode: (batch: Batch) => ReadonlyArray<Row>
  /** What rows share a batch (default: their shard). */
  readonly keyOf?: ((row: Row) => string) | undefined
  readonly batchRows?: number | undefined
  readonly lingerMs: number
  readonly laneCapacity: number
  readonly commitIntervalMs: number
  readonly write: ShardWrite<Row, unknown, E, R>
  /** A batch whose lane is full (without it, the stream waits for room). */
  readonly whenFull?: ShardWrite<Row, unknown, E, R> | undefined
  /** Sees every batch read, before it is decoded (e.g. a backlog gauge). */
  readonly onRead?: ((batch: Batch) => Effect.Effect<void>) | undefined
}

/** The positions a batch covers (the records whose every row it holds). */
const positionsOf = (rows: ReadonlyArray<ShardRow>): ReadonlyArray<Position> => {
  const out: Array<Position> = []
  for (const r of rows) if (r.position !== undefined) out.push(r.position)
  return out
}

const byShard = (row: ShardRow) => String(row.shard)

/** The stage's stream on `source`, ending after `stop` (see the header). */
export const shardWriter =
  <Row extends ShardRow, E, R>(options: ShardWriterOptions<Row, E, R>) =>
  (
    source: Stream.Stream<Delivery, BusError>,
    stop: Effect.Effect<void>,
  ): Stream.Stream<Flow<ReadonlyArray<Position>>, E | BusError, R> => {
    const offsets = tracking(options.commitIntervalMs)
    const onRead = options.onRead
    const inLane = (write: ShardWrite<Row, unknown, E, R>) => (g: Group<Row>) =>
      Effect.as(write(g.rows[0]!.shard, g.rows), positionsOf(g.rows))
    return controlled(source, { tickEvery: tickEvery(options.lingerMs), stop }).pipe(
      offsets.track,
      (self) =>
        onRead ? Stream.tap(self, (f) => (f._tag === "Item" ? onRead(f.value) : Effect.void)) : self,
      mapItems(options.decode),
      batchByKey({
        keyOf: options.keyOf ?? byShard,
        maxRows: options.batchRows ?? BATCH_ROWS,
        lingerMs: options.lingerMs,
      }),
      inLanes({
        laneOf: (g: Group<Row>) => g.rows[0]!.shard,
        capacity: options.laneCapacity,
        run: inLane(options.write),
        whenFull: options.whenFull && inLane(options.whenFull),
      }),
      offsets.acknowledged,
      untilStopped,
    )
  }
