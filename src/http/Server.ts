/**
 * The HTTP composition root of a tally process: the TallyApi contract (src/api) with the handlers of every
 * feature (drains, apps, reads, health) and the dashboard, served on TALLY_PORT.
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { HttpRouter } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { TallyApi } from "../api/Api.ts"
import { AdminAuthLive, AppsHandlers } from "../apps/http.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { DashboardRoutes } from "../dashboard/http.ts"
import { DrainAuthLive, DrainsHandlers } from "../ingress/http.ts"
import { SystemHandlers } from "../observability/http.ts"
import { MetricsHandlers, ReadAuthLive } from "../query/http.ts"

export const ApiRoutes = HttpApiBuilder.layer(TallyApi, { openapiPath: "/api/v1/openapi.json" }).pipe(
  Layer.provide([DrainsHandlers, AppsHandlers, SystemHandlers, MetricsHandlers]),
  Layer.provide([DrainAuthLive, AdminAuthLive, ReadAuthLive]),
)

/** Serves the API on TALLY_PORT (0 picks a free port, for tests); exposes the HttpServer and its address. */
export const HttpLive = Layer.unwrap(
  Effect.map(Effect.service(TallyConfig), (s) =>
    HttpRouter.serve(Layer.mergeAll(ApiRoutes, DashboardRoutes), { disableLogger: true }).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: s.port })),
    ),
  ),
)
