/**
 * Prints the Metrics table of docs/operations.md from src/observability/Catalogue.ts (the metrics' own
 * help texts): `node_modules/.bin/node scripts/metrics-table.ts`. test/observability/metrics.test.ts
 * holds the doc's table to what /metrics shows.
 */
import { ALL_DOCUMENTED, type Part } from "../src/observability/Catalogue.ts"

const kind: Record<string, string> = { Counter: "counter", Gauge: "gauge", Histogram: "histogram" }
const servedBy: Record<Part, string> = {
  process: "every process",
  ingress: "ingress, api, all",
  aggregator: "aggregator, all",
  sink: "sink, all",
  retrier: "retrier, all",
  alerter: "alerter, all",
  consumer: "aggregator, sink, retrier, all",
  log: "on the embedded log",
}

console.log("| metric | type | labels | served by | meaning |")
console.log("| --- | --- | --- | --- | --- |")
for (const d of ALL_DOCUMENTED)
  console.log(
    `| \`${d.metric.id}\` | ${kind[d.metric.type] ?? d.metric.type} | ${d.labels.join(", ")} | ${d.metric.id === "tally_dead_letters_total" ? "sink, retrier, all" : servedBy[d.part]} | ${d.metric.description} |`,
  )
