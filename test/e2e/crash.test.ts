/**
 * Crash safety of `npm start` (issue 11): `tally all` on embedded defaults (the durable log and PGlite in
 * the data dir) under drain load is SIGKILLed twice and started again on the same data dir while the
 * drains keep retrying with the same Frame-Ids, as Logplex does. Every acknowledged line counts exactly
 * once: every 1-minute rollup and event equals the load tool's oracle.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { loadtest } from "../../tools/load/run.ts"
import { ADMIN } from "../support/http.ts"
import { freePort, type Proc, stop, tally, waitHealthy } from "./support.ts"

describe("end to end: npm start survives SIGKILL under load", () => {
  it("every acknowledged line counts once after two SIGKILLs and restarts on the same data dir", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tally-e2e-crash-"))
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      TALLY_DATA_DIR: dataDir,
      TALLY_PORT: String(port),
      TALLY_FLUSH_AFTER: "1s",
      TALLY_ADMIN_TOKEN: ADMIN,
    }
    let proc: Proc = tally(["all"], env)
    await waitHealthy(base, proc, 90_000)
    const kills: Array<number> = []
    const started = Date.now()
    // SIGKILL after 8 s and 18 s of load; each time a new process starts at once on the same data dir.
    const crashes = (async () => {
      for (const at of [8_000, 18_000]) {
        await new Promise((r) => setTimeout(r, Math.max(0, started + at - Date.now())))
        await stop(proc, "SIGKILL")
        kills.push(Date.now() - started)
        proc = tally(["all"], env)
        await waitHealthy(base, proc, 90_000)
      }
    })()
    try {
      const summary = await loadtest({
        url: base,
        adminToken: ADMIN,
        apps: 4,
        rate: 1500,
        seconds: 28,
        linesPerBody: 100,
        connections: 16,
        // Logplex keeps retrying (same Frame-Id) long enough to outlast a restart: nothing is given up.
        tries: 60,
        settleSeconds: 120,
        stableSeconds: 45,
        seed: 11,
      })
      await crashes
      expect(kills).toHaveLength(2)
      const { load, verdict } = summary
      expect(load.droppedBodies).toBe(0)
      expect(load.retries).toBeGreaterThan(0) // the kills were felt by the drains
      expect(verdict.rollups.total).toBeGreaterThan(100)
      expect(verdict.rollups.indeterminate).toBe(0)
      expect(verdict.differences.slice(0, 10)).toEqual([])
      expect(verdict.rollups.exact).toBe(verdict.rollups.total)
      expect(verdict.events.matched).toBe(verdict.events.expected)
      expect(verdict.exact).toBe(true)
    } finally {
      await crashes.catch(() => undefined)
      await stop(proc)
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 300_000)
})
