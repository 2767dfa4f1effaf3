/** The `tally` command as a user runs it: one process per call, embedded store under a temp data dir. */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { get } from "node:http"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "../..")
const tally = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  spawnSync(process.execPath, [join(root, "src/main.ts"), ...args], {
    env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", ...env },
    encoding: "utf8",
    timeout: 150_000,
  })

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

/** `tally all` on embedded parts in its own data dir, its output collected; `up` resolves once the banner is out. */
const startAll = (env: Record<string, string>) => {
  const child = spawn(process.execPath, [join(root, "src/main.ts"), "all"], {
    env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", TALLY_ADMIN_TOKEN: "", ...env },
  })
  const out = { stdout: "", stderr: "" }
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out.stdout += d
  })
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    out.stderr += d
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const up = (async () => {
    const deadline = Date.now() + 150_000
    while (!/create an app: .*\n/.test(out.stdout) && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    if (!/create an app: .*\n/.test(out.stdout))
      throw new Error(`tally all did not start:\n${out.stdout}\n${out.stderr}`)
  })()
  /** SIGTERM, then the exit code. */
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM")
    return exited
  }
  return { out, up, stop }
}

describe("tally CLI", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tally-cli-"))

  it("apps create --json prints the owner, a drain URL with the secret, and a read token", () => {
    const run = tally(["apps", "create", "cli-app", "--json"], {
      TALLY_DATA_DIR: dataDir,
      TALLY_PUBLIC_URL: "https://tally.example.com",
    })
    expect(run.status, run.stderr).toBe(0)
    const app = JSON.parse(run.stdout) as Record<string, string>
    expect(app.name).toBe("cli-app")
    expect(app.drainUrl).toMatch(/^https:\/\/tally:[A-Za-z0-9_-]{32}@tally\.example\.com\/logs$/)
    expect(app.readToken).toMatch(/^tly_r_/)
  }, 180_000)

  it("a second app of the same name fails with one line", () => {
    const run = tally(["apps", "create", "cli-app"], { TALLY_DATA_DIR: dataDir })
    expect(run.status).toBe(1)
    expect(run.stderr.trim()).toBe("tally: an app named cli-app exists")
  }, 180_000)

  it("without TALLY_PUBLIC_URL the drain URL is localhost and TALLY_PORT, and a warning says to set it", () => {
    const run = tally(["apps", "create", "cli-local"], { TALLY_DATA_DIR: dataDir, TALLY_PORT: "9999" })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^drain URL: {2}http:\/\/tally:[A-Za-z0-9_-]{32}@localhost:9999\/logs$/m)
    expect(run.stderr.trim()).toBe(
      "tally: warning: drain URLs point at http://localhost:9999, which Heroku cannot reach; set TALLY_PUBLIC_URL to this server's public address (e.g. https://tally.example.com)",
    )
  })

  it("retention run with no server opens the data dir itself", () => {
    const run = tally(["retention", "run"], { TALLY_DATA_DIR: dataDir })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout.trim()).toBe("nothing to drop")
  })

  it("a bad setting is one line naming the variable, exit 2", () => {
    const run = tally(["apps", "create", "x"], { TALLY_DATA_DIR: dataDir, TALLY_FLUSH_AFTER: "soon" })
    expect(run.status).toBe(2)
    expect(run.stderr.trim()).toBe(
      'tally: TALLY_FLUSH_AFTER expects a duration such as 500ms, 10s or 2m; got "soon"',
    )
  })
})

describe("tally all", () => {
  const given = "given-admin-token-must-not-be-printed-0123"
  const dirs = [mkdtempSync(join(tmpdir(), "tally-cli-all-")), mkdtempSync(join(tmpdir(), "tally-cli-all-"))]
  const [generatedDir, givenDir] = dirs as [string, string]
  let ports: [number, number]
  let generated: ReturnType<typeof startAll>
  let withGiven: ReturnType<typeof startAll>

  // Both at once, so they take about as long as one start.
  beforeAll(async () => {
    ports = [await freePort(), await freePort()]
    generated = startAll({ TALLY_DATA_DIR: generatedDir, TALLY_PORT: String(ports[0]) })
    withGiven = startAll({ TALLY_DATA_DIR: givenDir, TALLY_PORT: String(ports[1]), TALLY_ADMIN_TOKEN: given })
    for (const started of await Promise.allSettled([generated.up, withGiven.up]))
      if (started.status === "rejected") throw started.reason
  }, 200_000)

  afterAll(async () => {
    await Promise.all([generated?.stop(), withGiven?.stop()])
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  it("prints a generated admin token, with where it is kept", () => {
    const { stdout } = generated.out
    expect(stdout).toContain(`dashboard:   http://localhost:${ports[0]}/`)
    const token = readFileSync(join(generatedDir, "admin-token"), "utf8").trim()
    expect(token).toMatch(/^tly_a_/)
    expect(stdout).toContain(`admin token: ${token} (generated, kept in ${generatedDir}/admin-token)`)
    expect(stdout).toContain(`-H 'authorization: Bearer ${token}'`)
  })

  it("never prints a token given in TALLY_ADMIN_TOKEN", () => {
    const { stdout, stderr } = withGiven.out
    expect(stdout).toContain(`dashboard:   http://localhost:${ports[1]}/`)
    expect(stdout).toContain("admin token: the one in TALLY_ADMIN_TOKEN (not printed)")
    expect(stdout).toContain('-H "authorization: Bearer $TALLY_ADMIN_TOKEN"')
    expect(stdout).not.toContain(given)
    expect(stderr).not.toContain(given)
  })

  it("/metrics counts measurements dropped as late by type and period, never by app", async () => {
    const base = `http://127.0.0.1:${ports[1]}`
    const created = await fetch(`${base}/api/v1/apps`, {
      method: "POST",
      headers: { authorization: `Bearer ${given}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "late-app" }),
    })
    expect(created.status).toBe(201)
    const app = (await created.json()) as { owner: string; drainUrl: string }
    const secret = decodeURIComponent(new URL(app.drainUrl).password)
    const r14 = (ms: number) => {
      const line = `<158>1 ${new Date(ms).toISOString()} host heroku run.1 - Error R14 (Memory quota exceeded)\n`
      return `${Buffer.byteLength(line)} ${line}`
    }
    const post = (body: string) =>
      fetch(`${base}/logs`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`tally:${secret}`).toString("base64")}`,
          "content-type": "application/logplex-1",
        },
        body,
      }).then((r) => r.status)
    // The first line moves the partition's stream time to now; the second's 1m window closed 5 min after it ended.
    expect(await post(r14(Date.now() - 60_000))).toBe(204)
    expect(await post(r14(Date.now() - 12 * 60_000))).toBe(204)
    // Every type and period is on /metrics from the start (at 0): wait for the late ERRORS line to count.
    let lines: Array<string> = []
    const deadline = Date.now() + 60_000
    const counted = () =>
      lines.some(
        (l) =>
          l.startsWith('tally_aggregator_late_dropped_total{type="ERRORS",period="1m"} ') &&
          !l.endsWith(" 0"),
      )
    while (!counted() && Date.now() < deadline) {
      const text = await fetch(`${base}/metrics`).then((r) => r.text())
      lines = text.split("\n").filter((l) => l.startsWith("tally_aggregator_late_dropped_total"))
      if (!counted()) await new Promise((r) => setTimeout(r, 250))
    }
    // Each series is labelled with exactly a type and a period: never an app (unbounded label values).
    const series = lines.map((line) => {
      const [, labels = "", value = ""] =
        /^tally_aggregator_late_dropped_total\{(.*)\} (\S+)$/.exec(line) ?? []
      return {
        labels: Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])),
        value: Number(value),
        line,
      }
    })
    for (const { labels, line } of series) {
      expect(Object.keys(labels).sort(), line).toEqual(["period", "type"])
      expect(["DYNO_MEMORY", "DYNO_LOAD", "ROUTER_REQUESTS", "ERRORS"], line).toContain(labels.type)
      expect(["1m", "15m"], line).toContain(labels.period)
      expect(line).not.toContain(app.owner)
    }
    const errors1m = series.find((s) => s.labels.type === "ERRORS" && s.labels.period === "1m")
    expect(errors1m?.value, lines.join("\n")).toBeGreaterThanOrEqual(1)
  }, 90_000)

  it("apps list, show, rotate and delete go through the running server's API", async () => {
    const env = { TALLY_DATA_DIR: givenDir, TALLY_ADMIN_TOKEN: given, TALLY_PORT: String(ports[1]) }
    const base = `http://127.0.0.1:${ports[1]}`
    const created = tally(["apps", "create", "cli-remote", "--json"], env)
    expect(created.status, created.stderr).toBe(0)
    const app = JSON.parse(created.stdout) as { owner: string; readToken: string }
    const list = tally(["apps", "list"], env)
    expect(list.status, list.stderr).toBe(0)
    expect(list.stdout).toMatch(new RegExp(`^cli-remote +${app.owner} +\\d{4}-`, "m"))
    const show = tally(["apps", "show", "cli-remote", "--json"], env)
    expect(JSON.parse(show.stdout)).toMatchObject({ owner: app.owner, name: "cli-remote", processTypes: [] })
    // A connection of its own each time: spawnSync blocks this process while the server closes idle ones.
    const me = (token: string) =>
      new Promise<number>((resolve, reject) =>
        get(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (r) => {
          r.resume()
          resolve(r.statusCode ?? 0)
        }).on("error", reject),
      )
    expect(await me(app.readToken)).toBe(200)
    const rotated = tally(["apps", "rotate", app.owner, "--read-token", "--json"], env)
    expect(rotated.status, rotated.stderr).toBe(0)
    const token = (JSON.parse(rotated.stdout) as { readToken: string }).readToken
    expect(await me(token)).toBe(200)
    expect(await me(app.readToken)).toBe(401)
    const drain = tally(["apps", "rotate", "cli-remote", "--drain-secret"], env)
    expect(drain.status, drain.stderr).toBe(0)
    expect(drain.stdout).toMatch(/^new drain URL: http:\/\/tally:[A-Za-z0-9_-]{32}@localhost:\d+\/logs$/m)
    // The drain URL names localhost (TALLY_PUBLIC_URL unset): a warning says so.
    expect(drain.stderr).toMatch(
      /^tally: warning: drain URLs point at http:\/\/localhost:\d+, which Heroku cannot reach/,
    )
    const unsure = tally(["apps", "delete", "cli-remote"], env)
    expect(unsure.status).toBe(1)
    expect(unsure.stderr.trim()).toMatch(/add --yes to do it$/)
    const removed = tally(["apps", "delete", "cli-remote", "--yes"], env)
    expect(removed.status, removed.stderr).toBe(0)
    expect(await me(token)).toBe(401)
    const gone = tally(["apps", "show", "cli-remote"], env)
    expect(gone.status).toBe(1)
    expect(gone.stderr.trim()).toBe("tally: no app named cli-remote; tally apps list lists them")
  }, 240_000)

  it("stops on SIGTERM with exit code 0", async () => {
    expect(await Promise.all([generated.stop(), withGiven.stop()])).toEqual([0, 0])
  }, 60_000)
})
