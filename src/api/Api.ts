/** The whole public HTTP contract of tally, schema-first; handlers live with their features. */
import { HttpApi, OpenApi } from "effect/http-api"
import { AlertsApi } from "./Alerts.ts"
import { AppsApi } from "./Apps.ts"
import { DrainsApi } from "./Drains.ts"
import { MetricsApi } from "./Metrics.ts"
import { SystemApi } from "./System.ts"

export class TallyApi extends HttpApi.make("tally")
  .add(DrainsApi)
  .add(AppsApi)
  .add(MetricsApi)
  .add(SystemApi)
  .add(AlertsApi)
  .annotateMerge(OpenApi.annotations({ title: "tally", version: "1" })) {}
