/**
 * Plays one scheduled fault and records what was done: which process was signalled (for worker 0, the
 * process found holding its partitions, or the idle standby), which Kafka node was killed and why, when
 * the fault began, and when it was over — a killed or frozen process is over when its (next) incarnation
 * answers /metrics; a shard when it accepts connections again or forwards again; the Postgres server when
 * it takes connections; the broker when `scripts/kafka.sh start` has it taking produces; a Kafka node when
 * every partition of the run has its three in-sync replicas again; the embedded disk when space is back
 * and the embedded tally answers /healthz 200.
 */
import {
  allowConnections,
  brokerWorks,
  clusterScript,
  fillVolume,
  freeVolume,
  kafkaScript,
  leaders,
  ProbeWriter,
  probeTopic,
  refuseConnections,
  restartPostgres,
  underReplicated,
} from "./infra.ts"
import { health, type Sample, scrape, total } from "./metrics.ts"
import type { ProxyHost } from "./proxyHost.ts"
import { describe, type Fault, NET_DELAY_SECONDS, NET_HOLE_SECONDS } from "./schedule.ts"
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
  /** Something that fails the run (e.g. an acknowledged record lost). */
  failure?: string
}

export interface FaultContext {
  readonly root: string
  readonly supervisor: Supervisor
  readonly proxies: ProxyHost
  /** The shard databases: 0 holds the catalogue, 1 is behind the proxy `shard1`, 2 behind `shard2`. */
  readonly databases: ReadonlyArray<string>
  /** The run's topic prefix (the broker is checked on its probe topic). */
  readonly prefix: string
  readonly brokers: ReadonlyArray<string>
  /** The names of the proxies in front of each broker (the stages reaching Kafka through them). */
  readonly brokerProxies: ReadonlyArray<string>
  /** The run's raw topics (their leaders decide which node is killed). */
  readonly rawTopics: ReadonlyArray<string>
  /** Called right before the ingress is signalled, so its counters are read one last time. */
  readonly beforeIngressSignal: () => Promise<unknown>
  /** A read through the API and a drain POST as a new client would make them: what they answered. */
  readonly probe: () => Promise<string>
  /** The embedded tally's volume (when the run has one). */
  readonly volume: string | undefined
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
  // A frozen one answers nothing: the other holds the partitions, or takes them over.
  if (s.paused(names[0]) !== s.paused(names[1]))
    return pick(s.paused(names[0]) ? 1 : 0, "the other is frozen")
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

/** Waits (at most 60 s) until `name` runs and answers /metrics, so a fault hits a working process. */
const working = async (s: Supervisor, name: string) => {
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(250))
    if (s.running(name) && (await scrape(s.spec(name).port, 2000))) return
}

const kill = async (c: FaultContext, fault: Fault, name: string, signal: NodeJS.Signals, detail: string) => {
  const s = c.supervisor
  await working(s, name)
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

/** Resolves when every partition of `topics` has all its replicas in sync again (or after `withinMs`). */
const fullyReplicated = async (
  brokers: ReadonlyArray<string>,
  topics: ReadonlyArray<string>,
  withinMs: number,
) => {
  const until = Date.now() + withinMs
  let last = -1
  while (Date.now() < until) {
    last = await underReplicated(brokers, topics).catch(() => -1)
    if (last === 0) return { atMs: Date.now(), left: 0 }
    await sleep(500)
  }
  return { atMs: undefined, left: last }
}

const nodeOf = (brokers: ReadonlyArray<string>, id: number) => brokers[id - 1] ?? `node ${id}`

/**
 * Kafka node faults one at a time: a node kill waits until the one before it is over (the node started
 * again and every partition fully replicated), however long its start took on a busy machine — two nodes
 * down at once would stop every produce (min.insync.replicas=2), which is not a fault tally must survive.
 */
let nodeFaults: Promise<unknown> = Promise.resolve()
const oneNodeAtATime = <A>(f: () => Promise<A>): Promise<A> => {
  const next = nodeFaults.then(f)
  nodeFaults = next.catch(() => undefined)
  return next
}

/** Kills Kafka node `victim`, keeps it down `seconds`, starts it, waits for full replication. */
const nodeDownUp = async (c: FaultContext, victim: number, seconds: number) => {
  const kill = await clusterScript(c.root, "kill", String(victim))
  const killedMs = Date.now()
  c.say(`fault: Kafka node ${victim} (${nodeOf(c.brokers, victim)}) SIGKILLed; down for ${seconds} s`)
  await sleep(seconds * 1000)
  const start = await clusterScript(c.root, "start", String(victim))
  const startedMs = Date.now()
  const topics = [...c.rawTopics, probeTopic(c.prefix)]
  const replicated = await fullyReplicated(c.brokers, topics, 120_000)
  const after = await leaders(c.brokers, c.rawTopics).catch(() => undefined)
  c.say(
    `fault over: node ${victim} started again in ${((startedMs - killedMs) / 1000 - seconds).toFixed(1)} s; ${replicated.atMs ? `every partition fully replicated ${((replicated.atMs - startedMs) / 1000).toFixed(1)} s later` : `${replicated.left} partitions still under-replicated after 120 s`}`,
  )
  return {
    ok: kill.code === 0 && start.code === 0,
    endMs: start.code === 0 ? (replicated.atMs ?? undefined) : undefined,
    detail: `start took ${((startedMs - killedMs) / 1000 - seconds).toFixed(1)} s (exit ${start.code}), in sync ${replicated.atMs ? `${((replicated.atMs - startedMs) / 1000).toFixed(1)} s after` : "never"}; leaders after: ${after ? [...after.byNode].map(([n, k]) => `node ${n}×${k}`).join(", ") : "?"}${kill.code === 0 ? "" : `; kill failed: ${kill.output.slice(0, 120)}`}${start.code === 0 ? "" : `; start failed: ${start.output.slice(-200)}`}`,
  }
}

/** The three phases of a network fault on proxies: slow, black hole, recovery. */
const netFault = async (c: FaultContext, proxies: ReadonlyArray<string>, label: string) => {
  const before = await Promise.all(proxies.map((p) => c.proxies.stats(p)))
  // 100 ms each way: +200 ms on every round trip.
  await Promise.all(proxies.map((p) => c.proxies.mode(p, { mode: "delay", ms: 100 })))
  c.say(`fault: ${label}: +200 ms a round trip for ${NET_DELAY_SECONDS} s`)
  await sleep(NET_DELAY_SECONDS * 1000)
  await Promise.all(proxies.map((p) => c.proxies.mode(p, { mode: "hang" })))
  c.say(`fault: ${label}: black hole for ${NET_HOLE_SECONDS} s`)
  await sleep(NET_HOLE_SECONDS * 1000)
  await Promise.all(proxies.map((p) => c.proxies.mode(p, { mode: "forward" })))
  const after = await Promise.all(proxies.map((p) => c.proxies.stats(p)))
  const hung = after.reduce((a, s, i) => a + s.hung - before[i]!.hung, 0)
  c.say(`fault over: ${label}: forwarding again (${hung} connections black-holed)`)
  return `${hung} connections black-holed`
}

export const inject = async (c: FaultContext, fault: Fault): Promise<Injected> => {
  const s = c.supervisor
  const done = (
    startMs: number,
    detail: string,
    ok = true,
    endMs: number | undefined = Date.now(),
  ): Injected => ({
    fault,
    what: describe(fault),
    startMs,
    endMs,
    detail,
    ok,
  })
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
    case "kill-embedded":
      return kill(c, fault, "embedded", "SIGKILL", "")
    case "kill-alerter":
      // Played by the alerter's extension (run.ts); reaching here means it is missing.
      return done(Date.now(), "no alerter extension in this checkout", false, undefined)
    case "shard-refuse": {
      const startMs = Date.now()
      const terminated = await refuseConnections(c.databases[2]!)
      c.say(`fault: shard 2 refuses connections (${terminated} backends terminated) for ${fault.seconds} s`)
      await sleep(fault.seconds! * 1000)
      await allowConnections(c.databases[2]!)
      c.say("fault over: shard 2 accepts connections again")
      return done(startMs, `${terminated} backends terminated`)
    }
    case "shard-hang": {
      const startMs = Date.now()
      const before = await c.proxies.stats("shard1")
      await c.proxies.mode("shard1", { mode: "hang" })
      c.say(`fault: shard 1 hangs for ${fault.seconds} s`)
      await sleep(fault.seconds! * 1000)
      await c.proxies.mode("shard1", { mode: "forward" })
      c.say("fault over: shard 1 forwards again (connections that hung stay black holes)")
      return done(startMs, `${(await c.proxies.stats("shard1")).hung - before.hung} connections hung`)
    }
    case "pg-restart": {
      const startMs = Date.now()
      c.say("fault: restarting the Postgres server")
      const r = await restartPostgres()
      c.say(
        `fault over: Postgres ${r.ok ? `takes connections again after ${(r.downMs / 1000).toFixed(1)} s` : `did not restart: ${r.detail}`}`,
      )
      return done(
        startMs,
        `${r.detail}; connections again after ${(r.downMs / 1000).toFixed(1)} s`,
        r.ok,
        r.ok ? Date.now() : undefined,
      )
    }
    case "catalogue-down": {
      const startMs = Date.now()
      const terminated = await refuseConnections(c.databases[0]!)
      c.say(
        `fault: the catalogue shard (0) refuses connections (${terminated} backends terminated) for ${fault.seconds} s`,
      )
      // What a reader sees meanwhile: an API read every 3 s (from 3 s in), tallied by answer.
      const seen = new Map<string, number>()
      for (const until = startMs + fault.seconds! * 1000 - 1500; Date.now() + 3000 < until; ) {
        await sleep(3000)
        const answer = await c.probe()
        seen.set(answer, (seen.get(answer) ?? 0) + 1)
      }
      await sleep(Math.max(0, startMs + fault.seconds! * 1000 - Date.now()))
      await allowConnections(c.databases[0]!)
      const probes = [...seen].map(([k, v]) => `${k} ×${v}`).join("; ")
      c.say(`fault over: the catalogue shard accepts connections again (reads meanwhile: ${probes})`)
      return done(startMs, `${terminated} backends terminated; reads meanwhile: ${probes}`)
    }
    case "net-shard": {
      const startMs = Date.now()
      return done(startMs, await netFault(c, ["shard2"], "network to shard 2"))
    }
    case "net-broker": {
      const startMs = Date.now()
      return done(
        startMs,
        await netFault(c, c.brokerProxies, "network between aggregator-1 + sink and Kafka"),
      )
    }
    case "freeze": {
      const w = fault.target === "aggregator-0" ? await holderOfWorker0(s) : undefined
      const name = w ? w.holder : (fault.target ?? "sink")
      await working(s, name)
      const incarnation = s.incarnation(name)
      const idleRecords = async () => {
        const x = w ? await scrape(s.spec(w.idle).port, 1000) : undefined
        return x ? total(x, "tally_aggregator_records_total") : 0
      }
      const idleBefore = await idleRecords()
      const startMs = Date.now()
      if (!s.pause(name))
        return done(startMs, `${name} was down at the time: nothing to freeze`, false, undefined)
      c.say(
        `fault: SIGSTOP ${name}#${incarnation} for ${fault.seconds} s${w ? ` (holds worker 0's partitions: ${w.how})` : ""}`,
      )
      let takeover: number | undefined
      for (const until = startMs + fault.seconds! * 1000; Date.now() < until; await sleep(500))
        if (w && takeover === undefined && (await idleRecords()) > idleBefore) takeover = Date.now()
      const thawed = s.resume(name)
      c.say(`fault: SIGCONT ${name}#${incarnation}`)
      // Over when it (or, had it ended itself, its next incarnation) answers /metrics again.
      let endMs: number | undefined
      for (const until = Date.now() + 180_000; Date.now() < until; await sleep(200))
        if (s.running(name) && (await scrape(s.spec(name).port, 1000))) {
          endMs = Date.now()
          break
        }
      const after = s.incarnation(name)
      return {
        ...done(
          startMs,
          `${w ? `${takeover ? `the standby ${w.idle} took over ${((takeover - startMs) / 1000).toFixed(1)} s after the freeze` : "the standby did not take over during the freeze"}; ` : ""}${thawed ? "thawed" : "gone before the thaw"}; ${after === incarnation ? "the same process answers again" : `it ended itself and #${after} answers`}`,
          thawed,
          endMs,
        ),
        target: `${name}#${incarnation}`,
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
      let broken = await brokerWorks(c.prefix, 30_000, c.brokers)
      let repaired = ""
      if (broken) {
        c.say(`fault: the broker answers but does not work (${broken.slice(0, 160)}); restarting it`)
        await kafkaScript(c.root, "stop")
        start = await kafkaScript(c.root, "start")
        broken = await brokerWorks(c.prefix, 30_000, c.brokers)
        repaired = broken
          ? `; still broken after a second restart: ${broken.slice(0, 160)}`
          : "; it came up broken and was restarted once more"
      }
      const endMs = Date.now()
      c.say(
        `fault over: broker started again in ${((endMs - stoppedMs) / 1000 - fault.seconds!).toFixed(1)} s`,
      )
      return done(
        startMs,
        `stop took ${((stoppedMs - startMs) / 1000).toFixed(1)} s (exit ${stop.code}), ${upAgainMs === undefined ? `down ${fault.seconds} s, start took ${((endMs - stoppedMs) / 1000 - fault.seconds!).toFixed(1)} s (exit ${start.code})` : `down only ${((upAgainMs - stoppedMs) / 1000).toFixed(1)} s: started by someone else`}${repaired}`,
        stop.code === 0 && start.code === 0 && !broken,
        start.code === 0 && !broken ? endMs : undefined,
      )
    }
    case "node-kill":
      return oneNodeAtATime(async () => {
        const before = await leaders(c.brokers, c.rawTopics)
        const [victim, led] = [...before.byNode].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [1, 0]
        const startMs = Date.now()
        const r = await nodeDownUp(c, victim, fault.seconds!)
        return {
          ...done(startMs, `it led ${led} of the run's raw partitions; ${r.detail}`, r.ok, r.endMs),
          target: `node ${victim}`,
        }
      })
    case "node-kill-in-flight":
      return oneNodeAtATime(async () => {
        // The probe topic's partitions are spread over the nodes: the one led by the node that leads
        // the most raw partitions is written to, and that node is killed while a send to it is in flight.
        const topic = probeTopic(c.prefix)
        const raw = await leaders(c.brokers, c.rawTopics)
        const probe = await leaders(c.brokers, [topic])
        const ranked = [...raw.byNode].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([n]) => n)
        let partition = 0
        let victim = probe.of(topic, 0) ?? 1
        for (const node of ranked) {
          const p = [0, 1, 2].find((i) => probe.of(topic, i) === node)
          if (p !== undefined) {
            partition = p
            victim = node
            break
          }
        }
        const writer = new ProbeWriter(c.prefix, c.brokers, partition)
        writer.start()
        // Some records acknowledged first, then the kill lands while a send is in flight.
        for (const until = Date.now() + 10_000; Date.now() < until && writer.acknowledged.length < 200; )
          await sleep(20)
        const acknowledgedBefore = writer.acknowledged.length
        const inFlight = await writer.waitInFlight(5000)
        const startMs = Date.now()
        const r = await nodeDownUp(c, victim, fault.seconds!)
        // A little more writing after the recovery, then stop and read the partition back.
        await sleep(2000)
        await writer.stop()
        const found = await writer.readBack(c.brokers, `${c.prefix}chaos-probe-reader-${startMs}`)
        const lost = writer.acknowledged.filter((n) => !found.has(n))
        const injected: Injected = {
          ...done(
            startMs,
            `probe partition ${partition} led by node ${victim}; a send was ${inFlight ? "" : "NOT "}in flight at the kill (${acknowledgedBefore} records acknowledged before it); ${writer.acknowledged.length} acknowledged in all, ${found.size} read back, ${lost.length} acknowledged records missing, ${writer.failedSends} sends failed (retried); ${r.detail}`,
            r.ok && inFlight,
            r.endMs,
          ),
          target: `node ${victim}`,
        }
        if (lost.length > 0)
          injected.failure = `${lost.length} records acknowledged by Kafka (acks=all) were lost when node ${victim} was killed (e.g. ${lost.slice(0, 5).join(", ")})`
        return injected
      })
    case "disk-full": {
      if (!c.volume) return done(Date.now(), "no embedded tally in this run", false, undefined)
      // It strikes a working tally (at most 3 minutes' wait: an embedded start can be slow on a busy machine).
      for (const until = Date.now() + 180_000; Date.now() < until; await sleep(500))
        if (s.running("embedded") && (await health(s.spec("embedded").port)).status === 200) break
      const startMs = Date.now()
      const exitsAtFill = s.exits.length
      const filled = await fillVolume(c.volume)
      c.say(
        `fault: the embedded tally's disk is full (${(filled / 1048576).toFixed(0)} MB written) for ${fault.seconds} s`,
      )
      // Half way, it is SIGKILLed: its restarts meet the full disk until space returns.
      await sleep((fault.seconds! * 1000) / 2)
      const incarnation = s.incarnation("embedded")
      const exitsBefore = s.exits.length
      const killed = s.signal("embedded", "SIGKILL")
      // Down already: the full disk stopped it on its own (a write it could not make), as it may; its
      // restarts meet the full disk all the same.
      const stoppedByDisk = !killed && s.exits.slice(exitsAtFill).some((e) => e.name === "embedded")
      c.say(
        killed
          ? `fault: SIGKILL embedded#${incarnation} while its disk is full`
          : `fault: embedded#${incarnation} ${stoppedByDisk ? "had stopped on the full disk" : "was down"}`,
      )
      await sleep(Math.max(0, startMs + fault.seconds! * 1000 - Date.now()))
      freeVolume(c.volume)
      const freedMs = Date.now()
      // Over when it answers /healthz 200 again (a restart may be waiting out its backoff).
      let endMs: number | undefined
      for (const until = freedMs + 180_000; Date.now() < until; await sleep(250))
        if (s.running("embedded") && (await health(s.spec("embedded").port)).status === 200) {
          endMs = Date.now()
          break
        }
      const restarts = s.exits.slice(exitsBefore).filter((e) => e.name === "embedded")
      const last = restarts
        .slice(1)
        .map((e) => e.lastLines.at(-1) ?? "")
        .filter(Boolean)
      c.say(
        `fault over: space is back; the embedded tally ${endMs ? `answers /healthz 200 ${((endMs - freedMs) / 1000).toFixed(1)} s later` : "is not healthy 180 s later"}`,
      )
      return {
        ...done(
          startMs,
          `${(filled / 1048576).toFixed(0)} MB written to fill it; ${
            killed
              ? `SIGKILLed ${(fault.seconds! / 2).toFixed(0)} s in; ${restarts.length - 1} restarts ended while it was full${last.length ? ` (${[...new Set(last)].join(" / ").slice(0, 200)})` : ""}`
              : stoppedByDisk
                ? `it had stopped on the full disk before the kill (${s.exits
                    .slice(exitsAtFill)
                    .filter((e) => e.name === "embedded")
                    .map((e) => e.lastLines.at(-1) ?? "")
                    .filter(Boolean)
                    .join(" / ")
                    .slice(0, 200)})`
                : "it was down when it was to be killed"
          }; healthy ${endMs ? `${((endMs - freedMs) / 1000).toFixed(1)} s after space returned` : "never"}`,
          killed || stoppedByDisk,
          endMs,
        ),
        target: `embedded#${incarnation}`,
      }
    }
  }
}
