/**
 * What tally sends: an Alertmanager v2 alert (`POST /api/v2/alerts` takes an array of them) and an
 * Alertmanager webhook v4 payload for a rule's webhook, signed with the rule's secret
 * (`X-Tally-Signature: sha256=<hex HMAC-SHA256 of the body>`). Labels: alertname (the rule's name), app,
 * owner, process_type, metric; annotations: summary, value, threshold. The fingerprint is Alertmanager's
 * own (FNV-1a 64 over the sorted label pairs, as prometheus/common's LabelSet.Fingerprint), so a receiver
 * that also gets the alert from Alertmanager sees the same one.
 *
 * Delivery ids are derived from (rule, receiver kind, status, minute): an evaluation that is written
 * twice (a retried transaction whose first commit was in fact applied) makes the same ids, and the
 * outbox keeps one of each.
 */
import { createHash, createHmac } from "node:crypto"
import { formatValue, METRIC_INFO, type Rule } from "./Rules.ts"

export type Labels = Readonly<Record<string, string>>

export const labelsOf = (rule: Rule): Labels => ({
  alertname: rule.name,
  app: rule.app,
  owner: rule.owner,
  process_type: rule.processType,
  metric: rule.metric,
})

const FNV_OFFSET = 14695981039346656037n
const FNV_PRIME = 1099511628211n
const MASK = (1n << 64n) - 1n

/** Alertmanager's fingerprint of a label set: 16 hex digits. */
export const fingerprint = (labels: Labels): string => {
  let h = FNV_OFFSET
  const add = (bytes: Uint8Array) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK
  }
  const sep = new Uint8Array([255])
  const enc = new TextEncoder()
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name))
    add(sep)
    add(enc.encode(labels[name]!))
    add(sep)
  }
  return h.toString(16).padStart(16, "0")
}

export const signature = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`

/** A UUID-shaped id from a stable name (see the header). */
export const deliveryId = (name: string): string => {
  const h = createHash("sha256").update(name).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** Alertmanager's "no end" in webhook payloads of firing alerts. */
export const NO_END = "0001-01-01T00:00:00Z"

export interface Notice {
  readonly rule: Rule
  readonly status: "firing" | "resolved"
  /** The value of the minute that caused it. */
  readonly value: number | null
  readonly startsMs: number
  /** For Alertmanager: a few minutes ahead while firing; the resolve time once resolved. */
  readonly endsMs: number
  /** Links the dashboard. */
  readonly generatorUrl: string
}

const iso = (ms: number) => new Date(ms).toISOString()

export const summaryOf = (rule: Rule, status: "firing" | "resolved", value: number | null): string => {
  const unit = METRIC_INFO[rule.metric].unit
  const v = `${formatValue(value)}${value === null ? "" : ` ${unit}`}`
  return status === "firing"
    ? `${rule.name}: ${rule.metric} of ${rule.processType} is ${v}, at or above ${formatValue(rule.threshold)} ${unit} for ${rule.for}`
    : `${rule.name}: ${rule.metric} of ${rule.processType} is back below ${formatValue(rule.threshold)} ${unit} (${v})`
}

const annotations = (n: Notice) => ({
  summary: summaryOf(n.rule, n.status, n.value),
  value: formatValue(n.value),
  threshold: formatValue(n.rule.threshold),
})

/** One alert of Alertmanager's `POST /api/v2/alerts` body. */
export const alertmanagerAlert = (n: Notice) => ({
  labels: labelsOf(n.rule),
  annotations: annotations(n),
  startsAt: iso(n.startsMs),
  endsAt: iso(n.endsMs),
  generatorURL: n.generatorUrl,
})

/** The Alertmanager webhook v4 payload of one rule's notification. */
export const webhookPayload = (n: Notice, externalUrl: string) => {
  const labels = labelsOf(n.rule)
  const notes = annotations(n)
  const groupLabels = { alertname: labels.alertname, app: labels.app }
  return {
    version: "4",
    groupKey: `{}:{alertname=${JSON.stringify(labels.alertname)}, app=${JSON.stringify(labels.app)}}`,
    truncatedAlerts: 0,
    status: n.status,
    receiver: "tally",
    groupLabels,
    commonLabels: labels,
    commonAnnotations: notes,
    externalURL: externalUrl,
    alerts: [
      {
        status: n.status,
        labels,
        annotations: notes,
        startsAt: iso(n.startsMs),
        endsAt: n.status === "firing" ? NO_END : iso(n.endsMs),
        generatorURL: n.generatorUrl,
        fingerprint: fingerprint(labels),
      },
    ],
  }
}

/** The dashboard link of a rule's chart. */
export const dashboardUrl = (base: string, rule: Rule): string => {
  const url = new URL("/", base)
  url.searchParams.set("owner", rule.owner)
  url.searchParams.set("alert", rule.id)
  url.searchParams.set("metric", rule.metric)
  url.searchParams.set("process_type", rule.processType)
  return url.toString()
}
