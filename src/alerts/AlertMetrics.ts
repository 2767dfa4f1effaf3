/** The alerter's self-metrics (/metrics). */
import { Effect, Metric } from "effect"

export const rules = Metric.gauge("tally_alert_rules", {
  description: "alert rules this alerter worker evaluates",
})
export const records = Metric.counter("tally_alert_summary_records_total", {
  description: "summary records the alerter read (most are not of a watched series and are skipped)",
  incremental: true,
})
export const evaluations = Metric.counter("tally_alert_evaluations_total", {
  description: "rule evaluations of a minute (corrections of a minute already evaluated included)",
  incremental: true,
})
export const rounds = Metric.counter("tally_alert_rounds_total", {
  description: "evaluation rounds written (one a minute per alerter worker)",
  incremental: true,
})
export const transitions = Metric.counter("tally_alert_transitions_total", {
  description: "alert state transitions, by the state entered (ok, pending, firing)",
  incremental: true,
})
export const deliveries = Metric.counter("tally_alert_deliveries_total", {
  description:
    "notifications by receiver (alertmanager, webhook) and outcome: delivered (2xx), failed (a try that failed; retried with backoff), abandoned (undelivered for a day), refused (a webhook pointing at tally itself)",
  incremental: true,
})
export const latency = Metric.histogram("tally_alert_delivery_seconds", {
  description: "from a notification's evaluation to its receiver's 2xx, by receiver",
  boundaries: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
})
export const backlog = Metric.gauge("tally_alert_backlog", {
  description: "notifications written and not yet acknowledged by their receiver, by receiver",
})
export const failingReceivers = Metric.gauge("tally_alert_receivers_failing", {
  description: "receivers whose last delivery failed (they are retried with backoff, their own queue held)",
})
export const waitedBarrier = Metric.counter("tally_alert_barrier_timeouts_total", {
  description:
    "rounds evaluated before the alerter had read its summary partitions to where they ended when the round became due (it waited 30 s)",
  incremental: true,
})

const RECEIVERS = ["alertmanager", "webhook"] as const
const OUTCOMES = ["delivered", "failed", "abandoned", "refused"] as const

/** Every series at 0, so a scrape shows them before the first event. */
export const registerAlertMetrics = Effect.all(
  [
    Metric.update(rules, 0),
    Metric.update(records, 0),
    Metric.update(evaluations, 0),
    Metric.update(rounds, 0),
    Metric.update(waitedBarrier, 0),
    Metric.update(failingReceivers, 0),
    ...(["ok", "pending", "firing"] as const).map((to) =>
      Metric.update(Metric.withAttributes(transitions, { to }), 0),
    ),
    ...RECEIVERS.flatMap((receiver) => [
      Metric.update(Metric.withAttributes(backlog, { receiver }), 0),
      ...OUTCOMES.map((outcome) =>
        Metric.update(Metric.withAttributes(deliveries, { receiver, outcome }), 0),
      ),
    ]),
  ],
  { discard: true },
)
