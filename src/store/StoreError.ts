/**
 * The one error of the store: "Unavailable" (the shard cannot be reached, try again later) or "Rejected"
 * (the statement or the data is wrong; trying again gives the same answer, so a sink splits the batch).
 * Classified from effect/sql's SqlError by its reason and the SQLSTATE the server sent, never by message.
 */
import { Schema } from "effect"
import { isSqlError, type SqlError } from "effect/sql/SqlError"

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  /** Unavailable: the shard cannot be reached (retry later); Rejected: the statement itself failed. */
  reason: Schema.Literals(["Unavailable", "Rejected"]),
  shard: Schema.Number,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/**
 * SQLSTATE classes that mean "not now" rather than "never": connection exceptions (08), insufficient
 * resources (53, e.g. too many connections, disk full), operator intervention (57: shutdown, cancel,
 * cannot connect now), system errors (58), transaction rollbacks (40: deadlock, serialization), and
 * 55000/55P03/55006 (database not accepting connections, lock not available, object in use), 3D000
 * (no such database: dropped or not yet created). Everything else the server says is about the statement
 * or its data (22 data exception, 23 integrity, 42 syntax or access, …) and is Rejected.
 */
const UNAVAILABLE_CLASSES = new Set(["08", "40", "53", "57", "58"])
const UNAVAILABLE_CODES = new Set(["55000", "55P03", "55006", "3D000"])

export const isUnavailableCode = (code: string): boolean =>
  UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code)

/** The SQLSTATE a driver attached to the error's cause, if any (not a Node system error's code, e.g. EPIPE). */
export const sqlStateOf = (error: SqlError): string | undefined => {
  const cause = error.reason.cause as { code?: unknown; syscall?: unknown } | undefined
  const code = cause?.code
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && cause?.syscall === undefined
    ? code
    : undefined
}

export const isUnavailable = (error: SqlError): boolean => {
  const reason = error.reason
  switch (reason._tag) {
    case "ConnectionError":
    case "AuthenticationError":
    case "StatementTimeoutError":
    case "LockTimeoutError":
    case "DeadlockError":
    case "SerializationError":
      return true
  }
  const code = sqlStateOf(error)
  if (code !== undefined) return isUnavailableCode(code)
  // No SQLSTATE: a failure while connecting is the shard's; one while encoding a query is the data's.
  return reason.operation === "connect"
}

/** Maps any failure of a store call on `shard` to a StoreError. */
export const toStoreError =
  (shard: number, what: string) =>
  (cause: unknown): StoreError => {
    if (cause instanceof StoreError) return cause
    const reason = isSqlError(cause) ? (isUnavailable(cause) ? "Unavailable" : "Rejected") : "Unavailable"
    const detail = isSqlError(cause)
      ? `${(cause.reason.cause as Error | undefined)?.message ?? cause.message}${sqlStateOf(cause) ? ` (SQLSTATE ${sqlStateOf(cause)})` : ""}`
      : ((cause as Error)?.message ?? String(cause))
    return new StoreError({ reason, shard, message: `${what} on shard ${shard}: ${detail}`, cause })
  }
