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

const encoder = new TextEncoder()

/**
 * Alertmanager's fingerprint of a label set: FNV-1a 64 over each sorted name, 0xff, value, 0xff; 16 hex
 * digits. In two 32-bit halves (BigInt per byte cost ~100 µs a notification).
 */
export const fingerprint = (labels: Labels): string => {
  // FNV offset basis 0xcbf29ce484222325; prime 0x100000001b3 = 2^40 + 0x1b3.
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  const add = (b: number) => {
    lo = (lo ^ b) >>> 0
    // (hi:lo) * (2^40 + 0x1b3) mod 2^64: lo * 0x1b3 (52 bits, exact as a double), hi * 0x1b3 and lo << 40.
    const l = lo * 0x1b3
    const carry = Math.floor(l / 0x100000000)
    const h = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0
    lo = l >>> 0
    hi = h
  }
  // UTF-8 bytes: ASCII as is, the rest of a string from its first other character encoded.
  const addText = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c >= 0x80) {
        for (const b of encoder.encode(text.slice(i))) add(b)
        return
      }
      add(c)
    }
  }
  for (const name of Object.keys(labels).sort()) {
    addText(name)
    add(255)
    addText(labels[name]!)
    add(255)
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0")
}

const fingerprints = new WeakMap<Rule, string>()
/** A rule's fingerprint (its labels do not change), computed once. */
export const fingerprintOf = (rule: Rule): string => {
  let f = fingerprints.get(rule)
  if (f === undefined) fingerprints.set(rule, (f = fingerprint(labelsOf(rule))))
  return f
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
        fingerprint: fingerprintOf(n.rule),
      },
    ],
  }
}

const links = new WeakMap<Rule, string>()
/** The dashboard link of a rule's chart (computed once per rule). */
export const dashboardUrl = (base: string, rule: Rule): string => {
  let link = links.get(rule)
  if (link === undefined) {
    const url = new URL("/", base)
    url.searchParams.set("owner", rule.owner)
    url.searchParams.set("alert", rule.id)
    url.searchParams.set("metric", rule.metric)
    url.searchParams.set("process_type", rule.processType)
    links.set(rule, (link = url.toString()))
  }
  return link
}
