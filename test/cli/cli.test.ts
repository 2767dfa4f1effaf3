/** The `tally` command as a user runs it: one process per call, embedded store under a temp data dir. */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "../..")
const tally = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  spawnSync(process.execPath, [join(root, "src/main.ts"), ...args], {
    env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", ...env },
    encoding: "utf8",
    timeout: 60_000,
  })

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

/** Starts `tally all` on embedded parts, reads its output until the banner is complete, then SIGTERMs it. */
const banner = async (env: Record<string, string>) => {
  const child = spawn(process.execPath, [join(root, "src/main.ts"), "all"], {
    env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", TALLY_ADMIN_TOKEN: "", ...env },
  })
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d
  })
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const deadline = Date.now() + 150_000
  while (!/create an app: .*\n/.test(stdout) && child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50))
  child.kill("SIGTERM")
  const code = await exited
  return { stdout, stderr, code }
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
  })

  it("a second app of the same name fails with one line", () => {
    const run = tally(["apps", "create", "cli-app"], { TALLY_DATA_DIR: dataDir })
    expect(run.status).toBe(1)
    expect(run.stderr.trim()).toBe("tally: an app named cli-app exists")
  })

  it("a bad setting is one line naming the variable, exit 2", () => {
    const run = tally(["apps", "create", "x"], { TALLY_DATA_DIR: dataDir, TALLY_FLUSH_AFTER: "soon" })
    expect(run.status).toBe(2)
    expect(run.stderr.trim()).toBe(
      'tally: TALLY_FLUSH_AFTER expects a duration such as 500ms, 10s or 2m; got "soon"',
    )
  })

  it("tally all prints a generated admin token (and where it is kept), never a given one", async () => {
    const given = "given-admin-token-must-not-be-printed-0123"
    const [generatedDir, givenDir] = [
      mkdtempSync(join(tmpdir(), "tally-cli-all-")),
      mkdtempSync(join(tmpdir(), "tally-cli-all-")),
    ]
    const [generatedPort, givenPort] = [await freePort(), await freePort()]
    // Both at once, so the test takes about as long as one start.
    const [generated, run] = await Promise.all([
      banner({ TALLY_DATA_DIR: generatedDir, TALLY_PORT: String(generatedPort) }),
      banner({ TALLY_DATA_DIR: givenDir, TALLY_PORT: String(givenPort), TALLY_ADMIN_TOKEN: given }),
    ])

    expect(generated.stdout, generated.stderr).toContain(`dashboard:   http://localhost:${generatedPort}/`)
    const token = readFileSync(join(generatedDir, "admin-token"), "utf8").trim()
    expect(token).toMatch(/^tly_a_/)
    expect(generated.stdout).toContain(
      `admin token: ${token} (generated, kept in ${generatedDir}/admin-token)`,
    )
    expect(generated.stdout).toContain(`-H 'authorization: Bearer ${token}'`)
    expect(generated.code).toBe(0)

    expect(run.stdout, run.stderr).toContain(`dashboard:   http://localhost:${givenPort}/`)
    expect(run.stdout).toContain("admin token: the one in TALLY_ADMIN_TOKEN (not printed)")
    expect(run.stdout).toContain('-H "authorization: Bearer $TALLY_ADMIN_TOKEN"')
    expect(run.stdout).not.toContain(given)
    expect(run.stderr).not.toContain(given)
    expect(run.code).toBe(0)
    for (const dir of [generatedDir, givenDir]) rmSync(dir, { recursive: true, force: true })
  }, 200_000)
})
