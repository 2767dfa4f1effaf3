/**
 * The operator artifacts in deploy/prometheus, with the real tools: `promtool check config`, `promtool
 * check rules` and `promtool test rules` (a unit test of every rule, firing and not), and a real
 * Prometheus 2.42 that scrapes every kind of tally process — `tally all`, and `tally ingress`,
 * `aggregator`, `sink`, `retrier` as separate processes on real Kafka and Postgres (the stages on
 * TALLY_METRICS_PORT) — finds every target up with no scrape error, and evaluates every rule of
 * tally-rules.yml on what it scraped without an error.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { freePort, type Proc, stop, tally, waitHealthy, waitOutput } from "../e2e/support.ts"
import { deleteTopics } from "../support/broker.ts"
import { ADMIN } from "../support/http.ts"
import { type Prometheus, promtool, startPrometheus } from "../support/prometheus.ts"
import { createShards, dropShards } from "../support/shards.ts"

const deploy = join(import.meta.dirname, "../../deploy/prometheus")
const RULES = join(deploy, "tally-rules.yml")

describe("deploy/prometheus with promtool", () => {
  it("tally.yml is a valid Prometheus config", async () => {
    // Its rule file is resolved beside it.
    const dir = mkdtempSync(join(tmpdir(), "tally-promcfg-"))
    try {
      copyFileSync(join(deploy, "tally.yml"), join(dir, "tally.yml"))
      copyFileSync(RULES, join(dir, "tally-rules.yml"))
      const r = await promtool(["check", "config", join(dir, "tally.yml")])
      expect(r.output).toMatch(/SUCCESS: .*tally\.yml is valid prometheus config/)
      expect(r.code, r.output).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("tally-rules.yml passes promtool check rules", async () => {
    const r = await promtool(["check", "rules", RULES])
    expect(r.code, r.output).toBe(0)
    expect(r.output).toMatch(/SUCCESS: 10 rules found/)
  })

  it("every rule has unit tests that fire it and that don't, and they pass", async () => {
    const tests = readFileSync(join(deploy, "tally-rules.test.yml"), "utf8")
    const rules = [...readFileSync(RULES, "utf8").matchAll(/- alert: (\w+)/g)].map((m) => m[1]!)
    for (const rule of rules) {
      expect(tests, rule).toMatch(new RegExp(`alertname: ${rule}\\n\\s+exp_alerts: \\[\\]`))
      expect(tests, rule).toMatch(new RegExp(`alertname: ${rule}\\n\\s+exp_alerts:\\n\\s+- exp_labels`))
    }
    const r = await promtool(["test", "rules", join(deploy, "tally-rules.test.yml")])
    expect(r.code, r.output).toBe(0)
    expect(r.output).toMatch(/SUCCESS/)
  })
})

const brokers = inject("kafkaBrokers")
const prefix = `p${Date.now().toString(36)}.`

describe("a real Prometheus scrapes every tally process", () => {
  const procs: Array<Proc> = []
  let prom: Prometheus
  let targets: Array<string> = []

  beforeAll(async () => {
    // `tally all` (npm start, embedded) first: its first start creates the embedded database.
    const allPort = await freePort()
    const all = tally(["all"], {
      TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), "tally-promscrape-")),
      TALLY_PORT: String(allPort),
      TALLY_ADMIN_TOKEN: ADMIN,
    })
    procs.push(all)
    await waitHealthy(`http://127.0.0.1:${allPort}`, all, 300_000)
    const shards = await createShards("promscrape", 2)
    const env = {
      TALLY_KAFKA_BROKERS: brokers.join(","),
      TALLY_PG_SHARDS: shards.join(","),
      TALLY_TOPIC_PREFIX: prefix,
      TALLY_ADMIN_TOKEN: ADMIN,
      TALLY_FLUSH_AFTER: "1s",
    }
    const ingressPort = await freePort()
    const ingress = tally(["ingress"], { ...env, TALLY_PORT: String(ingressPort) })
    procs.push(ingress)
    await waitHealthy(`http://127.0.0.1:${ingressPort}`, ingress, 300_000)
    const stagePorts = await Promise.all(
      (
        [
          ["aggregator", /aggregator worker/],
          ["sink", /sink: summaries/],
          ["retrier", /retrier: RETRY/],
        ] as const
      ).map(async ([name, ready]) => {
        const port = await freePort()
        const p = tally([name], {
          ...env,
          TALLY_PORT: String(await freePort()),
          TALLY_METRICS_PORT: String(port),
        })
        procs.push(p)
        await waitOutput(p, ready, 300_000)
        return port
      }),
    )
    targets = [`127.0.0.1:${ingressPort}`, ...stagePorts.map((p) => `127.0.0.1:${p}`), `127.0.0.1:${allPort}`]
    prom = await startPrometheus({
      scrape: [
        { job: "tally", targets: [`127.0.0.1:${ingressPort}`, `127.0.0.1:${allPort}`] },
        { job: "tally-stages", targets: stagePorts.map((p) => `127.0.0.1:${p}`) },
      ],
      ruleFiles: [RULES],
    })
  }, 600_000)

  afterAll(async () => {
    await prom?.stop()
    for (const p of procs.reverse()) await stop(p)
    await deleteTopics(brokers, prefix)
    await dropShards("promscrape", 2)
  }, 120_000)

  interface Target {
    readonly scrapeUrl: string
    readonly health: string
    readonly lastError: string
    readonly labels: Record<string, string>
  }

  it("every target is up, with no scrape error, and serves tally's metrics", async () => {
    // A target turns "up" in /api/v1/targets a moment before its scrape's samples can be queried: poll
    // everything checked below until it all holds (or the deadline), then assert on the last answers.
    const read = async () => {
      const active = (await prom.get<{ activeTargets: Array<Target> }>("/api/v1/targets")).data.activeTargets
      const up = (await prom.query(`up`)).data.result.map((s) => `${s.metric.instance} ${s.value?.[1]}`)
      const families: Record<string, number> = {}
      for (const t of targets)
        families[t] = Number(
          (await prom.query(`count({instance="${t}", __name__=~"tally_.+"})`)).data.result[0]?.value?.[1] ??
            0,
        )
      const scraped = (await prom.query(`scrape_samples_scraped`)).data.result.map(
        (s) => [s.metric.instance, Number(s.value?.[1])] as const,
      )
      return { active, up, families, scraped }
    }
    const holds = (r: Awaited<ReturnType<typeof read>>) =>
      r.active.length === targets.length &&
      r.active.every((t) => t.health === "up") &&
      r.up.length === targets.length &&
      Object.values(r.families).every((n) => n > 0) &&
      r.scraped.length === targets.length &&
      r.scraped.every(([, n]) => n > 0)
    const deadline = Date.now() + 60_000
    let last = await read()
    while (!holds(last) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500))
      last = await read()
    }
    expect(last.active.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).sort()).toEqual(
      targets.map((t) => `http://${t}/metrics up `).sort(),
    )
    expect([...last.up].sort()).toEqual(targets.map((t) => `${t} 1`).sort())
    // Every target's exposition parsed whole: samples scraped, and tally's own families among them.
    for (const t of targets) expect(last.families[t], t).toBeGreaterThan(0)
    expect(last.scraped.map(([instance]) => instance).sort()).toEqual([...targets].sort())
    for (const [instance, n] of last.scraped) expect(n, instance).toBeGreaterThan(0)
  })

  it("every operator rule evaluates on the scraped metrics without an error", async () => {
    interface Rule {
      readonly name: string
      readonly health: string
      readonly lastError?: string
      readonly lastEvaluation: string
    }
    const deadline = Date.now() + 60_000
    let rules: Array<Rule> = []
    for (;;) {
      const groups = (await prom.get<{ groups: Array<{ rules: Array<Rule> }> }>("/api/v1/rules")).data.groups
      rules = groups.flatMap((g) => g.rules)
      if (rules.length > 0 && rules.every((r) => !r.lastEvaluation.startsWith("0001"))) break
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 500))
    }
    expect(rules).toHaveLength(10)
    for (const r of rules) expect(`${r.name} ${r.health} ${r.lastError ?? ""}`).toBe(`${r.name} ok `)
    // Healthy processes: nothing fires.
    const alerts = await prom.get<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>(
      "/api/v1/alerts",
    )
    expect(alerts.data.alerts.filter((a) => a.state === "firing")).toEqual([])
  })
})
