/**
 * Errors of the public HTTP contract, each with its status (DESIGN.md, Public contracts). Every 4xx and
 * 5xx answer of tally is a JSON object `{"error": "<code>", "message": "<what happened and what to do>"}`
 * (a few carry more fields, e.g. where a drain body's framing broke). The codes are stable; the messages
 * are for people. Inside tally each class is a tagged error (`_tag`, for `Effect.catchTag`); the tag is
 * never part of the body.
 *
 * Answers the router and the HttpApi make themselves (no such route, a body or query that does not
 * decode, an unsupported content type, a defect) are given the same shape by src/http/ErrorBodies.ts.
 */
import { Schema } from "effect"
import { HttpApiSchema } from "effect/http-api"

/** Every error code tally answers with, and its status. */
export const ERROR_CODES = {
  bad_request: 400,
  bad_framing: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  unavailable: 503,
  not_ready: 503,
} as const
export type ErrorCode = keyof typeof ERROR_CODES

/** The body of every error answer, for answers made by hand (the DrainListener, the router's own). */
export interface ErrorBody {
  readonly error: ErrorCode
  readonly message: string
}

export class Unauthorized extends Schema.Error<Unauthorized>("tally/api/Unauthorized")(
  { error: Schema.tag("unauthorized"), message: Schema.String },
  {
    httpApiStatus: 401,
    description:
      "Missing or wrong credentials: `error` is `unauthorized`; `message` says which are expected.",
  },
) {
  readonly _tag = "Unauthorized" as const
}

export class NotFound extends Schema.Error<NotFound>("tally/api/NotFound")(
  { error: Schema.tag("not_found"), message: Schema.String },
  {
    httpApiStatus: 404,
    description:
      "No such app, metric or route (another app's data is answered the same as no app): `error` is `not_found`.",
  },
) {
  readonly _tag = "NotFound" as const
}

export class BadRequest extends Schema.Error<BadRequest>("tally/api/BadRequest")(
  { error: Schema.tag("bad_request"), message: Schema.String },
  {
    httpApiStatus: 400,
    description:
      "A parameter, header or body that is not what the endpoint expects: `error` is `bad_request`; `message` names the field and what it expects.",
  },
) {
  readonly _tag = "BadRequest" as const
}

export class Conflict extends Schema.Error<Conflict>("tally/api/Conflict")(
  { error: Schema.tag("conflict"), message: Schema.String },
  { httpApiStatus: 409, description: "It exists already (e.g. an app of that name): `error` is `conflict`." },
) {
  readonly _tag = "Conflict" as const
}

/** 400 for a drain body whose framing broke: the frames before `offset` were accepted. */
export class BadFraming extends Schema.Error<BadFraming>("tally/api/BadFraming")(
  {
    error: Schema.tag("bad_framing"),
    message: Schema.String,
    /** The byte offset in the body where framing broke. */
    offset: Schema.Number,
    /** Frames before the break, which were accepted. */
    framesAccepted: Schema.Number,
  },
  {
    httpApiStatus: 400,
    description:
      "The drain body's octet-counted framing broke at byte `offset`: the `framesAccepted` frames before it were kept. `error` is `bad_framing`.",
  },
) {
  readonly _tag = "BadFraming" as const
}

export class PayloadTooLarge extends Schema.Error<PayloadTooLarge>("tally/api/PayloadTooLarge")(
  { error: Schema.tag("payload_too_large"), message: Schema.String },
  {
    httpApiStatus: 413,
    description: "The body is larger than TALLY_MAX_BODY: `error` is `payload_too_large`.",
  },
) {
  readonly _tag = "PayloadTooLarge" as const
}

export class UnsupportedMediaType extends Schema.Error<UnsupportedMediaType>(
  "tally/api/UnsupportedMediaType",
)(
  { error: Schema.tag("unsupported_media_type"), message: Schema.String },
  {
    httpApiStatus: 415,
    description:
      "A Content-Type the endpoint does not take (drains: application/logplex-1; the API: application/json): `error` is `unsupported_media_type`.",
  },
) {
  readonly _tag = "UnsupportedMediaType" as const
}

/** 503 with Retry-After: Logplex (or the reader) retries later. Use `UnavailableWithRetryAfter` in endpoints. */
export class Unavailable extends Schema.Error<Unavailable>("tally/api/Unavailable")(
  { error: Schema.tag("unavailable"), message: Schema.String, retryAfterSeconds: Schema.Number },
  { httpApiStatus: 503 },
) {
  readonly _tag = "Unavailable" as const
}

/** The 503 body; the seconds to wait are in the `Retry-After` header. */
const UnavailableBody = Schema.Struct({ error: Schema.Literal("unavailable"), message: Schema.String })
  .annotate({
    description:
      "Cannot be done now (the bus cannot take the batch, the pipeline is behind, the app catalogue cannot be read): `error` is `unavailable`; retry after the `Retry-After` header's seconds.",
  })
  .pipe(HttpApiSchema.status(503))

export const UnavailableWithRetryAfter = Unavailable.pipe(
  HttpApiSchema.encodeToWithHeaders(
    { body: UnavailableBody, headers: { "retry-after": Schema.NumberFromString } },
    {
      decode: ({ body, headers }) =>
        new Unavailable({ message: body.message, retryAfterSeconds: headers["retry-after"] }),
      encode: (e) => ({
        body: { error: "unavailable" as const, message: e.message },
        headers: { "retry-after": e.retryAfterSeconds },
      }),
    },
  ),
)

/** The content types an endpoint does not take: the body of the 415 the HttpApi and the DrainListener answer. */
export const unsupportedContentType = (media: string): ErrorBody => ({
  error: "unsupported_media_type",
  message: `Content-Type ${media} is not accepted here: drains send application/logplex-1, the API takes application/json (see /api/v1/openapi.json)`,
})

/** The body of a 500: a defect in tally (it is logged with its cause). */
export const internalError: ErrorBody = {
  error: "internal",
  message:
    "tally failed to answer this request (a defect, logged by the server); retry, and report it if it persists",
}

/** Messages more than one place answers with (the DrainListener and the HttpApi must answer alike). */
export const messages = {
  drainCredentials:
    "unknown drain credentials: post with the drain URL `tally apps create` printed (http://tally:<secret>@host/logs); `tally apps rotate NAME --drain-secret` issues a new one",
  readToken:
    "a read token of an app is required: Authorization: Bearer tly_r_… (`tally apps create` prints one; `tally apps rotate NAME --read-token` issues a new one)",
  adminToken:
    "the admin token is required: Authorization: Bearer <the server's TALLY_ADMIN_TOKEN> (or the one it generated into its data dir)",
  catalogueUnavailable: "the app catalogue cannot be read now (its shard does not answer); retry shortly",
} as const
