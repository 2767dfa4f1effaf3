/** The whole public HTTP contract of tally, schema-first; handlers live with their features. */
import { HttpApi, OpenApi } from "effect/http-api"
import { AppsApi } from "./Apps.ts"
import { DrainsApi } from "./Drains.ts"
import { MetricsApi } from "./Metrics.ts"
import { SystemApi } from "./System.ts"

export class TallyApi extends HttpApi.make("tally")
  .add(DrainsApi)
  .add(AppsApi)
  .add(MetricsApi)
  .add(SystemApi)
  .annotateMerge(OpenApi.annotations({ title: "tally", version: "1" })) {}
