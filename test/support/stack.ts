/** The ingress + API stack on an ephemeral port, on the in-memory bus or Kafka, with PGlite or real shards. */
import { Layer } from "effect"
import { AdminToken } from "../../src/apps/AdminToken.ts"
import { Apps } from "../../src/apps/Apps.ts"
import { Bus } from "../../src/bus/Bus.ts"
import { EnsureTopics } from "../../src/bus/EnsureTopics.ts"
import { type Settings, TallyConfig } from "../../src/config/TallyConfig.ts"
import { HttpLive } from "../../src/http/Server.ts"
import { Backpressure } from "../../src/ingress/Backpressure.ts"
import { Cardinality } from "../../src/ingress/Cardinality.ts"
import { Ingress } from "../../src/ingress/Ingress.ts"
import { Query } from "../../src/query/Query.ts"
import type { CopyWriter } from "../../src/store/CopyWriter.ts"
import { Shards } from "../../src/store/Shards.ts"
import { SummaryStore } from "../../src/store/SummaryStore.ts"
import { Stages } from "../../src/stream/Stage.ts"
import { ADMIN } from "./http.ts"

export const ingressStack = <B, E>(
  bus: Layer.Layer<B | Bus, E> = Bus.layerMemory as unknown as Layer.Layer<B | Bus, E>,
  overrides: Partial<Settings> = {},
  shards: Layer.Layer<Shards | CopyWriter, unknown> = Shards.layerPglite(undefined),
) =>
  HttpLive.pipe(
    Layer.provideMerge(Ingress.layer),
    Layer.provideMerge(Cardinality.layer),
    Layer.provideMerge(Backpressure.layer),
    Layer.provideMerge(Query.layer),
    Layer.provideMerge(SummaryStore.layer),
    Layer.provideMerge(Apps.layer),
    Layer.provideMerge(AdminToken.layerFixed(ADMIN)),
    Layer.provideMerge(shards),
    Layer.provideMerge(EnsureTopics),
    Layer.provideMerge(bus),
    Layer.provideMerge(Stages.layer),
    Layer.provideMerge(TallyConfig.layerWith({ port: 0, ...overrides })),
  )
