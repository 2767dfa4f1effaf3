/**
 * Finding 9 (issue 22): `tally sink` must stop on SIGTERM within a supervisor's grace (the chaos
 * harness gives 15 s, then SIGKILL) even while a shard hangs (a proxy that accepts TCP and never
 * answers) with writes in flight — summary batches, and platform events, which have no fallback and
 * are retried for ever: the in-flight writes are abandoned, their offsets not committed, what was
 * written is committed, and the process exits 0 by its own stop (not the launch's backstop). Before the
 * fix it was still stopping when the grace ended (each stage's stop waited up to 20 s, one after the
 * other, and the shard pools' close waited for the hung connection). Restarted with the shard answering
 * again, the sink (and the retrier, for what went to RETRY) lands every row and event exactly once.
 */
import { Effect, type Layer, ManagedRuntime, Schedule } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { catalogue, rawTopic } from "../../src/bus/Topics.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { shardFor } from "../../src/store/ShardRouter.ts"
import { startProxy, type TcpProxy } from "../../tools/chaos/proxy.ts"
import { freePort, type Proc, stop, tally, waitOutput } from "../e2e/support.ts"
import { deleteTopics } from "../support/broker.ts"
import { createShards, databaseUrl, dropShards, withClient } from "../support/shards.ts"
import { memoryRound } from "./support.ts"

const brokers = inject("kafkaBrokers")
const prefix = `k${Date.now().toString(36)}.`
const NAME = "sinkstop"
/** The chaos harness's grace (tools/chaos/supervisor.ts, stopAll). */
const GRACE_MS = 15_000

const T = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000
const owners = Array.from(
  { length: 40 },
  (_, i) => `0b7a3f2e-${String(i).padStart(4, "0")}-4a57-9c1e-2f0d8b4f1a02`,
)
const onShard = (s: number) => owners.filter((o) => shardFor(o, "web", 2) === s)

/** Every owner's web series for minute `m`, at version `v`. */
const round = memoryRound(prefix, owners, T)

/** A platform event of `owner`'s web dynos at minute `m` (the events stage writes it to the owner's shard). */
const event = (owner: string, m: number) => ({
  topic: rawTopic("PLATFORM_EVENTS", prefix),
  key: `${owner}:web`,
  timestamp: T + m * 60_000,
  value: Wire.PlatformEvent.encode({
    origin: { owner, processType: "web", dyno: "web.1", timeUs: (T + m * 60_000) * 1000 },
    kind: Wire.EventKind.EVENT_KIND_RESTART,
    process: "web.1",
    description: `restart ${m}`,
    actor: "",
  }).finish(),
})

const runtime = ManagedRuntime.make(
  Bus.layerKafka({ brokers, clientId: "tally-test-sink-stop", logLevel: "NOTHING" }) as Layer.Layer<Bus>,
)
const produce = (records: ReadonlyArray<ReturnType<typeof event>>) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const bus = yield* Bus
      yield* bus.produce(records).pipe(
        Effect.retry({
          while: (e) => e.reason === "Unavailable",
          schedule: Schedule.spaced("200 millis"),
          times: 25,
        }),
      )
    }),
  )

let urls: Array<string> = []
let proxy: TcpProxy
beforeAll(async () => {
  urls = await createShards(NAME, 2)
  const server = new URL(inject("pgUrl"))
  proxy = await startProxy({ host: server.hostname, port: Number(server.port || 5432) })
  await runtime.runPromise(
    Effect.gen(function* () {
      const bus = yield* Bus
      yield* bus.ensureTopics(catalogue(1, 32, prefix))
    }),
  )
})
afterAll(async () => {
  await proxy?.close()
  await runtime.dispose()
  await deleteTopics(brokers, prefix)
  await dropShards(NAME, 2)
})

/** Rows of every 1m dyno_memory table of a shard, as (owner, minute, version). */
const rowsOf = (s: number) =>
  withClient(databaseUrl(inject("pgUrl"), `tally_t_${NAME}_${s}`), async (c) => {
    const schemas = await c.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tally\\_2%'")
    const out: Array<{ owner: string; start: number; version: number }> = []
    for (const { nspname } of schemas.rows)
      for (const r of (await c.query(`SELECT owner, start, version FROM ${nspname}.dyno_memory_1m`)).rows)
        out.push({ owner: String(r.owner), start: new Date(r.start).getTime(), version: Number(r.version) })
    return out
  })

/** Platform events on a shard. */
const eventsOf = (s: number) =>
  withClient(databaseUrl(inject("pgUrl"), `tally_t_${NAME}_${s}`), async (c) => {
    const schemas = await c.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tally\\_2%'")
    let n = 0
    for (const { nspname } of schemas.rows)
      n += Number((await c.query(`SELECT count(*) FROM ${nspname}.events`)).rows[0].count)
    return n
  })

/** Polls `probe` until `done`, at most `withinMs`; fails with the last value seen. */
const until = async <A>(probe: () => Promise<A>, done: (a: A) => boolean, withinMs: number, what: string) => {
  const deadline = Date.now() + withinMs
  for (;;) {
    const a = await probe()
    if (done(a)) return a
    if (Date.now() >= deadline)
      throw new Error(`${what}: not within ${withinMs} ms; last: ${JSON.stringify(a)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Waits for `p` to exit, at most `withinMs`; the exit code and how long it took, or undefined if it did not. */
const exitWithin = (p: Proc, withinMs: number) =>
  new Promise<{ code: number | null; ms: number } | undefined>((resolve) => {
    const started = Date.now()
    const timer = setTimeout(() => resolve(undefined), withinMs)
    p.child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, ms: Date.now() - started })
    })
  })

describe("tally sink on SIGTERM", () => {
  it("exits 0 within the grace while a shard hangs with a write in flight, and loses nothing", async () => {
    expect(onShard(0).length).toBeGreaterThan(0)
    expect(onShard(1).length).toBeGreaterThan(0)
    const shards = [
      urls[0]!,
      databaseUrl(`postgres://postgres@127.0.0.1:${proxy.port}/`, `tally_t_${NAME}_1`),
    ]
    const env = {
      TALLY_KAFKA_BROKERS: brokers.join(","),
      TALLY_PG_SHARDS: shards.join(","),
      TALLY_TOPIC_PREFIX: prefix,
    }
    const procs: Array<Proc> = []
    const start = async (command: "sink" | "retrier") => {
      const p = tally([command], { ...env, TALLY_METRICS_PORT: String(await freePort()) })
      procs.push(p)
      await waitOutput(p, command === "sink" ? /sink: summaries/ : /retrier: RETRY/, 120_000)
      return p
    }
    try {
      const sink = await start("sink")
      let minute = 0
      for (; minute < 5; minute++) await produce([...round(minute, 1), ...round(minute, 2)])
      await until(
        () => Promise.all([rowsOf(0), rowsOf(1)]),
        ([a, b]) => a.length === onShard(0).length * 5 && b.length === onShard(1).length * 5,
        60_000,
        "the first rounds on both shards",
      )

      // Shard 1 hangs; the next rounds' writes to it reach the black hole and get no answer.
      proxy.hang()
      const hungBefore = proxy.hung()
      for (; minute < 10; minute++)
        await produce([...round(minute, 1), ...round(minute, 2), event(onShard(1)[0]!, minute)])
      await until(
        async () => ({ hung: proxy.hung(), shard0: (await rowsOf(0)).length }),
        (x) => x.hung > hungBefore && x.shard0 === onShard(0).length * 10,
        60_000,
        "a write to the hung shard in flight, the other shard written",
      )

      const exit = exitWithin(sink, GRACE_MS)
      sink.child.kill("SIGTERM")
      const stopped = await exit
      expect(
        stopped,
        `the sink did not exit within ${GRACE_MS} ms:\n${sink.output().slice(-3000)}`,
      ).toBeDefined()
      console.log(`sink stopped in ${stopped!.ms} ms`)
      expect(stopped!.code, sink.output().slice(-3000)).toBe(0)
      expect(sink.output()).toMatch(/tally sink stopped after/)
      expect(sink.output()).not.toMatch(/exiting without waiting further/)

      // Back with the shard answering: the sink and the retrier land every row, at its newest version.
      proxy.forward()
      await start("sink")
      await start("retrier")
      for (; minute < 12; minute++) await produce([...round(minute, 1), ...round(minute, 2)])
      const [a, b, events] = await until(
        () => Promise.all([rowsOf(0), rowsOf(1), eventsOf(1)]),
        ([a, b, events]) =>
          a.length === onShard(0).length * 12 && b.length === onShard(1).length * 12 && events === 5,
        120_000,
        "every row and event on its shard after the restart",
      )
      expect([...a, ...b].every((r) => r.version === 2)).toBe(true)
      expect(events).toBe(5)
    } catch (e) {
      for (const p of procs) console.error(`--- ${p.child.spawnargs.slice(-1)}\n${p.output().slice(-3000)}`)
      await Promise.all(procs.map((p) => stop(p, "SIGKILL")))
      throw e
    }
    const codes = await Promise.all(procs.slice(1).map((p) => stop(p)))
    expect(codes).toEqual(procs.slice(1).map(() => 0))
  }, 300_000)
})
