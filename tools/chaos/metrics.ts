/**
 * Reading tally's /metrics (Prometheus text) from outside: a counter's samples by label, summed; and the
 * ingress's refusals of poison lines (`tally_ingress_rejected_total{reason="bad_…"}`) kept per process
 * incarnation, because a restarted ingress starts its counters at zero. The harness scrapes the ingress
 * every second and right before it kills it, so each incarnation's last value is known.
 */

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export const parseMetrics = (text: string): Array<Sample> => {
  const out: Array<Sample> = []
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue
    const m = LINE.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = l[2]!
    out.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return out
}

/** Sum of a metric's samples, optionally only those whose labels pass `where`. */
export const total = (
  samples: ReadonlyArray<Sample>,
  name: string,
  where: (labels: Readonly<Record<string, string>>) => boolean = () => true,
) => samples.reduce((a, s) => (s.name === name && where(s.labels) ? a + s.value : a), 0)

export const scrape = async (port: number, timeoutMs = 2000): Promise<Array<Sample> | undefined> => {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })
    if (r.status !== 200) return undefined
    return parseMetrics(await r.text())
  } catch {
    return undefined
  }
}

export const health = async (
  port: number,
): Promise<{ status: number; body: unknown } | { status: "unreachable"; body: string }> => {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) })
    return { status: r.status, body: await r.json().catch(() => null) }
  } catch (e) {
    return { status: "unreachable", body: (e as Error).message }
  }
}

/** The ingress's refusals (`tally_ingress_rejected_total` by reason), per incarnation: its last scraped value. */
export class RefusalCounter {
  private readonly byIncarnation = new Map<number, { atMs: number; reasons: Record<string, number> }>()

  record(incarnation: number, samples: ReadonlyArray<Sample>): void {
    const reasons: Record<string, number> = {}
    for (const s of samples)
      if (s.name === "tally_ingress_rejected_total" && s.labels.reason)
        reasons[s.labels.reason] = (reasons[s.labels.reason] ?? 0) + s.value
    this.byIncarnation.set(incarnation, { atMs: Date.now(), reasons })
  }

  /** Every reason, summed over the incarnations. */
  byReason(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const r of this.byIncarnation.values())
      for (const [k, v] of Object.entries(r.reasons)) out[k] = (out[k] ?? 0) + v
    return out
  }

  /** Poison refusals (`bad_*` reasons), summed over the incarnations. */
  total(): number {
    return Object.entries(this.byReason()).reduce((a, [k, v]) => (k.startsWith("bad_") ? a + v : a), 0)
  }

  /** Per incarnation: when it was last read and its `bad_*` count then. */
  perIncarnation(): Array<{ incarnation: number; atMs: number; poison: number }> {
    return [...this.byIncarnation].map(([incarnation, r]) => ({
      incarnation,
      atMs: r.atMs,
      poison: Object.entries(r.reasons).reduce((a, [k, v]) => (k.startsWith("bad_") ? a + v : a), 0),
    }))
  }

  incarnations(): number {
    return this.byIncarnation.size
  }
}
