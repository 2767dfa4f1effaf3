/** End-to-end helpers: tally processes, drain bodies, and the oracle the API must match. */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import { join } from "node:path"
import { visitSamples } from "../../src/aggregator/Samples.ts"
import { tickLines } from "../../src/demo/Fleet.ts"
import { isRolledUp } from "../../src/domain/MeasurementType.ts"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import { toRecord } from "../../src/ingress/Encode.ts"

const root = join(import.meta.dirname, "../..")

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

export interface Proc {
  readonly child: ChildProcess
  readonly output: () => string
}

export const tally = (args: ReadonlyArray<string>, env: Record<string, string>): Proc => {
  let output = ""
  const child = spawn(process.execPath, [join(root, "src/main.ts"), ...args], {
    env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  return { child, output: () => output }
}

export const stop = (p: Proc, signal: NodeJS.Signals = "SIGTERM") =>
  new Promise<number | null>((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve(p.child.exitCode)
    p.child.once("exit", (code) => resolve(code))
    p.child.kill(signal)
  })

/** Waits until a process has printed `pattern` (its stage is running). */
export const waitOutput = async (p: Proc, pattern: RegExp, ms = 60_000) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (pattern.test(p.output())) return
    if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}:\n${p.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no ${pattern} in:\n${p.output()}`)
}

export const waitHealthy = async (base: string, p: Proc, ms = 60_000) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (p.child.exitCode !== null) throw new Error(`tally exited ${p.child.exitCode}:\n${p.output()}`)
    const ok = await fetch(`${base}/healthz`)
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ok) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`tally did not become healthy:\n${p.output()}`)
}

const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`

/** Drain bodies of a fleet: `ticks` batches 10 s of event time apart, ending `endAgoMs` before now. */
export const fleetBodies = (apps: number, ticks: number, endAgoMs = 5 * 60_000) => {
  const start = Date.now() - endAgoMs - ticks * 10_000
  const out: Array<{ app: number; body: string }> = []
  for (let t = 0; t < ticks; t++)
    for (let a = 0; a < apps; a++)
      out.push({
        app: a,
        body: tickLines(a, t * 2, start + t * 10_000)
          .map(frame)
          .join(""),
      })
  return out
}

export interface Expected {
  count: number
  sum: number
  sumsq: number
  min: number
  max: number
  values: Array<number>
}

/** What the API must answer at step 1m: per `metric|processType|label|minute`, folded in body order. */
export const oracleFromBodies = (bodies: ReadonlyArray<string>, owner: string) => {
  const out = new Map<string, Expected>()
  for (const body of bodies)
    for (const m of parseBody(Buffer.from(body)).parser.measurements) {
      if (!isRolledUp(m.type)) continue
      const r = toRecord(m, { owner, drain: "", frameId: "", delivery: "" })
      const minute = Math.floor(m.timeUs / 1000 / 60_000) * 60_000
      visitSamples(m.type as never, r.value, (metric, label, value) => {
        const k = `${metric}|${m.processType}|${label}|${minute}`
        let e = out.get(k)
        if (!e) out.set(k, (e = { count: 0, sum: 0, sumsq: 0, min: Infinity, max: -Infinity, values: [] }))
        e.count++
        e.sum += value
        e.sumsq += value * value
        e.min = Math.min(e.min, value)
        e.max = Math.max(e.max, value)
        e.values.push(value)
      })
    }
  return out
}

/** Reads every metric of `expected` from the API at step 1m and lists the differences (empty: equal). */
export const differences = async (
  base: string,
  owner: string,
  token: string,
  expected: Map<string, Expected>,
) => {
  const metrics = [...new Set([...expected.keys()].map((k) => k.split("|")[0]!))]
  const minutes = [...expected.keys()].map((k) => Number(k.split("|")[3]))
  const from = new Date(Math.min(...minutes)).toISOString().replace(".000", "")
  const to = new Date(Math.max(...minutes) + 60_000).toISOString().replace(".000", "")
  const got = new Map<string, Record<string, number>>()
  for (const metric of metrics) {
    const r = await fetch(`${base}/api/v1/apps/${owner}/metrics/${metric}?from=${from}&to=${to}&step=1m`, {
      headers: { authorization: `Bearer ${token}` },
    })
    if (r.status !== 200) return [`${metric}: HTTP ${r.status}`]
    const body = (await r.json()) as {
      series: Array<{ label: string; processType: string; points: Array<Record<string, number | string>> }>
    }
    for (const s of body.series)
      for (const p of s.points)
        got.set(
          `${metric}|${s.processType}|${s.label}|${Date.parse(p.time as string)}`,
          p as Record<string, number>,
        )
  }
  const diffs: Array<string> = []
  for (const [k, e] of expected) {
    const p = got.get(k)
    if (!p) {
      diffs.push(`${k}: missing`)
      continue
    }
    for (const f of ["count", "sum", "sumsq", "min", "max"] as const)
      if (p[f] !== e[f]) diffs.push(`${k}: ${f} ${p[f]} != ${e[f]}`)
    if (p.p50 !== undefined) {
      const sorted = [...e.values].sort((a, b) => a - b)
      for (const [q, name] of [
        [0.5, "p50"],
        [0.95, "p95"],
        [0.99, "p99"],
      ] as const) {
        const exact = sorted[Math.floor(q * (sorted.length - 1))]!
        if (Math.abs(p[name]! - exact) > exact * 0.01 + 1e-9)
          diffs.push(`${k}: ${name} ${p[name]} not within 1% of ${exact}`)
      }
    }
  }
  for (const k of got.keys()) if (!expected.has(k)) diffs.push(`${k}: unexpected`)
  return diffs
}

export const postBody = (base: string, secret: string, body: string) =>
  fetch(`${base}/logs`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`tally:${secret}`).toString("base64")}`,
      "content-type": "application/logplex-1",
      "logplex-frame-id": randomBytes(16).toString("hex"),
    },
    body,
  }).then((r) => r.status)
