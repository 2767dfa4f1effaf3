/**
 * The deploy kit as a user runs it (issue 25): `tally shards create` provisions fresh shard databases,
 * then deploy/Procfile runs under a real Procfile runner from npm (node-foreman's `nf`) against the real
 * broker and Postgres: every process serves /livez and /readyz on its port (the ingress on TALLY_PORT,
 * the others on their default ports), drains posted through the ingress come out of the API equal to an
 * oracle, every process shows its documented metrics, JSON logs name their service, and Ctrl-C (SIGINT
 * to nf) stops every process gracefully.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, inject, it } from "vitest"
import { documentedFor, type Part } from "../../src/observability/Catalogue.ts"
import { DEFAULT_METRICS_PORTS } from "../../src/observability/SystemServer.ts"
import { differences, fleetBodies, freePort, oracleFromBodies, postBody } from "../e2e/support.ts"
import { deleteTopics } from "../support/broker.ts"
import { within } from "../support/eventually.ts"
import { ADMIN } from "../support/http.ts"
import { databaseUrl, dropShards } from "../support/shards.ts"

const root = join(import.meta.dirname, "../..")
const brokers = inject("kafkaBrokers")
const prefix = `pf${Date.now().toString(36)}.`
const NAME = "procfile"

afterAll(async () => {
  await deleteTopics(brokers, prefix)
  await dropShards(NAME, 2)
})

/** What each Procfile process serves health and metrics on, and the parts its /metrics shows. */
const processes = (
  apiPort: number,
): ReadonlyArray<{ name: string; port: number; parts: ReadonlyArray<Part> }> => [
  { name: "ingress", port: apiPort, parts: ["process", "ingress"] },
  {
    name: "aggregator0",
    port: DEFAULT_METRICS_PORTS.aggregator,
    parts: ["process", "aggregator", "consumer"],
  },
  {
    name: "aggregator1",
    port: DEFAULT_METRICS_PORTS.aggregator + 1,
    parts: ["process", "aggregator", "consumer"],
  },
  { name: "sink", port: DEFAULT_METRICS_PORTS.sink, parts: ["process", "sink", "consumer"] },
  { name: "retrier", port: DEFAULT_METRICS_PORTS.retrier, parts: ["process", "retrier", "consumer"] },
  { name: "alerter", port: DEFAULT_METRICS_PORTS.alerter, parts: ["process", "alerter", "consumer"] },
]

const get = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(5000) })
    .then(async (r) => ({ status: r.status, text: await r.text() }))
    .catch(() => ({ status: 0, text: "" }))

const until = async <A>(what: string, probe: () => Promise<A>, done: (a: A) => boolean, ms: number) => {
  const deadline = Date.now() + ms
  let last = await probe()
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; last: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 500))
    last = await probe()
  }
  return last
}

describe("deploy/Procfile under node-foreman, on Kafka and Postgres", () => {
  it("shards create, then every process healthy, drains in and oracle numbers out, Ctrl-C stops all", async () => {
    const server = inject("pgUrl")
    const urls = [0, 1].map((i) => databaseUrl(server, `tally_t_${NAME}_${i}`))
    await dropShards(NAME, 2)
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const dir = mkdtempSync(join(tmpdir(), "tally-procfile-"))
    const envFile = join(dir, "tally.env")
    writeFileSync(
      envFile,
      [
        `TALLY_KAFKA_BROKERS=${brokers.join(",")}`,
        `TALLY_PG_SHARDS=${urls.join(",")}`,
        `TALLY_TOPIC_PREFIX=${prefix}`,
        `TALLY_ADMIN_TOKEN=${ADMIN}`,
        `TALLY_PORT=${port}`,
        "TALLY_PUBLIC_URL=https://tally.example.com",
        "TALLY_WORKERS=2",
        "TALLY_FLUSH_AFTER=1s",
        "TALLY_LOG_FORMAT=json",
        `TALLY_DATA_DIR=${join(dir, "data")}`,
      ].join("\n"),
    )
    const env = { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", TALLY_METRICS_PORT: "" }

    // Provisioning: the databases do not exist; shards create makes and migrates them, and again is a no-op.
    const nf = join(root, "node_modules/foreman/nf.js")
    const shardsCreate = () =>
      spawnSync(
        process.execPath,
        [nf, "run", "-e", envFile, process.execPath, "src/main.ts", "shards", "create"],
        {
          cwd: root,
          env,
          encoding: "utf8",
          timeout: 120_000,
        },
      )
    const created = shardsCreate()
    expect(created.status, created.stderr + created.stdout).toBe(0)
    expect(created.stdout).toMatch(/shard 0: tally_t_procfile_0 on .* created; applied 0001_apps/)
    expect(created.stdout).toMatch(/shard 1: tally_t_procfile_1 on .* created; applied 0001_apps/)
    const again = shardsCreate()
    expect(again.stdout).toMatch(/shard 1: tally_t_procfile_1 on .* exists; migrations up to date/)

    let output = ""
    const runner: ChildProcess = spawn(
      process.execPath,
      [
        nf,
        "start",
        "-j",
        "deploy/Procfile",
        "-e",
        envFile,
        "ingress,aggregator0,aggregator1,sink,retrier,alerter",
      ],
      { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
    )
    runner.stdout!.on("data", (d) => (output += d))
    runner.stderr!.on("data", (d) => (output += d))
    const exited = new Promise<number | null>((resolve) => runner.on("exit", (code) => resolve(code)))
    try {
      for (const p of processes(port)) {
        const ready = await until(
          `${p.name} /readyz`,
          () => get(`http://127.0.0.1:${p.port}/readyz`),
          (r) => r.status === 200 || runner.exitCode !== null,
          150_000,
        )
        expect(ready.status, `${p.name} /readyz: ${ready.text}\n${output.slice(-3000)}`).toBe(200)
        expect((await get(`http://127.0.0.1:${p.port}/livez`)).status, p.name).toBe(200)
        // Every documented metric of the process is there from its start.
        const metrics = (await get(`http://127.0.0.1:${p.port}/metrics`)).text
        for (const d of documentedFor(p.parts))
          if (d.part !== "log")
            expect(metrics, `${p.name} shows ${d.metric.id}`).toContain(`# TYPE ${d.metric.id} `)
      }

      const r = await fetch(`${base}/api/v1/apps`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "procfile-app" }),
      })
      expect(r.status).toBe(201)
      const app = (await r.json()) as { owner: string; drainUrl: string; readToken: string }
      expect(app.drainUrl).toMatch(/^https:\/\/tally:[A-Za-z0-9_-]{32}@tally\.example\.com\/logs$/)
      const secret = new URL(app.drainUrl).password
      const bodies = fleetBodies(1, 12)
      for (const b of bodies) expect(await postBody(base, secret, b.body)).toBe(204)
      const expected = oracleFromBodies(bodies)
      const diffs = await until(
        "the API equal to the oracle",
        () => differences(base, app.owner, app.readToken, expected),
        (d) => d.length === 0,
        120_000,
      )
      expect(diffs).toEqual([])
    } finally {
      // Ctrl-C: nf sends SIGINT to every process.
      if (runner.exitCode === null) runner.kill("SIGINT")
      if ((await within(exited, 90_000)) === "timeout") runner.kill("SIGKILL")
    }
    // Each process logged JSON lines naming its service, and that it stopped. nf prefixes each line with
    // the time and the process, and wraps lines at 500 characters (" |  > " continues the line above).
    const byProcess = new Map<string, Array<string>>()
    // biome-ignore lint/suspicious/noControlCharactersInRegex: nf's colours
    for (const raw of output.replace(/\u001b\[[0-9;]*m/g, "").split("\n")) {
      const m = /\s([a-z0-9]+)\.1\s*\|(.*)$/.exec(raw)
      if (!m) continue
      const lines = byProcess.get(m[1]!) ?? []
      byProcess.set(m[1]!, lines)
      const rest = m[2]!
      if (rest.startsWith("  >  ") && lines.length > 0) lines[lines.length - 1] += rest.slice(5)
      else lines.push(rest.slice(2))
    }
    for (const [name, service] of [
      ["ingress", "ingress"],
      ["aggregator0", "aggregator"],
      ["aggregator1", "aggregator"],
      ["sink", "sink"],
      ["retrier", "retrier"],
      ["alerter", "alerter"],
    ] as const) {
      const lines = (byProcess.get(name) ?? []).filter((l) => l.startsWith("{"))
      expect(lines.length, `${name} logged JSON:\n${output.slice(-2000)}`).toBeGreaterThan(0)
      for (const line of lines) expect((JSON.parse(line) as { service?: string }).service, line).toBe(service)
      expect(
        lines.some((l) =>
          (JSON.parse(l) as { message: string }).message.startsWith(`tally ${service} stopped`),
        ),
        `${name} logged that it stopped:\n${lines.slice(-5).join("\n")}`,
      ).toBe(true)
    }
    expect(readFileSync(join(root, "deploy/Procfile"), "utf8")).toMatch(
      /^aggregator1: TALLY_WORKER_INDEX=1 exec /m,
    )
  }, 420_000)
})
