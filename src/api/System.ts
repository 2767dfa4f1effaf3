/** Health (liveness, readiness) and the pipeline's own Prometheus metrics. */
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"

export const Health = Schema.Struct({
  /** ok: every check answers; degraded: only shards do not (still ready); down: not ready (503). */
  status: Schema.Literals(["ok", "degraded", "down"]),
  /** Each dependency and stage: "ok" or "down: why". */
  checks: Schema.Record(Schema.String, Schema.String),
  /** Records each stage of the process is behind the end of what it reads. */
  lag: Schema.Record(Schema.String, Schema.Number),
})

/** A 503 of a health endpoint: the report, with the error shape of every 4xx/5xx. */
export const NotReady = Schema.Struct({
  ...Health.fields,
  error: Schema.Literal("not_ready"),
  /** The first check that is down, and why. */
  message: Schema.String,
}).annotate({
  description:
    "Not live or not ready: `error` is `not_ready`, `message` names the first check that is down; `checks` has them all.",
})

const READY =
  "Ready: the process can do its work now. 503 when the bus (Kafka, or the embedded log) does not answer, or a stage has failed, stalled, or failed its writes or appends for 30 s with no success. A shard that does not answer is named in `checks` and makes `status` `degraded` (still 200): it holds back only its own rows."

export class SystemApi extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("livez", "/livez", {
      success: Health,
      error: NotReady.pipe(HttpApiSchema.status(503)),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Liveness: every stage of the process runs",
        description:
          "503 only when a stage has failed or stopped (the process then exits 1 for its supervisor to restart it); never because a dependency is down. Point liveness probes here.",
      }),
    ),
  )
  .add(
    HttpApiEndpoint.get("readyz", "/readyz", {
      success: Health,
      error: NotReady.pipe(HttpApiSchema.status(503)),
    }).annotateMerge(OpenApi.annotations({ summary: "Readiness", description: READY })),
  )
  .add(
    HttpApiEndpoint.get("healthz", "/healthz", {
      success: Health,
      error: NotReady.pipe(HttpApiSchema.status(503)),
    }).annotateMerge(OpenApi.annotations({ summary: "Readiness (the same as /readyz)", description: READY })),
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics", {
      success: Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/plain; version=0.0.4" })),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "The process's own metrics, Prometheus text format (docs/operations.md lists them)",
      }),
    ),
  ) {}
