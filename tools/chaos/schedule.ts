/**
 * The seeded fault schedule of a chaos run: the same (seed, minutes, brokers, left-out kinds) give the
 * same schedule, so `--seed S` replays a run's faults. Times are seconds from the start of the load.
 *
 * Every fault ends by 80% of the run (the last ~20% is fault-free, to see the pipeline converge).
 * The long faults of the pipeline (shard 2 refusing connections, shard 1 hung, the Postgres server
 * restarted, the catalogue shard down, a slow then black-holed network to a shard or to the brokers, a
 * stage frozen, the broker stopped or a Kafka node SIGKILLed) are spread over the fault window and overlap
 * only when they do not fit side by side (a CI-sized run) — but two Kafka nodes are never down at once.
 * The embedded tally (its own load and oracle) has its own track: its disk filled up once, and SIGKILLs.
 * SIGKILLs and SIGTERMs fall anywhere in the window, and a few are placed on purpose inside long faults:
 * the sink and the retrier killed while shard 2 refuses connections (they must start degraded), the
 * ingress/API killed while the catalogue shard is down (it starts knowing no app: drains get 503) and
 * while shard 1 hangs, worker 0's active aggregator killed while the broker is down or a node is dead,
 * and (within the disk-full fault itself) the embedded tally killed while its disk is full.
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
  "kill-embedded",
] as const
export const LONG_KINDS = [
  "shard-refuse",
  "shard-hang",
  "pg-restart",
  "catalogue-down",
  "net-shard",
  "net-broker",
  "freeze",
  "broker",
  "node-kill",
  "node-kill-in-flight",
  "disk-full",
] as const
/** Kinds a module of another issue adds (tools/chaos/extensions.ts): played only when it is there. */
export const EXTENSION_KINDS = ["kill-alerter"] as const
export const FAULT_KINDS = [...KILL_KINDS, ...LONG_KINDS, ...EXTENSION_KINDS] as const

export type KillKind = (typeof KILL_KINDS)[number]
export type LongKind = (typeof LONG_KINDS)[number]
export type FaultKind = (typeof FAULT_KINDS)[number]

/** Kinds that need one broker (stop the only one) or three (kill a node while two carry on). */
export const ONE_BROKER_KINDS: ReadonlyArray<FaultKind> = ["broker"]
export const THREE_BROKER_KINDS: ReadonlyArray<FaultKind> = ["node-kill", "node-kill-in-flight"]
/** Kinds of the embedded tally (its own track). */
export const EMBEDDED_KINDS: ReadonlyArray<FaultKind> = ["kill-embedded", "disk-full"]

/** The kinds a run on `brokers` brokers plays (with the extensions that are present). */
export const kindsFor = (brokers: number, extensions: ReadonlyArray<FaultKind> = []): Array<FaultKind> =>
  FAULT_KINDS.filter(
    (k) =>
      !(brokers === 1 ? THREE_BROKER_KINDS : ONE_BROKER_KINDS).includes(k) &&
      (!(EXTENSION_KINDS as ReadonlyArray<string>).includes(k) || extensions.includes(k)),
  )

/** What a frozen stage is, by occurrence: worker 0's holder (its standby takes over), then the sink, then worker 1. */
export const FREEZE_TARGETS = ["aggregator-0", "sink", "aggregator-1"] as const

export interface Fault {
  readonly kind: FaultKind
  /** When it starts, seconds from the start of the load. */
  readonly at: number
  /** Long faults: how long the shard refuses / hangs / the broker or node stays down / the stage stays frozen (s). */
  readonly seconds?: number
  /** For `freeze`: which stage (FREEZE_TARGETS). */
  readonly target?: string
}

export interface ScheduleOptions {
  readonly seed: number
  /** Length of the load (s). */
  readonly loadSeconds: number
  /** 1: the project's broker; 3: the three-node cluster (default 1). */
  readonly brokers?: number
  /** Kinds left out (e.g. `broker` while developing: stopping the shared broker disturbs everyone). */
  readonly without?: ReadonlyArray<FaultKind>
  /** Extension kinds whose module is present (default none). */
  readonly extensions?: ReadonlyArray<FaultKind>
}

export interface Schedule {
  readonly seed: number
  readonly loadSeconds: number
  readonly brokers: number
  /** Every fault ends by this time (s): 80% of the load. */
  readonly faultsEndBy: number
  readonly without: ReadonlyArray<FaultKind>
  readonly faults: ReadonlyArray<Fault>
}

/** The network fault's phases: 200 ms added to every round trip, then a black hole, then recovery. */
export const NET_DELAY_SECONDS = 30
export const NET_HOLE_SECONDS = 20

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
    case "kill-embedded":
      return "SIGKILL the embedded tally (npm start) under load"
    case "kill-alerter":
      return "SIGKILL the alerter between an alert's firing and its delivery"
    case "shard-refuse":
      return `shard 2 refuses connections for ${f.seconds} s (ALLOW_CONNECTIONS false + backends terminated)`
    case "shard-hang":
      return `shard 1 hangs for ${f.seconds} s (its proxy accepts and forwards nothing)`
    case "pg-restart":
      return "the Postgres server restarted (every shard at once: pg_ctlcluster … restart)"
    case "catalogue-down":
      return `the catalogue shard (shard 0) refuses connections for ${f.seconds} s`
    case "net-shard":
      return `the network to shard 2: +200 ms a round trip for ${NET_DELAY_SECONDS} s, then a ${NET_HOLE_SECONDS} s black hole, then recovery`
    case "net-broker":
      return `the network between aggregator worker 1 + the sink and the brokers: +200 ms a round trip for ${NET_DELAY_SECONDS} s, then a ${NET_HOLE_SECONDS} s black hole, then recovery`
    case "freeze":
      return `${f.target === "aggregator-0" ? "aggregator worker 0's holder" : f.target} frozen (SIGSTOP) for ${f.seconds} s, past its 10 s session timeout, then thawed`
    case "broker":
      return `the Kafka broker stopped, down ${f.seconds} s, started again`
    case "node-kill":
      return `SIGKILL the Kafka node leading the most partitions, down ${f.seconds} s, started again`
    case "node-kill-in-flight":
      return `SIGKILL the Kafka node leading the probe partition while a produce to it is in flight, down ${f.seconds} s, started again`
    case "disk-full":
      return `the embedded tally's disk filled up for ${f.seconds} s (it is SIGKILLed half way: its restarts meet the full disk), then space returns`
  }
}

/** The time a long fault is expected to take in all (a stop and a start add to the time down). */
const budget = (kind: LongKind, seconds: number) =>
  kind === "broker"
    ? seconds + 25
    : kind === "node-kill" || kind === "node-kill-in-flight"
      ? seconds + 15
      : kind === "net-shard" || kind === "net-broker"
        ? NET_DELAY_SECONDS + NET_HOLE_SECONDS
        : kind === "pg-restart"
          ? 10
          : seconds
const NODE_KINDS: ReadonlyArray<LongKind> = ["node-kill", "node-kill-in-flight"]

const shuffle = <T>(rng: Random, items: Array<T>): Array<T> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

/** Places long faults in [first, endBy]: side by side with random gaps when they fit, else evenly, overlapping. */
const place = (
  rng: Random,
  items: Array<{ kind: LongKind; seconds: number; target?: string }>,
  first: number,
  endBy: number,
): Array<Fault> => {
  const out: Array<Fault> = []
  const window = endBy - first
  const total = items.reduce((a, l) => a + budget(l.kind, l.seconds), 0)
  const fault = (l: (typeof items)[number], at: number): Fault => ({
    kind: l.kind,
    at,
    seconds: l.seconds,
    ...(l.target ? { target: l.target } : {}),
  })
  if (total <= window) {
    const weights = items.map(() => rng.float()).concat(rng.float())
    const sum = weights.reduce((a, b) => a + b, 0) || 1
    let at = first
    for (const [i, l] of items.entries()) {
      at += ((window - total) * weights[i]!) / sum
      out.push(fault(l, Math.round(at)))
      at += budget(l.kind, l.seconds)
    }
    return out
  }
  // They do not fit side by side (a short run): spread their starts evenly, overlapping — except the
  // Kafka node kills, which go one after another (two nodes down would stop every produce, by design).
  const nodes = items.filter((l) => NODE_KINDS.includes(l.kind))
  const others = items.filter((l) => !NODE_KINDS.includes(l.kind))
  let nodeAt = first
  for (const l of nodes) {
    out.push(fault(l, Math.min(nodeAt, Math.max(first, endBy - budget(l.kind, l.seconds)))))
    nodeAt += budget(l.kind, l.seconds) + 2
  }
  for (const [i, l] of others.entries()) {
    const last = endBy - budget(l.kind, l.seconds)
    const at = others.length === 1 ? first : first + (i / (others.length - 1)) * (last - first)
    out.push(fault(l, Math.max(first, Math.round(at))))
  }
  return out
}

export const makeSchedule = (o: ScheduleOptions): Schedule => {
  const rng = new Random(o.seed ^ 0xc4a05)
  const brokers = o.brokers ?? 1
  const without = new Set(o.without ?? [])
  const kinds = new Set(kindsFor(brokers, o.extensions).filter((k) => !without.has(k)))
  const minutes = o.loadSeconds / 60
  const first = Math.round(Math.min(20, Math.max(8, o.loadSeconds * 0.1)))
  const endBy = Math.floor(o.loadSeconds * 0.8)
  const faults: Array<Fault> = []

  // The pipeline's long faults, each `each` times (the network ones, the restart and the catalogue
  // once in 15 minutes, the node kills `each + 1` times).
  const each = Math.max(1, Math.round(minutes / 8))
  const long: Array<{ kind: LongKind; seconds: number; target?: string }> = []
  const want = (kind: LongKind, seconds: () => number, times = each, target?: (i: number) => string) => {
    if (!kinds.has(kind)) return
    for (let i = 0; i < times; i++)
      long.push({ kind, seconds: seconds(), ...(target ? { target: target(i) } : {}) })
  }
  want("shard-refuse", () => rng.int(30, 60))
  want("shard-hang", () => 30)
  want("pg-restart", () => 0)
  want("catalogue-down", () => rng.int(20, 30), 1)
  want("net-shard", () => NET_DELAY_SECONDS + NET_HOLE_SECONDS, 1)
  want("net-broker", () => NET_DELAY_SECONDS + NET_HOLE_SECONDS, 1)
  want(
    "freeze",
    () => rng.int(18, 25),
    minutes >= 10 ? FREEZE_TARGETS.length : 1,
    (i) => FREEZE_TARGETS[i % FREEZE_TARGETS.length]!,
  )
  want("broker", () => rng.int(15, 25), 1)
  // (A short run has room for its two node kills one after the other only when they are short.)
  const nodeDown = () => (minutes >= 5 ? rng.int(10, 20) : rng.int(8, 12))
  want("node-kill", nodeDown, minutes >= 10 ? 3 : 1)
  want("node-kill-in-flight", nodeDown, 1)
  faults.push(...place(rng, shuffle(rng, long), first, endBy))
  // The embedded tally's track: its disk full once.
  if (kinds.has("disk-full"))
    faults.push(...place(rng, [{ kind: "disk-full", seconds: rng.int(25, 35) }], first, endBy))

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
    if (!kinds.has(kind)) return
    const draw = (a: number, b: number) =>
      rng.int(Math.round(Math.max(first, a)), Math.round(Math.min(lastKill, Math.max(a, b))))
    for (let tries = 0; tries < 60; tries++) {
      const at = tries < 30 ? draw(lo, hi) : draw(first, lastKill)
      if (free(kind, at)) return void kills.push({ kind, at })
    }
    kills.push({ kind, at: draw(lo, hi) })
  }
  // The kills placed inside the long faults first, then the SIGTERM (it needs the most room), then the rest.
  const during = (kind: LongKind) => faults.filter((f) => f.kind === kind)
  const inside = (f: Fault | undefined, kind: KillKind) => {
    if (f) add(kind, f.at + 3, f.at + Math.max(4, (f.seconds ?? 10) - 5))
  }
  inside(during("shard-refuse")[0], "kill-sink")
  inside(during("shard-refuse")[0], "kill-retrier")
  // Early in the catalogue's outage: the ingress must be back (and knowing no app) while it lasts.
  const catalogue = during("catalogue-down")[0]
  if (catalogue) add("kill-ingress", catalogue.at + 2, catalogue.at + Math.max(3, catalogue.seconds! / 3))
  if (killsEach > 1 || !kinds.has("catalogue-down")) inside(during("shard-hang")[0], "kill-ingress")
  inside(during("broker")[0] ?? during("node-kill")[0], "kill-aggregator-0")
  for (let i = 0; i < termsEach; i++) add("term-ingress", first, lastKill)
  for (const kind of KILL_KINDS) {
    const n = kind === "term-ingress" ? termsEach : kind === "kill-embedded" ? killsEach + 1 : killsEach
    while (kills.filter((k) => k.kind === kind).length < n && kinds.has(kind)) add(kind, first, lastKill)
  }
  if (kinds.has("kill-alerter")) kills.push({ kind: "kill-alerter", at: rng.int(first, lastKill) })
  faults.push(...kills)
  faults.sort((a, b) => a.at - b.at || a.kind.localeCompare(b.kind))
  return {
    seed: o.seed,
    loadSeconds: o.loadSeconds,
    brokers,
    faultsEndBy: endBy,
    without: [...without],
    faults,
  }
}

const clock = (s: number) =>
  `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`

/** The schedule as lines: `mm:ss  what` (times from the start of the load). */
export const formatSchedule = (s: Schedule): Array<string> => [
  `schedule (seed ${s.seed}, ${s.loadSeconds} s of load on ${s.brokers} Kafka broker${s.brokers === 1 ? "" : "s"}, faults end by ${clock(s.faultsEndBy)}; poison, late and too-late lines throughout):`,
  ...s.faults.map((f) => `  ${clock(f.at)}  ${describe(f)}`),
  ...(s.without.length > 0 ? [`  left out: ${s.without.join(", ")}`] : []),
]

export { clock }
