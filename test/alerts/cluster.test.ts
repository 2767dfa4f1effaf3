/**
 * The alerter in the cluster: real Kafka, two real Postgres shards, every part its own process — `tally
 * api` (rules) and two `tally alerter` workers (TALLY_WORKERS=2), each owning the summary partitions p
 * with p mod 2 == i like the aggregator workers. Summaries produced to Kafka for two apps, one on each
 * worker's partitions: each worker fires its own app's rule (and only it), each webhook arrives once,
 * signed; each worker's /metrics counts its one rule.
 */
import { Effect, Layer } from "effect"
import { afterAll, describe, expect, inject, it } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import { freePort, type Proc, stop, tally, waitHealthy, waitOutput } from "../e2e/support.ts"
import { deleteTopics } from "../support/broker.ts"
import { ADMIN, createApp, type Drain } from "../support/http.ts"
import { createShards, dropShards } from "../support/shards.ts"
import { HttpReceiver, MINUTE, requests, signedBy, waitFor } from "./support.ts"

const brokers = inject("kafkaBrokers")
const prefix = `al${Date.now().toString(36)}.`
const receiver = new HttpReceiver()
const procs: Array<Proc> = []

afterAll(async () => {
  for (const p of procs) await stop(p, "SIGKILL")
  await receiver.stop()
  await deleteTopics(brokers, prefix)
  await dropShards("alerts_cluster", 2)
})

describe("the alerter in the cluster (Kafka, Postgres shards, two workers)", () => {
  it("each worker evaluates and delivers the rules of its partitions", async () => {
    const shards = await createShards("alerts_cluster", 2)
    await receiver.start()
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      TALLY_KAFKA_BROKERS: brokers.join(","),
      TALLY_PG_SHARDS: shards.join(","),
      TALLY_TOPIC_PREFIX: prefix,
      TALLY_ADMIN_TOKEN: ADMIN,
      TALLY_FLUSH_AFTER: "1s",
      TALLY_WORKERS: "2",
    }
    const api = tally(["api"], { ...env, TALLY_PORT: String(port) })
    procs.push(api)
    await waitHealthy(base, api, 120_000)
    const metricsPorts = [await freePort(), await freePort()]
    for (const i of [0, 1]) {
      const p = tally(["alerter"], {
        ...env,
        TALLY_WORKER_INDEX: String(i),
        TALLY_METRICS_PORT: String(metricsPorts[i]),
      })
      procs.push(p)
      await waitOutput(p, /alerter worker \d of 2/, 120_000)
    }

    // An app on worker 0's partitions and one on worker 1's.
    const apps = new Map<number, Drain>()
    for (let n = 0; apps.size < 2 && n < 40; n++) {
      const app = await createApp(base, `cluster-${n}`)
      const worker = partitionFor(`${app.owner}:web`, 32) % 2
      if (!apps.has(worker)) apps.set(worker, app)
    }
    expect(apps.size).toBe(2)
    const secrets = new Map<string, string>()
    let created = 0
    for (const [worker, app] of apps) {
      const r = await fetch(`${base}/api/v1/apps/${app.owner}/alerts`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({
          name: `worker ${worker}`,
          metric: "router_p95_ms",
          processType: "web",
          threshold: 500,
          for: "1m",
          webhook: `http://127.0.0.1:${receiver.port}/hook/${worker}`,
        }),
      })
      expect(r.status).toBe(201)
      secrets.set(`/hook/${worker}`, ((await r.json()) as { secret: string }).secret)
      created = Date.now()
    }
    // Summaries as the aggregator writes them, for the first whole minute after the rules were made,
    // produced once it has begun (the alerter keeps no minute ahead of its clock, as no aggregator
    // writes one: stream time never runs ahead of the ingest clock).
    const minute = Math.ceil(created / MINUTE) * MINUTE
    await new Promise((r) => setTimeout(r, Math.max(0, minute + 1000 - Date.now())))
    const records = [...apps.values()].flatMap((app) =>
      requests(app.owner, "web", minute, 30, 1500).map((r) => ({ ...r, topic: `${prefix}${r.topic}` })),
    )
    await Effect.runPromise(
      Effect.flatMap(Effect.service(Bus), (bus) => bus.produce(records)).pipe(
        Effect.provide(Layer.fresh(Bus.layerKafka({ brokers, clientId: "tally-test-alerts" }))),
        Effect.scoped,
      ),
    )
    const arrived = await waitFor(
      "both firings",
      async () => [...receiver.byId().values()],
      (d) => d.length >= 2,
      minute + 3 * MINUTE - Date.now(),
    )
    expect(arrived.map((d) => d.first.url).sort()).toEqual(["/hook/0", "/hook/1"])
    for (const d of arrived) {
      expect(d.count).toBe(1)
      expect(signedBy(secrets.get(d.first.url)!, d.first)).toBe(true)
      const payload = JSON.parse(d.first.body)
      expect(payload.status).toBe("firing")
      expect(payload.alerts[0].labels.alertname).toBe(`worker ${d.first.url.slice(-1)}`)
    }
    // Each worker holds its one rule.
    for (const i of [0, 1]) {
      const text = await (await fetch(`http://127.0.0.1:${metricsPorts[i]}/metrics`)).text()
      expect(text).toMatch(/^tally_alert_rules 1$/m)
      expect(text).toMatch(/^tally_alert_transitions_total\{to="firing"\} 1$/m)
    }
  }, 600_000)
})
