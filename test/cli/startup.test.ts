/**
 * Start-up failures a newcomer can act on (issue 25), as real `tally` processes: a port in use, a data
 * dir that cannot be created, is not a directory or is not writable (also `/proc/x`, which used to spin
 * at 100% CPU ignoring SIGTERM), a missing shared admin token with Postgres shards — each ONE line naming
 * the setting or the fix, exit 2, before any stage starts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { freePort, type Proc, tally } from "../e2e/support.ts"

const dir = mkdtempSync(join(tmpdir(), "tally-startup-"))
const held: Array<Server> = []
afterAll(() => {
  for (const s of held) s.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Holds a port (as another program would), on every interface. */
const hold = (port: number) =>
  new Promise<void>((resolve) => {
    const s = createServer()
    held.push(s)
    // Already held by someone else: the process under test meets the same.
    s.once("error", () => resolve())
    s.listen(port, () => resolve())
  })

/** Runs tally to its exit (at most `ms`); its exit code, its output, and how long it took. */
const run = async (args: ReadonlyArray<string>, env: Record<string, string>, ms = 60_000) => {
  const started = Date.now()
  const p: Proc = tally(args, { TALLY_ADMIN_TOKEN: "", ...env })
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      p.child.kill("SIGKILL")
      resolve(null)
    }, ms)
    p.child.once("exit", (c) => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  return { code, output: p.output().trim(), ms: Date.now() - started }
}

/** Exit 2 with exactly one line, matching `line`, and no stage started. */
const refused = (r: Awaited<ReturnType<typeof run>>, line: RegExp) => {
  expect(r.code, r.output).toBe(2)
  expect(r.output.split("\n"), r.output).toHaveLength(1)
  expect(r.output).toMatch(line)
  expect(r.output).not.toMatch(/sink: summaries|aggregator worker|Listening on/)
}

describe("start-up failures: one line, exit 2, before any stage starts", () => {
  it("TALLY_PORT in use names TALLY_PORT", async () => {
    const port = await freePort()
    await hold(port)
    refused(
      await run(["all"], { TALLY_DATA_DIR: join(dir, "port"), TALLY_PORT: String(port) }),
      new RegExp(
        `^tally: port ${port} \\(TALLY_PORT\\) is in use by another process; stop it or set TALLY_PORT to a free port$`,
      ),
    )
  }, 90_000)

  it("a service's default metrics port in use names TALLY_METRICS_PORT", async () => {
    // Worker 31 of 32 serves on 8090 + 31.
    await hold(8121)
    refused(
      await run(["aggregator"], {
        TALLY_DATA_DIR: join(dir, "metrics"),
        TALLY_WORKERS: "32",
        TALLY_WORKER_INDEX: "31",
        TALLY_METRICS_PORT: "",
      }),
      /^tally: port 8121 \(tally aggregator's default metrics port\) is in use by another process; stop it or set TALLY_METRICS_PORT to a free port$/,
    )
  }, 90_000)

  it("TALLY_DATA_DIR that is a file, under a file, or cannot be written", async () => {
    const file = join(dir, "a-file")
    writeFileSync(file, "not a directory")
    const port = String(await freePort())
    refused(
      await run(["all"], { TALLY_DATA_DIR: file, TALLY_PORT: port }),
      /^tally: TALLY_DATA_DIR .*a-file is not a directory \(a file is there\); set TALLY_DATA_DIR to a directory this user can create or write$/,
    )
    refused(
      await run(["all"], { TALLY_DATA_DIR: join(file, "sub"), TALLY_PORT: port }),
      /^tally: TALLY_DATA_DIR .*a-file\/sub cannot be read \(ENOTDIR: not a directory\); set TALLY_DATA_DIR to/,
    )
    // A directory nobody may write files into (root may write anywhere but /proc).
    refused(
      await run(["all"], { TALLY_DATA_DIR: "/proc/self", TALLY_PORT: port }),
      /^tally: TALLY_DATA_DIR \/proc\/self is not writable \(E\w+: .*\); set TALLY_DATA_DIR to/,
    )
    // The shell commands that open the dir say the same.
    refused(
      await run(["apps", "create", "x"], { TALLY_DATA_DIR: file }),
      /^tally: TALLY_DATA_DIR .*a-file is not a directory/,
    )
  }, 120_000)

  it("TALLY_DATA_DIR=/proc/x: one line within seconds (it used to spin at 100% CPU, deaf to SIGTERM)", async () => {
    const r = await run(["all"], { TALLY_DATA_DIR: "/proc/x", TALLY_PORT: String(await freePort()) }, 30_000)
    refused(
      r,
      /^tally: TALLY_DATA_DIR \/proc\/x cannot be created \(ENOENT: no such file or directory\); set TALLY_DATA_DIR to a directory this user can create or write$/,
    )
    // Bounds the hang (it never exited); a start on this busy machine takes a few seconds at most here.
    expect(r.ms).toBeLessThan(25_000)
  }, 60_000)

  it("tally ingress with Postgres shards and no TALLY_ADMIN_TOKEN refuses to generate its own", async () => {
    refused(
      await run(["ingress"], {
        TALLY_PG_SHARDS: "postgres://postgres@127.0.0.1:5432/tally_unused",
        TALLY_PORT: String(await freePort()),
        TALLY_DATA_DIR: join(dir, "token"),
      }),
      /^tally: TALLY_ADMIN_TOKEN must be set for tally ingress with TALLY_PG_SHARDS: every ingress and api process must accept the same admin token/,
    )
  }, 90_000)
})
