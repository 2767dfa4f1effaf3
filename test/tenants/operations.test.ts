/**
 * Operations and security of `tally all` (DESIGN.md "Tenants"), against real child processes: one owner
 * per data dir (a second `tally all` exits 2 at once with one line, the first keeps serving and writing);
 * `tally apps create` goes through the running server's API (its drain URL works, the app survives a
 * restart) and opens the dir itself when no server holds it; the data dir 0700 and its files 0600 (an
 * older version's loose dir tightened); TALLY_HOST; drain URLs never from the Host header; CSP and
 * nosniff on the dashboard.
 */
import { spawn } from "node:child_process"
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, stop, tally, waitHealthy } from "../e2e/support.ts"
import {
  ADMIN,
  type App,
  frame,
  postDrain,
  readMetric,
  routerLine,
  type Server,
  startTally,
} from "./support.ts"

const root = join(import.meta.dirname, "../..")

/** Runs a `tally` command to its end: exit code, stdout, stderr, and how long it took. */
const run = (args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs = 120_000) =>
  new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [join(root, "src/main.ts"), ...args], {
      env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", ...env },
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })

/** The app whose drain URL (with its secret) and read token a command or the API printed. */
const appOf = (owner: string, name: string, drainUrl: string, readToken: string): App => ({
  owner,
  name,
  secret: decodeURIComponent(new URL(drainUrl).password),
  readToken,
})

/** Posts one router line to `drainUrl` itself (credentials as basic auth, as Logplex does). */
const postTo = (drainUrl: string) => {
  const url = new URL(drainUrl)
  return fetch(`${url.origin}/logs`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`,
      "content-type": "application/logplex-1",
    },
    body: frame([routerLine(Date.now() - 60_000)]).toString("latin1"),
  }).then((r) => r.status)
}

/** Waits until `probe` gives a result `done` accepts, or fails after `ms` with the last one. */
const waitFor = async <A>(probe: () => Promise<A>, done: (a: A) => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms
  let last: A = await probe()
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; last: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 250))
    last = await probe()
  }
  return last
}

/** Every dir and file under `dir` (and `dir` itself) with its permission bits; symlinks are skipped. */
const modes = (dir: string): Array<{ path: string; dir: boolean; mode: number }> => {
  const out = [{ path: dir, dir: true, mode: lstatSync(dir).mode & 0o777 }]
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isSymbolicLink()) continue
    const path = join(dir, e.name)
    if (e.isDirectory()) out.push(...modes(path))
    else out.push({ path, dir: false, mode: lstatSync(path).mode & 0o777 })
  }
  return out
}

/** The local addresses (hex, as /proc/net/tcp{,6} write them) listening on `port`. */
const listening = (port: number) => {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0")
  const out: Array<string> = []
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = ""
    try {
      text = readFileSync(file, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/)
      if (state === "0A" && local?.endsWith(`:${hexPort}`)) out.push(local.split(":")[0]!)
    }
  }
  return out
}

/** POST /api/v1/apps with a Host header of the client's choosing (fetch will not send one). */
const createWithHost = (port: number, host: string, name: string) =>
  new Promise<{ status: number; body: { drainUrl: string } }>((resolve, reject) => {
    const body = JSON.stringify({ name })
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/v1/apps",
        headers: {
          host,
          authorization: `Bearer ${ADMIN}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8").on("data", (d: string) => (text += d))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
      },
    )
    req.on("error", reject)
    req.end(body)
  })

describe("tenants: operations and security", () => {
  // A data dir as an older version left it: readable by others, with a file made under umask 022.
  const dataDir = mkdtempSync(join(tmpdir(), "tally-ops-"))
  chmodSync(dataDir, 0o755)
  writeFileSync(join(dataDir, "left-by-an-older-version"), "x\n", { mode: 0o644 })
  chmodSync(join(dataDir, "left-by-an-older-version"), 0o644)
  let server: Server
  let throughApi: { owner: string; name: string; drainUrl: string; readToken: string }
  let offline: { owner: string; name: string; drainUrl: string; readToken: string }

  beforeAll(async () => {
    server = await startTally({ TALLY_DATA_DIR: dataDir, TALLY_HOST: "127.0.0.1" })
  }, 180_000)

  afterAll(async () => {
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }, 60_000)

  it("a second tally all on the same data dir exits 2 at once with one line; the first keeps serving and writing", async () => {
    // Killed after 60 s if it runs on (as it did: it opened the dir beside the first).
    const second = await run(
      ["all"],
      { TALLY_DATA_DIR: dataDir, TALLY_PORT: String(await freePort()), TALLY_ADMIN_TOKEN: ADMIN },
      60_000,
    )
    expect(second.code, second.stdout + second.stderr).toBe(2)
    expect(second.stderr).toBe(
      `tally: the data dir ${dataDir} is in use by pid ${server.proc.child.pid} (another tally all); stop it or set TALLY_DATA_DIR\n`,
    )
    expect(second.stdout).toBe("")
    // At once: it took the time of starting node (the first start on this dir, PGlite's, took far longer).
    expect(second.ms).toBeLessThan(30_000)
    // The first serves and stores what it is sent.
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200)
    const app = await server.createApp("ops-first")
    expect((await postDrain(server, app, frame([routerLine(Date.now() - 60_000)]))).status).toBe(204)
    const read = await waitFor(
      () => readMetric(server, app, "router_status", { process_type: "web" }),
      (r) => r.status === 200 && (r.body?.series?.[0]?.points?.length ?? 0) > 0,
      60_000,
      "the line stored and read back",
    )
    expect(read.body.series[0].points.reduce((n: number, p: { count: number }) => n + p.count, 0)).toBe(1)
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200)
    expect(server.proc.output()).not.toMatch(/could not open file|UNIQUE constraint/)
  }, 120_000)

  it("tally apps create while the server runs goes through its API: the drain URL it prints works", async () => {
    const created = await run(["apps", "create", "ops-cli", "--json"], {
      TALLY_DATA_DIR: dataDir,
      TALLY_ADMIN_TOKEN: ADMIN,
    })
    expect(created.code, created.stderr).toBe(0)
    throughApi = JSON.parse(created.stdout)
    // The running server knows the app at once (it made it).
    const app = appOf(throughApi.owner, throughApi.name, throughApi.drainUrl, throughApi.readToken)
    expect((await postDrain(server, app, frame([routerLine(Date.now() - 60_000)]))).status).toBe(204)
    expect((await readMetric(server, app, "router_status")).status).toBe(200)
    // TALLY_HOST is one address: drain URLs carry it, and the command warns that Heroku cannot reach it.
    expect(throughApi.drainUrl).toMatch(
      new RegExp(`^http://tally:[A-Za-z0-9_-]{32}@127\\.0\\.0\\.1:${server.port}/logs$`),
    )
    expect(created.stderr).toContain("warning: drain URLs point at")
    expect(created.stderr).toContain("set TALLY_PUBLIC_URL")
    expect(await postTo(throughApi.drainUrl)).toBe(204)
    // A name taken is the same one line as without a server.
    const again = await run(["apps", "create", "ops-cli"], {
      TALLY_DATA_DIR: dataDir,
      TALLY_ADMIN_TOKEN: ADMIN,
    })
    expect(again.code).toBe(1)
    expect(again.stderr.trim()).toBe("tally: an app named ops-cli exists")
    expect(server.proc.output()).not.toMatch(/could not open file|UNIQUE constraint/)
  }, 120_000)

  it("tally retention run while the server runs asks it (POST /api/v1/retention, admin token)", async () => {
    const r = await run(["retention", "run"], { TALLY_DATA_DIR: dataDir, TALLY_ADMIN_TOKEN: ADMIN })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe("nothing to drop")
    expect((await fetch(`${server.base}/api/v1/retention`, { method: "POST" })).status).toBe(401)
    expect(server.proc.output()).not.toMatch(/could not open file|UNIQUE constraint/)
  }, 120_000)

  it("TALLY_HOST=127.0.0.1: the server listens there only, and the banner says so", () => {
    expect(listening(server.port)).toEqual(["0100007F"])
    expect(server.proc.output()).toContain(`dashboard:   http://127.0.0.1:${server.port}/`)
  })

  it("with no server running, apps create opens the data dir itself; after a restart every app is there", async () => {
    expect(await server.stop()).toBe(0)
    const created = await run(["apps", "create", "ops-offline", "--json"], { TALLY_DATA_DIR: dataDir })
    expect(created.code, created.stderr).toBe(0)
    offline = JSON.parse(created.stdout)
    expect(offline.drainUrl).toMatch(/^http:\/\/tally:[A-Za-z0-9_-]{32}@localhost:8080\/logs$/)

    // Restarted without TALLY_HOST (every interface).
    server = await startTally({ TALLY_DATA_DIR: dataDir })
    for (const a of [throughApi, offline]) {
      const app = appOf(a.owner, a.name, a.drainUrl, a.readToken)
      expect((await postDrain(server, app, frame([routerLine(Date.now() - 60_000)]))).status, a.name).toBe(
        204,
      )
      expect((await readMetric(server, app, "router_status")).status, a.name).toBe(200)
    }
  }, 240_000)

  it("the data dir is 0700 and every file in it 0600, the older version's too", async () => {
    await waitHealthy(server.base, server.proc)
    const all = modes(dataDir)
    const names = all.map((m) => m.path.slice(dataDir.length + 1))
    for (const expected of ["log/log.db", "log/log.db-wal", "pg/PG_VERSION", "left-by-an-older-version"])
      expect(names).toContain(expected)
    expect(
      all.filter((m) => m.mode !== (m.dir ? 0o700 : 0o600)).map((m) => `${m.mode.toString(8)} ${m.path}`),
    ).toEqual([])
  })

  it("drain URLs never come from the Host header: localhost and the port unless TALLY_PUBLIC_URL says", async () => {
    const created = await createWithHost(server.port, "evil.example.com:666", "ops-host")
    expect(created.status).toBe(201)
    expect(created.body.drainUrl).toMatch(
      new RegExp(`^http://tally:[A-Za-z0-9_-]{32}@localhost:${server.port}/logs$`),
    )
    expect(created.body.drainUrl).not.toContain("evil")
    expect(server.proc.output()).toContain(
      `warning: drain URLs point at http://localhost:${server.port}, which Heroku cannot reach; set TALLY_PUBLIC_URL`,
    )
  })

  it("the dashboard sends a strict Content-Security-Policy and nosniff; API answers nosniff too", async () => {
    for (const path of ["/", "/dashboard.js", "/dashboard.css", "/vendor/uPlot.iife.min.js"]) {
      const r = await fetch(`${server.base}${path}`)
      expect(r.status, path).toBe(200)
      const csp = r.headers.get("content-security-policy") ?? ""
      expect(csp, path).toContain("default-src 'none'")
      expect(csp, path).toContain("script-src 'self'")
      expect(csp, path).not.toContain("unsafe")
      expect(r.headers.get("x-content-type-options"), path).toBe("nosniff")
    }
    const health = await fetch(`${server.base}/healthz`)
    expect(health.headers.get("x-content-type-options")).toBe("nosniff")
    expect(health.headers.get("referrer-policy")).toBe("no-referrer")
  })

  it("stops on SIGTERM with exit code 0 and lets the data dir go", async () => {
    expect(await stop(server.proc)).toBe(0)
    expect(readdirSync(dataDir)).not.toContain("owner.json")
    // The next owner takes it at once.
    const proc = tally(["apps", "create", "ops-after"], { TALLY_DATA_DIR: dataDir })
    const code = await new Promise<number | null>((resolve) => proc.child.on("exit", resolve))
    expect(code, proc.output()).toBe(0)
  }, 120_000)
})
