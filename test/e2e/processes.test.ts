/**
 * End to end on the real broker and three real Postgres shards, every stage its own OS process:
 * drain bodies in through the ingress, API numbers out, equal to an oracle computed from the bodies
 * (count, sum, sumsq, min, max exactly; percentiles within 1%). The aggregator and the sink are stopped
 * with SIGTERM while traffic flows and started again: nothing is lost and nothing counted twice.
 */

import { afterAll, describe, expect, inject, it } from "vitest"
import { deleteTopics } from "../support/broker.ts"
import { ADMIN } from "../support/http.ts"
import { createShards, dropShards } from "../support/shards.ts"
import {
  differences,
  fleetBodies,
  freePort,
  oracleFromBodies,
  type Proc,
  postBody,
  stop,
  tally,
  waitHealthy,
  waitOutput,
} from "./support.ts"

const brokers = inject("kafkaBrokers")
const prefix = `e${Date.now().toString(36)}.`

afterAll(async () => {
  await deleteTopics(brokers, prefix)
  await dropShards("e2e", 3)
})

describe("end to end: real Kafka, 3 Postgres shards, one process per stage", () => {
  it("drain bodies in, oracle numbers out, across SIGTERMs of the aggregator and the sink under load", async () => {
    const shards = await createShards("e2e", 3)
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      TALLY_KAFKA_BROKERS: brokers.join(","),
      TALLY_PG_SHARDS: shards.join(","),
      TALLY_TOPIC_PREFIX: prefix,
      TALLY_PORT: String(port),
      TALLY_FLUSH_AFTER: "1s",
      TALLY_ADMIN_TOKEN: ADMIN,
    }
    const procs: Record<string, Proc> = {}
    try {
      procs.ingress = tally(["ingress"], env)
      await waitHealthy(base, procs.ingress)
      const metricsPorts = { aggregator: await freePort(), sink: await freePort(), retrier: await freePort() }
      const stage = (name: keyof typeof metricsPorts) =>
        tally([name], { ...env, TALLY_METRICS_PORT: String(metricsPorts[name]) })
      procs.aggregator = stage("aggregator")
      procs.sink = stage("sink")
      procs.retrier = stage("retrier")
      await Promise.all([
        waitOutput(procs.aggregator, /aggregator worker/),
        waitOutput(procs.sink, /sink: summaries/),
        waitOutput(procs.retrier, /retrier: RETRY/),
      ])

      const apps = await Promise.all(
        ["e2e-web", "e2e-api"].map(async (name) => {
          const r = await fetch(`${base}/api/v1/apps`, {
            method: "POST",
            headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
            body: JSON.stringify({ name }),
          })
          expect(r.status).toBe(201)
          const app = (await r.json()) as { owner: string; drainUrl: string; readToken: string }
          return { ...app, secret: new URL(app.drainUrl).password }
        }),
      )
      const bodies = fleetBodies(2, 40)
      const half = Math.floor(bodies.length / 2)
      for (const [i, b] of bodies.entries()) {
        expect(await postBody(base, apps[b.app]!.secret, b.body)).toBe(204)
        if (i === half) {
          // SIGTERM under load: both stop gracefully (exit 0) and come back while drains keep arriving.
          const [a, s] = await Promise.all([stop(procs.aggregator), stop(procs.sink)])
          expect([a, s]).toEqual([0, 0])
          procs.aggregator = stage("aggregator")
          procs.sink = stage("sink")
          await Promise.all([
            waitOutput(procs.aggregator, /aggregator worker/),
            waitOutput(procs.sink, /sink: summaries/),
          ])
        }
      }
      for (const [i, app] of apps.entries()) {
        const expected = oracleFromBodies(bodies.filter((b) => b.app === i))
        expect(expected.rollups.size).toBeGreaterThan(50)
        let diffs: Array<string> = []
        const until = Date.now() + 120_000
        while (Date.now() < until) {
          diffs = await differences(base, app.owner, app.readToken, expected)
          if (diffs.length === 0) break
          await new Promise((r) => setTimeout(r, 1000))
        }
        expect(diffs.slice(0, 10), `app ${app.owner}`).toEqual([])
      }
      // Every stage serves its own /metrics and /healthz (TALLY_METRICS_PORT).
      for (const [name, metric] of [
        ["aggregator", "tally_aggregator_records_total"],
        ["sink", "tally_sink_rows_written_total"],
        ["retrier", undefined],
      ] as const) {
        const health = await fetch(`http://127.0.0.1:${metricsPorts[name]}/healthz`)
        expect(health.status, `${name} /healthz`).toBe(200)
        const metrics = await fetch(`http://127.0.0.1:${metricsPorts[name]}/metrics`)
        expect(metrics.status, `${name} /metrics`).toBe(200)
        const text = await metrics.text()
        for (const line of text.split("\n").filter((l) => l !== ""))
          expect(line, `${name} /metrics is Prometheus text`).toMatch(/^(#.*|[a-zA-Z_:][\w:]*(\{.*\})? \S+)$/)
        if (metric) expect(text, name).toContain(metric)
        // Nothing failed here, so the retrier wrote nothing and its metrics may be empty: none is another stage's.
        else expect(text, name).not.toMatch(/tally_(aggregator|sink|ingress)_/)
      }
    } catch (e) {
      for (const [name, p] of Object.entries(procs)) console.error(`--- ${name}\n${p.output().slice(-3000)}`)
      await Promise.all(Object.values(procs).map((p) => stop(p, "SIGKILL")))
      throw e
    }
    const codes = await Promise.all(Object.values(procs).map((p) => stop(p)))
    expect(codes).toEqual(Object.values(procs).map(() => 0))
  }, 280_000)
})
