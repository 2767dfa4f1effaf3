/**
 * The load tool against a real embedded tally (`tally all` as a child process): a small load is verified
 * exact, rollup by rollup and event by event; an oracle with one value changed (or one rollup or event
 * too few) is caught; and `npm run loadtest -- --json` exits 0 with a verdict.
 */
import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  compareOnce,
  createFleetApps,
  Generator,
  makeFleet,
  Oracle,
  runLoad,
  type VerifyApp,
  verify,
  verifyApps,
} from "../../tools/load/index.ts"
import { freePort, type Proc, stop, tally, waitHealthy } from "../e2e/support.ts"
import { ADMIN } from "../support/http.ts"

let proc: Proc
let base = ""

beforeAll(async () => {
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  proc = tally(["all"], {
    TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), "tally-loadtest-")),
    TALLY_PORT: String(port),
    TALLY_FLUSH_AFTER: "1s",
    TALLY_ADMIN_TOKEN: ADMIN,
  })
  await waitHealthy(base, proc)
})

afterAll(async () => {
  if (proc) expect(await stop(proc)).toBe(0)
})

describe("loadtest against embedded tally", () => {
  it("2,000 lines/s for 10 s from 5 apps: every rollup and event equals the oracle; a wrong oracle is caught", async () => {
    const fleet = makeFleet({ apps: 5, seed: 42 })
    const oracle = new Oracle(fleet)
    const apps = await createFleetApps(base, ADMIN, fleet)
    const load = await runLoad(
      new Generator(fleet),
      oracle,
      apps.map((a) => a.target),
      { rate: 2000, seconds: 10 },
    )
    expect(load.offeredLines).toBeGreaterThanOrEqual(19_900)
    expect(load.statuses).toEqual({ "204": load.bodies })
    const expected = verifyApps(oracle, apps)
    const verdict = await verify(base, expected, { sinceMs: load.endMs, settleSeconds: 90 })
    if (!verdict.exact) console.error(proc.output().slice(-3000))
    expect(verdict.differences).toEqual([])
    expect(verdict.exact).toBe(true)
    expect(verdict.rollups.total).toBeGreaterThan(250)
    expect(verdict.rollups.exact).toBe(verdict.rollups.total)
    expect(verdict.events.expected).toBeGreaterThan(5)
    expect(verdict.events.matched).toBe(verdict.events.expected)

    // The same answers against an oracle with one value changed, one rollup and one event missing.
    const [first, ...rest] = expected
    const rollups = new Map([...first!.expectation.rollups].map(([k, r]) => [k, { ...r }]))
    const keys = [...rollups.keys()]
    const counted = keys.find((k) => k.startsWith("web|router_status|200|"))!
    const sketched = keys.find(
      (k) => rollups.get(k)!.metric === "router_service_ms" && rollups.get(k)!.count > 20,
    )!
    const dropped = keys.find((k) => k.startsWith("web|memory_total|"))!
    rollups.get(counted)!.count += 1
    rollups.get(sketched)!.p99 = rollups.get(sketched)!.p99! * 1.05
    rollups.delete(dropped)
    const wrong: Array<VerifyApp> = [
      {
        ...first!,
        expectation: { ...first!.expectation, rollups, events: first!.expectation.events.slice(1) },
      },
      ...rest,
    ]
    const c = await compareOnce(base, wrong)
    const at = `app 0 (${first!.owner.slice(0, 8)}) `
    const event = first!.expectation.events[0]!
    const escaped = (text: string) => text.replace(/[()|.]/g, "\\$&")
    expect(c.differences).toHaveLength(4)
    expect(c.differences).toEqual(
      expect.arrayContaining([
        `${at}${counted}: count ${rollups.get(counted)!.count - 1} != ${rollups.get(counted)!.count}`,
        expect.stringMatching(new RegExp(`^${escaped(`${at}${sketched}`)}: p99 \\S+ not within 1% of`)),
        expect.stringMatching(new RegExp(`^${escaped(`${at}${dropped}`)}: unexpected`)),
        `${at}event unexpected: ${new Date(event.timeMs).toISOString().replace(".000Z", "Z")} ${event.kind} ${event.process} "${event.description}" ${event.actor}`,
      ]),
    )
    expect(c.exactRollups).toBe(c.rollups - 2)
  }, 180_000)

  it("npm run loadtest -- --json: creates its apps, loads, verifies and exits 0 with one JSON verdict", async () => {
    const root = join(import.meta.dirname, "../..")
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) =>
        execFile(
          process.execPath,
          [
            join(root, "tools/loadtest.ts"),
            "--url",
            base,
            "--rate",
            "300",
            "--seconds",
            "3",
            "--apps",
            "2",
            "--json",
          ],
          { env: { ...process.env, TALLY_ADMIN_TOKEN: ADMIN }, timeout: 150_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        ),
    )
    expect(stderr).toBe("")
    expect(code).toBe(0)
    const summary = JSON.parse(stdout) as {
      ok: boolean
      load: { offeredLines: number; cpu: { cores: number } }
      verdict: { exact: boolean; rollups: { total: number; exact: number } }
    }
    expect(summary.ok).toBe(true)
    expect(summary.load.offeredLines).toBe(900)
    expect(summary.verdict.rollups.exact).toBe(summary.verdict.rollups.total)
    expect(summary.load.cpu.cores).toBeGreaterThan(0)
  }, 180_000)
})
