/**
 * A Bus in a worker thread that is its parent's Bus (`tally all` runs the aggregator in a thread of its
 * own): `serveBus` runs on the parent and answers over a MessagePort with whatever Bus the parent has
 * (the durable embedded log, Kafka, the memory log); `makeRemoteBus` is the worker's side. Group
 * membership, offsets and commits stay the parent's; a commit names the consume stream and the
 * generation of the assignment it was made under, so a commit of an assignment that is over fails
 * Rebalanced as it would in the parent. Deliveries are credited: the parent sends at most as many as
 * the worker's buffer holds, then waits for the worker to take some, so a slow worker slows the reads
 * rather than filling memory. Batches cross packed (BusPort.ts).
 */
import type { MessagePort } from "node:worker_threads"
import { Cause, Effect, Exit, Fiber, FiberSet, Option, Queue, Stream } from "effect"
import {
  type Call,
  fromWire,
  type PackedAssigned,
  type PackedBatch,
  packBatch,
  type ToParent,
  type ToWorker,
  toWire,
  unpackBatch,
} from "./BusPort.ts"
import { rebalanced } from "./Contract.ts"
import type { Assigned, BusApi, BusError, Delivery } from "./Records.ts"
import { BusError as BusErrorClass } from "./Records.ts"

const DEFAULT_BUFFER = 16

const gone = () => new BusErrorClass({ reason: "Unavailable", message: "the parent thread's bus is gone" })

/** The worker's side: a BusApi whose every call and stream is the parent's (see the header). */
export const makeRemoteBus = (port: MessagePort): BusApi => {
  let nextId = 0
  let nextSid = 0
  let closed = false
  const calls = new Map<number, (m: Extract<ToWorker, { t: "reply" }>) => void>()
  const streams = new Map<number, Queue.Queue<Delivery, BusError | Cause.Done>>()
  const post = (m: ToParent) => port.postMessage(m)

  const call = (c: Call): Effect.Effect<unknown, BusError> =>
    Effect.callback<unknown, BusError>((resume) => {
      if (closed) return resume(Effect.fail(gone()))
      const id = nextId++
      calls.set(id, (m) => resume("error" in m ? Effect.fail(fromWire(m.error)) : Effect.succeed(m.value)))
      post({ t: "call", id, call: c })
      return Effect.sync(() => calls.delete(id))
    })

  const delivery = (sid: number, d: PackedBatch | PackedAssigned): Delivery =>
    d._tag === "Batch"
      ? unpackBatch(d)
      : {
          _tag: "Assigned",
          generation: d.generation,
          partitions: d.partitions,
          commit: (offsets) => Effect.asVoid(call({ op: "commit", sid, generation: d.generation, offsets })),
        }

  port.on("message", (m: ToWorker) => {
    switch (m.t) {
      case "reply": {
        const resume = calls.get(m.id)
        calls.delete(m.id)
        resume?.(m)
        return
      }
      case "delivery": {
        const queue = streams.get(m.sid)
        if (queue) Queue.offerUnsafe(queue, delivery(m.sid, m.d))
        return
      }
      case "end": {
        const queue = streams.get(m.sid)
        streams.delete(m.sid)
        if (!queue) return
        if (m.error) Queue.failCauseUnsafe(queue, Cause.fail(fromWire(m.error)))
        else Queue.endUnsafe(queue)
      }
    }
  })
  port.on("close", () => {
    closed = true
    for (const resume of calls.values()) resume({ t: "reply", id: -1, error: toWire(gone()) })
    calls.clear()
    for (const queue of streams.values()) Queue.failCauseUnsafe(queue, Cause.fail(gone()))
    streams.clear()
  })

  const consume: BusApi["consume"] = (sub) =>
    Stream.unwrap(
      Effect.gen(function* () {
        if (closed) return yield* gone()
        const sid = nextSid++
        const credit = sub.bufferBatches ?? DEFAULT_BUFFER
        // Unbounded, but never holds more than `credit`: the parent sends only what was credited.
        const queue = yield* Queue.unbounded<Delivery, BusError | Cause.Done>()
        streams.set(sid, queue)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            if (streams.delete(sid) && !closed) post({ t: "cancel", sid })
          }),
        )
        post({ t: "consume", sid, sub, credit })
        return Stream.fromQueue(queue).pipe(
          Stream.tap(() =>
            Effect.sync(() => {
              if (!closed && streams.has(sid)) post({ t: "credit", sid, n: 1 })
            }),
          ),
        )
      }),
    )

  return {
    produce: (records) => Effect.asVoid(call({ op: "produce", records })),
    consume,
    committed: (group, topics) => call({ op: "committed", group, topics }) as Effect.Effect<never, BusError>,
    endOffsets: (topics) => call({ op: "endOffsets", topics }) as Effect.Effect<never, BusError>,
    health: Effect.asVoid(call({ op: "health" })),
    ensureTopics: (specs) => call({ op: "ensureTopics", specs }) as Effect.Effect<never, BusError>,
  }
}

interface Served {
  /** Deliveries the worker has room for. */
  credit: number
  /** The forwarder, waiting for credit. */
  waiting: (() => void) | undefined
  /** The stream's current assignment (a commit under any other generation is void). */
  assigned: Assigned | undefined
  fiber?: Fiber.Fiber<unknown, unknown>
}

/** The parent's side: answers the worker on `port` with `bus` until the scope closes (then closes the port). */
export const serveBus = Effect.fnUntraced(function* (bus: BusApi, port: MessagePort) {
  const run = yield* FiberSet.makeRuntime<never>()
  const streams = new Map<number, Served>()
  const post = (m: ToWorker, transfer?: Array<ArrayBuffer>) => port.postMessage(m, transfer)

  const answer = (c: Call): Effect.Effect<unknown, BusError> => {
    switch (c.op) {
      case "produce":
        return bus.produce(c.records)
      case "committed":
        return bus.committed(c.group, c.topics)
      case "endOffsets":
        return bus.endOffsets(c.topics)
      case "health":
        return bus.health
      case "ensureTopics":
        return bus.ensureTopics(c.specs)
      case "commit": {
        const assigned = streams.get(c.sid)?.assigned
        if (!assigned || assigned.generation !== c.generation)
          return Effect.fail(rebalanced(`(consume stream ${c.sid})`, c.generation))
        return assigned.commit(c.offsets)
      }
    }
  }

  const credited = (served: Served) =>
    Effect.callback<void>((resume) => {
      if (served.credit > 0) {
        served.credit--
        return resume(Effect.void)
      }
      served.waiting = () => {
        served.waiting = undefined
        served.credit--
        resume(Effect.void)
      }
      return Effect.sync(() => {
        served.waiting = undefined
      })
    })

  const forward = (sid: number, served: Served) => (d: Delivery) =>
    Effect.map(credited(served), () => {
      if (d._tag === "Assigned") {
        served.assigned = d
        post({
          t: "delivery",
          sid,
          d: { _tag: "Assigned", generation: d.generation, partitions: d.partitions },
        })
      } else {
        const [packed, transfer] = packBatch(d)
        post({ t: "delivery", sid, d: packed }, transfer)
      }
    })

  port.on("message", (m: ToParent) => {
    switch (m.t) {
      case "call":
        run(
          Effect.onExit(answer(m.call), (exit) =>
            Effect.sync(() =>
              Exit.isSuccess(exit)
                ? post({ t: "reply", id: m.id, value: exit.value })
                : post({ t: "reply", id: m.id, error: toWire(failureOf(exit.cause)) }),
            ),
          ),
        )
        return
      case "consume": {
        const served: Served = { credit: m.credit, waiting: undefined, assigned: undefined }
        streams.set(m.sid, served)
        served.fiber = run(
          bus.consume(m.sub).pipe(
            Stream.runForEach(forward(m.sid, served)),
            Effect.onExit((exit) =>
              Effect.sync(() => {
                streams.delete(m.sid)
                if (Exit.isSuccess(exit)) post({ t: "end", sid: m.sid })
                else if (!Cause.hasInterruptsOnly(exit.cause))
                  post({ t: "end", sid: m.sid, error: toWire(failureOf(exit.cause)) })
              }),
            ),
          ),
        )
        return
      }
      case "credit": {
        const served = streams.get(m.sid)
        if (!served) return
        served.credit += m.n
        served.waiting?.()
        return
      }
      case "cancel": {
        const fiber = streams.get(m.sid)?.fiber
        streams.delete(m.sid)
        if (fiber) run(Fiber.interrupt(fiber))
      }
    }
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => port.close()))
})

/** The BusError a failed call ended with; a defect becomes Unavailable with its text. */
const failureOf = (cause: Cause.Cause<BusError>): BusError => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) return error.value
  return new BusErrorClass({ reason: "Unavailable", message: Cause.pretty(cause).split("\n")[0] ?? "" })
}
