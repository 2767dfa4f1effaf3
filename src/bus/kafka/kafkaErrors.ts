/** How @platformatic/kafka's errors map onto the Bus's three reasons. */
import { Effect, Schedule } from "effect"
import { BACKOFF } from "../../domain/Backoff.ts"
import { BusError } from "../Records.ts"

const REJECTED = new Set([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "UNKNOWN_TOPIC_ID",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "INVALID_PARTITIONS",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_CONFIG",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_TIMESTAMP",
  "INVALID_RECORD",
  "OFFSET_METADATA_TOO_LARGE",
  "INCONSISTENT_GROUP_PROTOCOL",
  "INVALID_GROUP_ID",
  "INVALID_SESSION_TIMEOUT",
])

/** The assignment a request belonged to is over. */
export const REBALANCED = new Set([
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
  "FENCED_INSTANCE_ID",
  "STALE_MEMBER_EPOCH",
  "FENCED_MEMBER_EPOCH",
])

/** Every Kafka error name (apiId) in an error and the errors it aggregates or wraps. */
export const apiIds = (e: unknown, out: Set<string> = new Set(), depth = 0): Set<string> => {
  if (!e || typeof e !== "object" || depth > 8) return out
  const o = e as { apiId?: unknown; errors?: unknown; cause?: unknown }
  if (typeof o.apiId === "string") out.add(o.apiId)
  if (Array.isArray(o.errors)) for (const inner of o.errors) apiIds(inner, out, depth + 1)
  if (o.cause) apiIds(o.cause, out, depth + 1)
  return out
}

const messages = (e: unknown, depth = 0): string => {
  if (!(e instanceof Error) || depth > 4) return String(e)
  const inner = (e as { errors?: unknown }).errors
  const nested = Array.isArray(inner) ? inner.map((x) => messages(x, depth + 1)) : []
  return [e.message, ...new Set(nested)].join(": ")
}

/**
 * Unknown topics and invalid requests are Rejected; a lost membership or generation is Rebalanced;
 * everything else a client can hit (network, timeouts, leadership moves, coordinators) is Unavailable.
 */
export const toBusError =
  (what: string) =>
  (e: unknown): BusError => {
    if (e instanceof BusError) return e
    const ids = apiIds(e)
    const message = `${what}: ${messages(e)}`
    const unknownTopic = e instanceof Error && /Unknown topic/.test(messages(e))
    const reason = [...ids].some((id) => REBALANCED.has(id))
      ? "Rebalanced"
      : unknownTopic || [...ids].some((id) => REJECTED.has(id))
        ? "Rejected"
        : "Unavailable"
    return new BusError({ reason, message, cause: e })
  }

/** A client call as an Effect, its failure mapped by toBusError. */
export const call = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, BusError> =>
  Effect.tryPromise({ try: f, catch: toBusError(what) })

/** Admin requests ride out a broker restart (about 30 s) before they report Unavailable. */
export const retryBriefly = <A, R>(self: Effect.Effect<A, BusError, R>): Effect.Effect<A, BusError, R> =>
  Effect.retry(self, {
    while: (e) => e.reason === "Unavailable",
    schedule: BACKOFF.pipe(Schedule.upTo({ duration: "30 seconds" })),
  })
