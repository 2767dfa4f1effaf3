/**
 * Plays one scheduled fault and records what was done: which process was signalled (for worker 0, the
 * process found holding its partitions, or the idle standby), when the fault began, and when it was
 * over — a killed process is over when its next incarnation answers /metrics; a shard when it accepts
 * connections again or forwards again; the broker when `scripts/kafka.sh start` has it answering.
 */
import { allowConnections, brokerWorks, kafkaScript, refuseConnections } from "./infra.ts"
import { type Sample, scrape, total } from "./metrics.ts"
import type { TcpProxy } from "./proxy.ts"
import { describe, type Fault } from "./schedule.ts"
import type { Supervisor } from "./supervisor.ts"

export interface Injected {
  readonly fault: Fault
  readonly what: string
  readonly startMs: number
  /** When it was over (undefined: it never was, e.g. the broker did not start again). */
  endMs: number | undefined
  /** The process signalled and its incarnation, for kills. */
  target?: string
  detail: string
  /** Injected as planned. */
  ok: boolean
  /** Something the pipeline did wrong while it was played (e.g. a graceful stop that never ended). */
  finding?: string
}

export interface FaultContext {
  readonly root: string
  readonly supervisor: Supervisor
  readonly proxy: TcpProxy
  /** The database of shard 2 (the one made to refuse connections). */
  readonly refusingDb: string
  /** The run's topic prefix (the broker is checked on its probe topic). */
  readonly prefix: string
  /** Called right before the ingress is signalled, so its counters are read one last time. */
  readonly beforeIngressSignal: () => Promise<unknown>
  readonly say: (line: string) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Resolves when `name` runs an incarnation after `incarnation` that answers /metrics (or after `withinMs`). */
const backUp = async (s: Supervisor, name: string, incarnation: number, withinMs = 180_000) => {
  const until = Date.now() + withinMs
  while (Date.now() < until) {
    if (s.incarnation(name) > incarnation && (await scrape(s.spec(name).port, 1000))) return Date.now()
    await sleep(200)
  }
  return undefined
}

/**
 * Of the two worker-0 processes, the one holding the partitions and the idle one. When only one is up
 * (the other restarting), it is the holder. Otherwise the holder's records count moves (or it reports
 * partition lag); when nothing moves (the broker is down), the one running longer is taken: a standby
 * never takes the partitions from a live owner.
 */
const holderOfWorker0 = async (s: Supervisor): Promise<{ holder: string; idle: string; how: string }> => {
  const names = ["aggregator-0", "aggregator-0-standby"] as const
  const pick = (i: number, how: string) => ({ holder: names[i]!, idle: names[1 - i]!, how })
  const read = () => Promise.all(names.map((n) => (s.running(n) ? scrape(s.spec(n).port, 2000) : undefined)))
  const first = await read()
  if (first[0] === undefined && first[1] !== undefined) return pick(1, "the other is down")
  if (first[1] === undefined && first[0] !== undefined) return pick(0, "the other is down")
  await sleep(2000)
  const second = await read()
  const records = (x: ReadonlyArray<Sample> | undefined) =>
    x ? total(x, "tally_aggregator_records_total") : 0
  const moved = names.map((_, i) => records(second[i]) > records(first[i]))
  const gauges = names.map((_, i) =>
    (second[i] ?? []).some((x) => x.name === "tally_aggregator_consumer_lag"),
  )
  if (moved[0] !== moved[1]) return pick(moved[0] ? 0 : 1, "its records count moved")
  if (gauges[0] !== gauges[1]) return pick(gauges[0] ? 0 : 1, "it reports partition lag")
  const older = s.startedAt(names[0]) <= s.startedAt(names[1]) ? 0 : 1
  return pick(older, "nothing moved: the one running longer")
}

const kill = async (c: FaultContext, fault: Fault, name: string, signal: NodeJS.Signals, detail: string) => {
  const s = c.supervisor
  // A process still restarting from an earlier fault is waited for (at most 60 s: until it answers
  // /metrics, so the fault hits a working process), then signalled.
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(250))
    if (s.running(name) && (await scrape(s.spec(name).port, 2000))) break
  const incarnation = s.incarnation(name)
  const exitsBefore = s.exits.length
  if (name === "ingress") await c.beforeIngressSignal()
  const startMs = Date.now()
  const sent = s.signal(name, signal)
  const injected: Injected = {
    fault,
    what: describe(fault),
    startMs,
    endMs: undefined,
    target: `${name}#${incarnation}`,
    detail: sent ? detail : `${name} was down (restarting) at the time: nothing to signal`,
    ok: sent,
  }
  c.say(`fault: ${signal} ${name}#${incarnation}${detail ? ` (${detail})` : ""}`)
  if (!sent) return injected
  if (signal === "SIGTERM") {
    // A graceful stop gets 30 s (as a supervisor's grace period), then SIGKILL.
    const exit = await s.waitExit(name, exitsBefore, 30_000)
    if (exit)
      injected.detail = `stopped ${exit.signal ?? `with code ${exit.code}`} ${((exit.atMs - startMs) / 1000).toFixed(1)} s after SIGTERM`
    else {
      s.signal(name, "SIGKILL")
      injected.detail = "did not stop within 30 s of SIGTERM: SIGKILLed"
      injected.finding = `${name}#${incarnation} did not stop within 30 s of SIGTERM (README: every service stops on SIGTERM and exits 0)`
      c.say(`fault: ${name}#${incarnation} still running 30 s after SIGTERM: SIGKILL`)
    }
  }
  injected.endMs = await backUp(s, name, incarnation)
  if (injected.endMs === undefined) injected.detail += "; it did not come back within 180 s"
  return injected
}

export const inject = async (c: FaultContext, fault: Fault): Promise<Injected> => {
  const s = c.supervisor
  switch (fault.kind) {
    case "kill-aggregator-0":
    case "kill-standby": {
      const w = await holderOfWorker0(s)
      const name = fault.kind === "kill-aggregator-0" ? w.holder : w.idle
      const role = fault.kind === "kill-aggregator-0" ? "holds worker 0's partitions" : "idle standby"
      return kill(c, fault, name, "SIGKILL", `${role}; the holder is ${w.holder}: ${w.how}`)
    }
    case "kill-aggregator-1":
      return kill(c, fault, "aggregator-1", "SIGKILL", "")
    case "kill-sink":
      return kill(c, fault, "sink", "SIGKILL", "")
    case "kill-retrier":
      return kill(c, fault, "retrier", "SIGKILL", "")
    case "kill-ingress":
      return kill(c, fault, "ingress", "SIGKILL", "")
    case "term-ingress":
      return kill(c, fault, "ingress", "SIGTERM", "")
    case "shard-refuse": {
      const startMs = Date.now()
      const terminated = await refuseConnections(c.refusingDb)
      c.say(`fault: shard 2 refuses connections (${terminated} backends terminated) for ${fault.seconds} s`)
      await sleep(fault.seconds! * 1000)
      await allowConnections(c.refusingDb)
      c.say("fault over: shard 2 accepts connections again")
      return {
        fault,
        what: describe(fault),
        startMs,
        endMs: Date.now(),
        detail: `${terminated} backends terminated`,
        ok: true,
      }
    }
    case "shard-hang": {
      const startMs = Date.now()
      const before = c.proxy.hung()
      c.proxy.hang()
      c.say(`fault: shard 1 hangs for ${fault.seconds} s`)
      await sleep(fault.seconds! * 1000)
      c.proxy.forward()
      c.say("fault over: shard 1 forwards again (connections that hung stay black holes)")
      return {
        fault,
        what: describe(fault),
        startMs,
        endMs: Date.now(),
        detail: `${c.proxy.hung() - before} connections hung`,
        ok: true,
      }
    }
    case "broker": {
      const startMs = Date.now()
      c.say("fault: stopping the Kafka broker")
      const stop = await kafkaScript(c.root, "stop")
      const stoppedMs = Date.now()
      c.say(
        `fault: broker stopped in ${((stoppedMs - startMs) / 1000).toFixed(1)} s; down for ${fault.seconds} s`,
      )
      // Someone else may start it meanwhile (a test setup runs scripts/kafka.sh start): watch for it.
      let upAgainMs: number | undefined
      for (const until = stoppedMs + fault.seconds! * 1000; Date.now() < until; await sleep(500))
        if (upAgainMs === undefined && (await kafkaScript(c.root, "status")).code === 0)
          upAgainMs = Date.now()
      if (upAgainMs !== undefined)
        c.say(
          `fault: the broker was started by someone else ${((upAgainMs - stoppedMs) / 1000).toFixed(1)} s after it stopped`,
        )
      let start = await kafkaScript(c.root, "start")
      if (start.code !== 0) start = await kafkaScript(c.root, "start")
      // Started twice at once (ours and a test setup's), the broker can come up answering on its port
      // with no working controller: producers never get an id. Then it is restarted once more.
      let broken = await brokerWorks(c.prefix, 30_000)
      let repaired = ""
      if (broken) {
        c.say(`fault: the broker answers but does not work (${broken.slice(0, 160)}); restarting it`)
        await kafkaScript(c.root, "stop")
        start = await kafkaScript(c.root, "start")
        broken = await brokerWorks(c.prefix, 30_000)
        repaired = broken
          ? `; still broken after a second restart: ${broken.slice(0, 160)}`
          : "; it came up broken and was restarted once more"
      }
      const endMs = Date.now()
      c.say(
        `fault over: broker started again in ${((endMs - stoppedMs) / 1000 - fault.seconds!).toFixed(1)} s`,
      )
      return {
        fault,
        what: describe(fault),
        startMs,
        endMs: start.code === 0 && !broken ? endMs : undefined,
        detail: `stop took ${((stoppedMs - startMs) / 1000).toFixed(1)} s (exit ${stop.code}), ${upAgainMs === undefined ? `down ${fault.seconds} s, start took ${((endMs - stoppedMs) / 1000 - fault.seconds!).toFixed(1)} s (exit ${start.code})` : `down only ${((upAgainMs - stoppedMs) / 1000).toFixed(1)} s: started by someone else`}${repaired}`,
        ok: stop.code === 0 && start.code === 0 && !broken,
      }
    }
  }
}
