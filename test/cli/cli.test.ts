/** The `tally` command as a user runs it: one process per call, embedded store under a temp data dir. */
import { spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
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
})
