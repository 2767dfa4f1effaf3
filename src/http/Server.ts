/**
 * The HTTP composition root of a tally process: the TallyApi contract (src/api) with the handlers of every
 * feature (drains, apps, reads, health) and the dashboard, served on TALLY_PORT. Drain POSTs are served
 * by the DrainListener before the HttpApi router sees them (the same answers, a fraction of the cost).
 */
import { createServer, type IncomingMessage, Server, type ServerResponse } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { HttpRouter } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { AlertStore } from "../alerts/AlertStore.ts"
import { AlertsHandlers, AlertsReadAuthLive } from "../alerts/http.ts"
import { TallyApi } from "../api/Api.ts"
import { AdminAuthLive, AppsHandlers } from "../apps/http.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { DashboardRoutes, SecurityHeaders } from "../dashboard/http.ts"
import { DrainListener } from "../ingress/DrainListener.ts"
import { DrainAuthLive, DrainsHandlers } from "../ingress/http.ts"
import { SystemHandlers } from "../observability/http.ts"
import { MetricsHandlers, ReadAuthLive } from "../query/http.ts"
import { RemoteReadRoutes } from "../query/RemoteRead.ts"
import { ErrorBodies } from "./ErrorBodies.ts"

export const ApiRoutes = HttpApiBuilder.layer(TallyApi, { openapiPath: "/api/v1/openapi.json" }).pipe(
  Layer.provide([
    DrainsHandlers,
    AppsHandlers,
    SystemHandlers,
    MetricsHandlers,
    AlertsHandlers.pipe(Layer.provide(AlertStore.layer)),
  ]),
  Layer.provide([DrainAuthLive, AdminAuthLive, ReadAuthLive, AlertsReadAuthLive]),
)

/** A Node server whose `request` events go to `first` before its other listeners (the Effect router). */
class FrontedServer extends Server {
  private readonly first: (req: IncomingMessage, res: ServerResponse) => boolean
  constructor(first: (req: IncomingMessage, res: ServerResponse) => boolean) {
    super()
    this.first = first
  }
  override emit(event: string | symbol, ...args: Array<unknown>): boolean {
    if (event === "request" && this.first(args[0] as IncomingMessage, args[1] as ServerResponse)) return true
    return Reflect.apply(Server.prototype.emit, this, [event, ...args]) as boolean
  }
}

/**
 * Slow clients: the headers must arrive within 10 s, and a whole request within what the largest drain
 * body takes at TALLY_MIN_BODY_RATE (plus its 5 s grace and some), at least 60 s; checked every second.
 * (A drain body slower than the rate is cut off sooner, by the ingress.)
 */
const timeouts = (server: Server, s: { readonly maxBodyBytes: number; readonly minBodyRate: number }) => {
  server.headersTimeout = 10_000
  server.requestTimeout = Math.max(60_000, Math.ceil((1000 * s.maxBodyBytes) / s.minBodyRate) + 15_000)
  // A constructor option Node reads when the server starts listening (not in its types as a property).
  return Object.assign(server, { connectionsCheckingInterval: 1_000 })
}

const serve = (server: () => Server) =>
  Layer.unwrap(
    Effect.map(Effect.service(TallyConfig), (s) =>
      HttpRouter.serve(
        Layer.mergeAll(ApiRoutes, DashboardRoutes, RemoteReadRoutes, SecurityHeaders, ErrorBodies),
        {
          disableLogger: true,
        },
      ).pipe(
        // TALLY_HOST: one listen address; unset, every interface (Node's default).
        Layer.provideMerge(
          NodeHttpServer.layer(() => timeouts(server(), s), {
            port: s.port,
            ...(Option.isSome(s.host) ? { host: s.host.value } : {}),
          }),
        ),
      ),
    ),
  )

/** Serves the API on TALLY_PORT (0 picks a free port, for tests); exposes the HttpServer and its address. */
export const HttpLive = Layer.unwrap(
  Effect.map(Effect.service(DrainListener), (drains) => serve(() => new FrontedServer(drains.handle))),
).pipe(Layer.provide(DrainListener.layer))

/** The same surface with every request, drain POSTs included, served by the HttpApi (the reference). */
export const HttpApiOnlyLive = serve(createServer)
