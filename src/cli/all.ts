/**
 * `tally all` (what `npm start` runs): every stage in one process. On embedded defaults that is an
 * in-process bus and PGlite under TALLY_DATA_DIR; TALLY_KAFKA_BROKERS / TALLY_PG_SHARDS switch to real
 * Kafka and Postgres. `--demo` adds a simulated fleet posting drains to its own /logs.
 */
import { setFlagsFromString } from "node:v8"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpServer } from "effect/http"
import { Aggregator } from "../aggregator/Aggregator.ts"
import { AdminToken } from "../apps/AdminToken.ts"
import { localDrainWarning, publicBase, specificHost } from "../apps/http.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { DemoFleet } from "../demo/Fleet.ts"
import { HttpLive } from "../http/Server.ts"
import { MetricsFromZero } from "../observability/Catalogue.ts"
import { Retrier, Sink } from "../sink/Sink.ts"
import { AlerterStage } from "./alerter.ts"
import { DataDir, localUrl } from "./DataDir.ts"
import { launch } from "./launch.ts"
import { withDependencies } from "./serve.ts"

/** Tells the person who ran `npm start` where to go and how to create an app. */
const Banner = Layer.effectDiscard(
  Effect.gen(function* () {
    const server = yield* HttpServer.HttpServer
    const token = yield* AdminToken
    const settings = yield* TallyConfig
    const address = server.address
    const port = address._tag === "UnixPathAddress" ? settings.port : address.port
    const url =
      address._tag === "UnixPathAddress"
        ? address.path
        : `http://${specificHost(settings.host) ?? "localhost"}:${port}`
    // Shell commands (tally apps create) reach this server through owner.json (DataDir.ts).
    yield* DataDir.announce(localUrl(settings.host, port))
    const warning = localDrainWarning(publicBase(settings, port))
    const mode = `${Option.isSome(settings.kafkaBrokers) ? "Kafka" : "in-process bus"}, ${Option.isSome(settings.pgShards) ? `${settings.pgShards.value.length} Postgres shards` : `PGlite in ${settings.dataDir}`}`
    // A token given in TALLY_ADMIN_TOKEN is never printed (DESIGN.md): the curl line names the variable.
    const given = Option.isSome(settings.adminToken)
    const kept = `${settings.dataDir}/admin-token`
    const bearer = given
      ? `"authorization: Bearer $TALLY_ADMIN_TOKEN"`
      : `'authorization: Bearer ${Redacted.value(token.token)}'`
    yield* Console.log(
      [
        `tally is running (${mode})`,
        `  dashboard:   ${url}/`,
        `  drains:      POST ${url}/logs`,
        given
          ? "  admin token: the one in TALLY_ADMIN_TOKEN (not printed)"
          : `  admin token: ${Redacted.value(token.token)} (${token.generated ? "generated, " : ""}kept in ${kept})`,
        `  create an app: curl -s -X POST ${url}/api/v1/apps -H ${bearer} -H 'content-type: application/json' -d '{"name":"my-app"}'`,
        ...(warning ? [`  ${warning}`] : []),
      ].join("\n"),
    )
  }),
)

/**
 * Built sink first, HTTP last, so a stop runs the other way round: the server stops taking drains, the
 * aggregator finishes what arrived and flushes, and the sink writes those summaries before it stops.
 */
const stages = HttpLive.pipe(
  Layer.provideMerge(Aggregator.layer),
  Layer.provideMerge(Layer.mergeAll(Sink.layer, Retrier.layer, AlerterStage)),
)

/** Every stage, its dependencies built once (layers are shared by reference), the banner, and the demo fleet if asked. */
export const allServices = (demo: boolean) =>
  withDependencies(
    Layer.mergeAll(
      Banner,
      MetricsFromZero(
        ["process", "ingress", "aggregator", "sink", "retrier", "alerter", "consumer"],
        ["aggregator", "sink", "events", "retrier", "alerter"],
      ),
      ...(demo ? [DemoFleet] : []),
    ).pipe(Layer.provideMerge(stages)),
  )

/**
 * The old generation grows to 1.5x what a full collection leaves live, where V8 lets a process that
 * allocates fast grow it to up to 4x: most of `npm start`'s resident memory under load was that room
 * for garbage (70 MB live in an old space of 240-300 MB). At 55,000 lines/s it peaked at 535-596 MB
 * instead of 648-720 MB, for ~5% of the rate accepted when overloaded (BENCHMARKS.md). A
 * --heap-growing-percent on node's command line wins.
 */
const HEAP_GROWING_PERCENT = 50

const boundHeapGrowth = Effect.sync(() => {
  if (!process.execArgv.some((a) => a.replaceAll("_", "-").startsWith("--heap-growing-percent")))
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
})

export const all = Command.make(
  "all",
  {
    demo: Flag.Boolean("demo").pipe(
      Flag.withDescription("add a simulated fleet posting drains"),
      Flag.withDefault(false),
    ),
  },
  ({ demo }) => Effect.andThen(boundHeapGrowth, launch("all", { bus: true, store: true }, allServices(demo))),
).pipe(
  Command.withDescription(
    "every stage in one process (npm start): ingress, aggregator, sink, retrier, alerter, API and dashboard",
  ),
)
