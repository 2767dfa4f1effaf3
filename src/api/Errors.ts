/** Errors of the public HTTP contract, each with its status (DESIGN.md, Public contracts). */
import { Schema } from "effect"
import { HttpApiSchema } from "effect/http-api"

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  { httpApiStatus: 401 },
) {}

export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  { httpApiStatus: 404 },
) {}

export class BadRequest extends Schema.TaggedError<BadRequest>()(
  "BadRequest",
  { message: Schema.String },
  { httpApiStatus: 400 },
) {}

export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { message: Schema.String },
  { httpApiStatus: 409 },
) {}

/** 400 for a drain body whose framing broke: the frames before `offset` were accepted. */
export class BadFraming extends Schema.TaggedError<BadFraming>()(
  "BadFraming",
  { message: Schema.String, offset: Schema.Number, framesAccepted: Schema.Number },
  { httpApiStatus: 400 },
) {}

export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { message: Schema.String },
  { httpApiStatus: 413 },
) {}

export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  { message: Schema.String },
  { httpApiStatus: 415 },
) {}

/** 503 with Retry-After: Logplex retries the batch (same Frame-Id) later. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number,
}) {}

export const UnavailableWithRetryAfter = Unavailable.pipe(
  HttpApiSchema.encodeToWithHeaders(
    {
      body: Schema.Struct({ _tag: Schema.Literal("Unavailable"), message: Schema.String }).pipe(
        HttpApiSchema.status(503),
      ),
      headers: { "retry-after": Schema.NumberFromString },
    },
    {
      decode: ({ body, headers }) =>
        new Unavailable({ message: body.message, retryAfterSeconds: headers["retry-after"] }),
      encode: (e) => ({
        body: { _tag: "Unavailable" as const, message: e.message },
        headers: { "retry-after": e.retryAfterSeconds },
      }),
    },
  ),
)
