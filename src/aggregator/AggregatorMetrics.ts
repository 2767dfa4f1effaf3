/** The aggregator's self-metrics. */
import { Metric } from "effect"

export const lag = Metric.gauge("tally_aggregator_consumer_lag", {
  description: "records not yet processed, per topic and partition",
})
export const openWindows = Metric.gauge("tally_aggregator_open_windows", {
  description: "open windows, per topic and partition",
})
export const drainBatches = Metric.gauge("tally_aggregator_drain_batches", {
  description:
    "drain batches remembered to discard retried deliveries (until their windows close), per topic and partition",
})
export const emissions = Metric.counter("tally_aggregator_emissions_total", {
  description: "summary snapshots produced, by summary topic",
  incremental: true,
})
export const lateDropped = Metric.counter("tally_aggregator_late_dropped_total", {
  description:
    "measurements dropped because their window had closed (later than the 5 min lateness), by type and period",
  incremental: true,
})
export const duplicates = Metric.counter("tally_aggregator_duplicate_deliveries_total", {
  description:
    "measurements of a retried drain batch discarded (another delivery of its Frame-Id came first)",
  incremental: true,
})
export const processed = Metric.counter("tally_aggregator_records_total", {
  description: "raw records processed (a record holds one drain delivery's measurements of one key)",
  incremental: true,
})
