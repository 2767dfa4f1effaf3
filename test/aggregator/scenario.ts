/**
 * A deterministic drain scenario for the aggregator harness, sent through two real Ingress instances
 * (a retry that reaches "another ingress process") on the in-memory bus under TestClock: several apps
 * and process types across partitions, out-of-order lines, lines 2 and 4 minutes late, lines too late,
 * a retried batch with the same Frame-Id, a far-future line refused upstream, and a closing heartbeat.
 */
import { Effect, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backpressure } from "../../src/ingress/Backpressure.ts"
import { Cardinality } from "../../src/ingress/Cardinality.ts"
import { Ingress } from "../../src/ingress/Ingress.ts"

/** The ingress alone (no pipeline behind it to measure, so no backpressure). */
const ingressAlone = Ingress.layer.pipe(
  Layer.provide(Backpressure.layerOff),
  Layer.provide(Cardinality.layerMemory),
)

export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0)
const OWNERS = [
  "0b7a3f2e-1111-4a57-9c1e-2f0d8b4f1a01",
  "0b7a3f2e-2222-4a57-9c1e-2f0d8b4f1a02",
  "0b7a3f2e-3333-4a57-9c1e-2f0d8b4f1a03",
]

/** A tiny deterministic PRNG (mulberry32). */
export const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00")
const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`

interface Batch {
  readonly at: number
  readonly owner: string
  readonly ingress: 0 | 1
  readonly frameId: string
  readonly body: string
}

const line = (rnd: () => number, t: number, kind: number): string => {
  const dyno = ["web.1", "web.2", "worker.1", "clock.1"][Math.floor(rnd() * 4)]!
  switch (kind % 5) {
    case 0:
    case 1: {
      const status = [200, 200, 200, 304, 404, 500, 503][Math.floor(rnd() * 7)]!
      const code = status === 503 ? 'code=H12 desc="Request timeout" ' : ""
      const at = status === 503 ? "error" : "info"
      return `<158>1 ${iso(t)} host heroku router - at=${at} ${code}method=GET path="/p" host=h request_id=r dyno=web.${1 + Math.floor(rnd() * 2)} connect=${Math.floor(rnd() * 5)}ms service=${Math.floor(rnd() * 900) + 1}ms status=${status} bytes=${Math.floor(rnd() * 5000)}\n`
    }
    case 2:
      return `<134>1 ${iso(t)} host heroku ${dyno} - source=${dyno} dyno=heroku.1.x sample#memory_total=${(100 + rnd() * 400).toFixed(2)}MB sample#memory_rss=${(90 + rnd() * 300).toFixed(2)}MB sample#memory_quota=512.00MB\n`
    case 3:
      return `<134>1 ${iso(t)} host heroku ${dyno} - source=${dyno} dyno=heroku.1.x sample#load_avg_1m=${rnd().toFixed(2)} sample#load_avg_5m=${rnd().toFixed(2)}\n`
    default:
      return rnd() < 0.5
        ? `<45>1 ${iso(t)} host heroku ${dyno} - Error R14 (Memory quota exceeded)\n`
        : `<172>1 ${iso(t)} host heroku logplex - Error L10 (output buffer overflow): ${1 + Math.floor(rnd() * 9)} messages dropped since ${iso(t - 60_000)}.`
  }
}

/** The scenario's drain batches, in the order the ingress receives them. */
export const batches = (count: number, seed = 7, t0 = T0): Array<Batch> => {
  const rnd = random(seed)
  const out: Array<Batch> = []
  for (let i = 0; i < count; i++) {
    const at = t0 + i * 30_000
    const owner = OWNERS[i % OWNERS.length]!
    const lines: Array<string> = []
    for (let k = 0; k < 4; k++) lines.push(line(rnd, at - Math.floor(rnd() * 20_000), Math.floor(rnd() * 5))) // out of order
    if (i % 7 === 3) lines.push(line(rnd, at - 2 * 60_000, 0)) // 2 minutes late
    if (i % 7 === 5) lines.push(line(rnd, at - 4 * 60_000, 2)) // 4 minutes late
    if (i % 11 === 6) lines.push(line(rnd, at - 9 * 60_000, 1)) // too late for its minute, in time for its quarter
    if (i % 13 === 9) lines.push(line(rnd, at - 40 * 60_000, 4)) // too late for both
    if (i % 17 === 8) lines.push(line(rnd, at + 10 * 60_000, 0)) // far future: refused upstream
    out.push({
      at,
      owner,
      ingress: 0,
      frameId: `${String(i).padStart(8, "0")}${"f".repeat(24)}`,
      body: lines.map(frame).join(""),
    })
    // A retry of the previous batch of this owner that reaches the other ingress process.
    if (i % 9 === 4 && i >= OWNERS.length) {
      const previous = out.filter((b) => b.owner === owner && b.ingress === 0).at(-2)!
      out.push({ ...previous, at: at + 1000, ingress: 1 })
    }
  }
  // A heartbeat an hour later on every key closes every window of the scenario.
  const end = t0 + count * 30_000 + 60 * 60_000
  for (const owner of OWNERS)
    out.push({
      at: end,
      owner,
      ingress: 0,
      frameId: "",
      body: [
        `<158>1 ${iso(end)} host heroku router - at=info method=GET path="/" dyno=web.1 connect=1ms service=2ms status=200 bytes=1\n`,
        `<158>1 ${iso(end)} host heroku router - at=info method=GET path="/" connect=1ms service=2ms status=200 bytes=1\n`,
        `<134>1 ${iso(end)} host heroku worker.1 - source=worker.1 sample#memory_total=1.00MB sample#load_avg_1m=0.01\n`,
        `<134>1 ${iso(end)} host heroku clock.1 - source=clock.1 sample#memory_total=1.00MB sample#load_avg_1m=0.01\n`,
        `<134>1 ${iso(end)} host heroku web.2 - source=web.2 sample#memory_total=1.00MB sample#load_avg_1m=0.01\n`,
        `<45>1 ${iso(end)} host heroku web.1 - Error R14 (Memory quota exceeded)\n`,
        `<45>1 ${iso(end)} host heroku worker.1 - Error R14 (Memory quota exceeded)\n`,
        `<45>1 ${iso(end)} host heroku clock.1 - Error R14 (Memory quota exceeded)\n`,
        `<172>1 ${iso(end)} host heroku logplex - Error L10 (output buffer overflow): 1 messages dropped since ${iso(end)}.`,
        `<158>1 ${iso(end)} host heroku router - at=info method=GET path="/" dyno=web.2 connect=1ms service=2ms status=200 bytes=1\n`,
      ]
        .map(frame)
        .join(""),
    })
  return out
}

/** Sends the scenario through two Ingress processes sharing the bus in context, under TestClock. */
export const sendScenario = (scenario: ReadonlyArray<Batch>) =>
  Effect.gen(function* () {
    const ingresses = [
      yield* Effect.provide(Effect.service(Ingress), ingressAlone),
      yield* Effect.provide(Effect.service(Ingress), ingressAlone),
    ]
    const statuses: Array<string> = []
    for (const b of scenario) {
      yield* TestClock.setTime(b.at)
      const result = yield* ingresses[b.ingress]!.ingest({
        owner: b.owner,
        drainToken: `d.${b.owner.slice(0, 8)}`,
        frameId: b.frameId || undefined,
        body: Stream.succeed(new TextEncoder().encode(b.body)),
      }).pipe(Effect.result)
      statuses.push(result._tag)
    }
    return statuses
  })
