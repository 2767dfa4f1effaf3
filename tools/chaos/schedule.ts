/**
 * The seeded fault schedule of a chaos run: the same (seed, minutes, left-out kinds) give the same
 * schedule, so `--seed S` replays a run's faults. Times are seconds from the start of the load.
 *
 * Every fault ends by 80% of the run (the last ~20% is fault-free, to see the pipeline converge).
 * The long faults (shard 2 refusing connections, shard 1 hung, the broker down) are spread over the
 * fault window and overlap only when they do not fit side by side (a CI-sized run); the SIGKILLs and
 * SIGTERMs fall anywhere in it, and a few are placed on purpose inside the long faults: the sink and the
 * retrier killed while shard 2 refuses connections (they must start degraded), the ingress/API killed
 * while shard 1 hangs, the active aggregator of worker 0 killed while the broker is down.
 */
import { Random } from "../load/random.ts"

export const KILL_KINDS = [
  "kill-aggregator-0",
  "kill-standby",
  "kill-aggregator-1",
  "kill-sink",
  "kill-retrier",
  "kill-ingress",
  "term-ingress",
] as const
export const LONG_KINDS = ["shard-refuse", "shard-hang", "broker"] as const
export const FAULT_KINDS = [...KILL_KINDS, ...LONG_KINDS] as const

export type KillKind = (typeof KILL_KINDS)[number]
export type LongKind = (typeof LONG_KINDS)[number]
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface Fault {
  readonly kind: FaultKind
  /** When it starts, seconds from the start of the load. */
  readonly at: number
  /** Long faults: how long the shard refuses / hangs / the broker stays stopped (s). */
  readonly seconds?: number
}

export interface ScheduleOptions {
  readonly seed: number
  /** Length of the load (s). */
  readonly loadSeconds: number
  /** Kinds left out (e.g. `broker` while developing: stopping the shared broker disturbs everyone). */
  readonly without?: ReadonlyArray<FaultKind>
}

export interface Schedule {
  readonly seed: number
  readonly loadSeconds: number
  /** Every fault ends by this time (s): 80% of the load. */
  readonly faultsEndBy: number
  readonly without: ReadonlyArray<FaultKind>
  readonly faults: ReadonlyArray<Fault>
}

/** What a fault does, in words (the printed schedule). */
export const describe = (f: Fault): string => {
  switch (f.kind) {
    case "kill-aggregator-0":
      return "SIGKILL aggregator worker 0 (the process holding its partitions)"
    case "kill-standby":
      return "SIGKILL the idle hot standby of aggregator worker 0"
    case "kill-aggregator-1":
      return "SIGKILL aggregator worker 1"
    case "kill-sink":
      return "SIGKILL the sink"
    case "kill-retrier":
      return "SIGKILL the retrier"
    case "kill-ingress":
      return "SIGKILL the ingress/API"
    case "term-ingress":
      return "SIGTERM the ingress/API (graceful stop under load)"
    case "shard-refuse":
      return `shard 2 refuses connections for ${f.seconds} s (ALLOW_CONNECTIONS false + backends terminated)`
    case "shard-hang":
      return `shard 1 hangs for ${f.seconds} s (its proxy accepts and forwards nothing)`
    case "broker":
      return `the Kafka broker stopped, down ${f.seconds} s, started again`
  }
}

/** The time a long fault is expected to take in all: the broker's stop and start add ~25 s. */
const budget = (kind: LongKind, seconds: number) => (kind === "broker" ? seconds + 25 : seconds)

const shuffle = <T>(rng: Random, items: Array<T>): Array<T> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

export const makeSchedule = (o: ScheduleOptions): Schedule => {
  const rng = new Random(o.seed ^ 0xc4a05)
  const without = new Set(o.without ?? [])
  const minutes = o.loadSeconds / 60
  const first = Math.round(Math.min(20, Math.max(8, o.loadSeconds * 0.1)))
  const endBy = Math.floor(o.loadSeconds * 0.8)
  const faults: Array<Fault> = []

  // Long faults: shard 2 refusing 30–60 s, shard 1 hung 30 s, the broker down 15–25 s.
  const long: Array<{ kind: LongKind; seconds: number }> = []
  const each = Math.max(1, Math.round(minutes / 8))
  for (let i = 0; i < each; i++) {
    long.push({ kind: "shard-refuse", seconds: rng.int(30, 60) })
    long.push({ kind: "shard-hang", seconds: 30 })
  }
  long.push({ kind: "broker", seconds: rng.int(15, 25) })
  const placed = shuffle(
    rng,
    long.filter((l) => !without.has(l.kind)),
  )
  const window = endBy - first
  const total = placed.reduce((a, l) => a + budget(l.kind, l.seconds), 0)
  if (total <= window) {
    // Side by side, with random gaps between them.
    const weights = placed.map(() => rng.float()).concat(rng.float())
    const sum = weights.reduce((a, b) => a + b, 0) || 1
    let at = first
    for (const [i, l] of placed.entries()) {
      at += ((window - total) * weights[i]!) / sum
      faults.push({ kind: l.kind, at: Math.round(at), seconds: l.seconds })
      at += budget(l.kind, l.seconds)
    }
  } else {
    // They do not fit side by side (a short run): spread their starts evenly, overlapping.
    for (const [i, l] of placed.entries()) {
      const last = endBy - budget(l.kind, l.seconds)
      const at = placed.length === 1 ? first : first + (i / (placed.length - 1)) * (last - first)
      faults.push({ kind: l.kind, at: Math.max(first, Math.round(at)), seconds: l.seconds })
    }
  }

  // Kills: each kind several times (once in a short run), uniform over the window; a killed process
  // needs ~15 s to be back, so none is later than endBy - 15. The same process is not killed twice
  // within 15 s.
  const killsEach = Math.min(4, Math.max(1, Math.round(minutes / 5)))
  const termsEach = Math.min(3, Math.max(1, Math.round(minutes / 7.5)))
  const lastKill = Math.max(first, endBy - 15)
  const kills: Array<Fault> = []
  const target = (k: KillKind) => (k === "term-ingress" ? "kill-ingress" : k)
  // A SIGTERM gets 30 s to end its process: nothing else strikes the ingress meanwhile.
  const spacing = (a: KillKind, b: KillKind) => (a === "term-ingress" || b === "term-ingress" ? 35 : 15)
  const free = (kind: KillKind, at: number) =>
    kills.every(
      (f) =>
        target(f.kind as KillKind) !== target(kind) ||
        Math.abs(f.at - at) >= spacing(f.kind as KillKind, kind),
    )
  /** Places a kill in [lo, hi] if it can (spacing kept), else anywhere in the window, else in [lo, hi] regardless. */
  const add = (kind: KillKind, lo: number, hi: number) => {
    if (without.has(kind)) return
    const draw = (a: number, b: number) =>
      rng.int(Math.round(Math.max(first, a)), Math.round(Math.min(lastKill, Math.max(a, b))))
    for (let tries = 0; tries < 60; tries++) {
      const at = tries < 30 ? draw(lo, hi) : draw(first, lastKill)
      if (free(kind, at)) return void kills.push({ kind, at })
    }
    kills.push({ kind, at: draw(lo, hi) })
  }
  // The SIGTERM first (it needs the most room), then the kills placed inside the long faults.
  for (let i = 0; i < termsEach; i++) add("term-ingress", first, lastKill)
  const during = (kind: LongKind) => faults.find((f) => f.kind === kind)
  const refuse = during("shard-refuse")
  if (refuse) {
    add("kill-sink", refuse.at + 3, refuse.at + refuse.seconds! - 5)
    add("kill-retrier", refuse.at + 3, refuse.at + refuse.seconds! - 5)
  }
  const hang = during("shard-hang")
  if (hang) add("kill-ingress", hang.at + 3, hang.at + hang.seconds! - 5)
  const broker = during("broker")
  if (broker) add("kill-aggregator-0", broker.at + 3, broker.at + broker.seconds!)
  for (const kind of KILL_KINDS) {
    const want = kind === "term-ingress" ? termsEach : killsEach
    while (kills.filter((k) => k.kind === kind).length < want && !without.has(kind))
      add(kind, first, lastKill)
  }
  faults.push(...kills)
  faults.sort((a, b) => a.at - b.at || a.kind.localeCompare(b.kind))
  return { seed: o.seed, loadSeconds: o.loadSeconds, faultsEndBy: endBy, without: [...without], faults }
}

const clock = (s: number) =>
  `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`

/** The schedule as lines: `mm:ss  what` (times from the start of the load). */
export const formatSchedule = (s: Schedule): Array<string> => [
  `schedule (seed ${s.seed}, ${s.loadSeconds} s of load, faults end by ${clock(s.faultsEndBy)}; poison lines throughout):`,
  ...s.faults.map((f) => `  ${clock(f.at)}  ${describe(f)}`),
  ...(s.without.length > 0 ? [`  left out: ${s.without.join(", ")}`] : []),
]

export { clock }
