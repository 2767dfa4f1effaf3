/** The ingress's self-metrics (Prometheus names on /metrics). */
import { Metric } from "effect"

export const requests = Metric.counter("tally_ingress_requests_total", {
  description: "drain POSTs by response status",
  incremental: true,
})
export const lines = Metric.counter("tally_ingress_lines_total", {
  description: "log lines received in drain bodies (one a Logplex frame)",
  incremental: true,
})
export const produced = Metric.counter("tally_ingress_measurements_produced_total", {
  description: "measurements acknowledged by the bus (Kafka, or the embedded log), by type",
  incremental: true,
})
export const ignored = Metric.counter("tally_ingress_lines_ignored_total", {
  description: "lines that are neither measurements nor events (ordinary app logs)",
  incremental: true,
})
export const rejected = Metric.counter("tally_ingress_rejected_total", {
  description:
    "lines or measurements refused, by reason (future, too_old, malformed, bad_process_type, bad_dyno, bad_label, bad_status, too_many_process_types, too_many_labels); whole drain requests refused with 503, by reason (inflight, app_inflight, slow_body, app_backpressure, backpressure). Never by app.",
  incremental: true,
})
export const msgCountMismatch = Metric.counter("tally_ingress_msg_count_mismatch_total", {
  description: "batches whose Logplex-Msg-Count differs from the frames received",
  incremental: true,
})
export const duplicates = Metric.counter("tally_ingress_duplicate_batches_total", {
  description: "retried batches (same Frame-Id) acknowledged without producing again",
  incremental: true,
})
export const frameIdsNotRemembered = Metric.counter("tally_ingress_frame_ids_not_remembered_total", {
  description:
    "acknowledged batches not remembered by Frame-Id because their app had TALLY_APP_MAX_FRAME_IDS remembered (a retry is deduplicated by the aggregator instead)",
  incremental: true,
})
export const latency = Metric.histogram("tally_ingress_request_seconds", {
  description: "drain POST latency, from the request to the bus's acknowledgement of its last record",
  boundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
})
export const inflightBytes = Metric.gauge("tally_ingress_inflight_bytes", {
  description: "bytes of drain bodies being processed",
})
