/** The durable embedded log's self-metrics (on /metrics of `tally all`), set after every retention pass. */
import { Metric } from "effect"

export const diskBytes = Metric.gauge("tally_log_disk_bytes", {
  description: "bytes the embedded log's files take on disk (database and write-ahead log)",
})
export const freeBytes = Metric.gauge("tally_log_free_bytes", {
  description: "bytes inside the embedded log's database that deleted records freed and new ones reuse",
})
export const records = Metric.gauge("tally_log_records", {
  description: "records the embedded log retains, per topic",
})
export const deleted = Metric.counter("tally_log_deleted_records_total", {
  description: "records retention deleted from the embedded log",
  incremental: true,
})
