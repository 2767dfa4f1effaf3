/** POST /logs: Logplex HTTP drains (application/logplex-1), basic auth with the drain secret. */
import { Context, Schema } from "effect"
import {
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi,
} from "effect/http-api"
import {
  BadFraming,
  BadRequest,
  PayloadTooLarge,
  Unauthorized,
  UnavailableWithRetryAfter,
  UnsupportedMediaType,
} from "./Errors.ts"

/** The app a drain request belongs to, from its credentials (never from the log lines). */
export class DrainOwner extends Context.Service<DrainOwner, { readonly owner: string }>()(
  "tally/api/DrainOwner",
) {}

export class DrainAuth extends HttpApiMiddleware.Service<
  DrainAuth,
  { provides: DrainOwner; requires: never }
>()("tally/api/DrainAuth", {
  security: { basic: HttpApiSecurity.basic },
  // 503 when the catalogue of apps cannot be read (its shard is down) and the secret is not cached.
  error: [Unauthorized, UnavailableWithRetryAfter],
}) {}

export const LOGPLEX = "application/logplex-1"

export class DrainsApi extends HttpApiGroup.make("drains")
  .add(
    HttpApiEndpoint.post("drain", "/logs", {
      headers: {
        "content-type": Schema.optional(Schema.String),
        "content-length": Schema.optional(Schema.NumberFromString),
        "logplex-msg-count": Schema.optional(Schema.String),
        "logplex-frame-id": Schema.optional(Schema.String),
        "logplex-drain-token": Schema.optional(Schema.String),
      },
      payload: HttpApiSchema.StreamUint8Array({
        contentType: [LOGPLEX, "application/octet-stream", "text/plain"],
      }),
      success: HttpApiSchema.NoContent,
      error: [
        BadFraming,
        BadRequest,
        Unauthorized,
        PayloadTooLarge,
        UnsupportedMediaType,
        UnavailableWithRetryAfter,
      ],
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Receive a Logplex drain batch",
        description:
          "204 once every frame is in Kafka; 400 when framing breaks (frames before it are kept) or a Logplex-Frame-Id / Logplex-Drain-Token is malformed; 401 bad credentials; 413 over TALLY_MAX_BODY; 415 not application/logplex-1; 503 + Retry-After when Kafka cannot take it.",
      }),
    ),
  )
  .middleware(DrainAuth) {}
