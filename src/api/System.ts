/** Health and the pipeline's own Prometheus metrics. */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"

export const Health = Schema.Struct({
  status: Schema.Literals(["ok", "degraded"]),
  /** Each dependency and stage: "ok" or "down: why". */
  checks: Schema.Record(Schema.String, Schema.String),
  /** Records each stage of the process is behind the end of what it reads. */
  lag: Schema.Record(Schema.String, Schema.Number),
})

export class SystemApi extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("healthz", "/healthz", {
      success: Health,
      error: Health.pipe(HttpApiSchema.status(503)),
    }),
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics", {
      success: Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/plain; version=0.0.4" })),
    }),
  ) {}
