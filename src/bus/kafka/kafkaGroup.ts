/**
 * A consume stream on @platformatic/kafka: group membership for tally's fixed assignment
 * (kafkaMember.ts), and a fetch loop of our own (kafkaFetch.ts) that delivers each assignment
 * (Assigned) and then the batches fetched under it.
 *
 * Membership lives on the client's own timers: heartbeats go out every `heartbeatIntervalMs` whatever
 * the stream's consumer is doing, and a heartbeat that learns of a rebalance, an unknown member or an
 * illegal generation makes the client rejoin at once (a new member id when the old one is unknown).
 * Every completed join is a new generation and this stream delivers a new Assigned for it, with the
 * commits read afresh; commits are bound to the generation and member they were made under, so the
 * broker refuses those of an ended assignment and they fail "Rebalanced" without retries.
 */

import { Cause, Effect, Queue, Stream } from "effect"
import { BusError, type Delivery, type Subscription } from "../Records.ts"
import { toBusError } from "./kafkaErrors.ts"
import { fetchLoop, patiently } from "./kafkaFetch.ts"
import { type GroupConfig, GroupMember } from "./kafkaMember.ts"

/** The longest a consume stream's end waits for its consumer to leave the group and close. */
export const CLOSE_WAIT_MS = 2000

export const consumeGroup =
  (config: GroupConfig) =>
  (sub: Subscription): Stream.Stream<Delivery, BusError> =>
    Stream.callback<Delivery, BusError>(
      Effect.fnUntraced(function* (queue) {
        yield* config.checkTopics(sub.topics)
        // Leaving the group is a request to the coordinator: one that does not answer (a node down or
        // out of reach) is not waited for past CLOSE_WAIT_MS, so a stop stays bounded (the broker ends
        // the membership at its session timeout anyway).
        const member = yield* Effect.acquireRelease(
          Effect.sync(() => new GroupMember(config, sub)),
          (m) => Effect.promise(() => m.close()).pipe(Effect.timeoutOption(CLOSE_WAIT_MS)),
        )
        yield* patiently(
          sub.group,
          Effect.tryPromise({ try: () => member.join(), catch: toBusError(`join ${sub.group}`) }),
        )
        // Whatever ends the loop but the stream's own end ends the stream: a BusError as it is, a
        // crash (a defect in the client or here) as Unavailable, so the stage ends instead of hanging.
        yield* Effect.forkScoped(
          fetchLoop(config, member, queue).pipe(
            Effect.catchCause((cause) => {
              if (Cause.hasInterruptsOnly(cause)) return Effect.void
              const error = Cause.squash(cause)
              return Queue.fail(
                queue,
                error instanceof BusError
                  ? error
                  : new BusError({
                      reason: "Unavailable",
                      message: `consumer ${sub.group} crashed: ${Cause.pretty(cause)}`,
                      cause: error,
                    }),
              )
            }),
          ),
        )
      }),
      { bufferSize: sub.bufferBatches ?? 16, strategy: "suspend" },
    )
