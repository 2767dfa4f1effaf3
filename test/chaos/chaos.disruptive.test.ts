/**
 * The CI-sized chaos run: `npm run chaos -- --minutes 1.25 --seed 3` as a child process. Every stage is
 * its own process under the harness's supervisor on the project's broker and 3 fresh Postgres shards;
 * 75 s of drain load at 3,000 lines/s with poison lines, and a schedule with every fault kind once:
 * SIGKILL of each aggregator worker, of worker 0's standby, of the sink, the retrier and the ingress,
 * SIGTERM of the ingress, shard 2 refusing connections for 45 s, shard 1 hung for 30 s and the broker
 * stopped for 23 s (overlapping: a short run has no room to play them one after another). It must end
 * exact: every stored 1-minute rollup equal to the oracle, the poison refused and counted, no dead
 * letters. It stops and starts the shared broker, hence `disruptive`; at most 3 minutes in all.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { toJson } from "../../tools/chaos/report.ts"
import { FAULT_KINDS, makeSchedule } from "../../tools/chaos/schedule.ts"

const root = join(import.meta.dirname, "../..")
const SEED = 3
const MINUTES = 1.25

type Result = ReturnType<typeof toJson>

let child: ChildProcess | undefined

// A run cut short by the test's timeout is interrupted: it stops its processes, starts the broker
// again if it had stopped it, and drops its databases and topics before it exits.
afterAll(async () => {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child!.once("close", resolve))
  child.kill("SIGINT")
  await exited
}, 150_000)

const chaos = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child = spawn(process.execPath, [join(root, "tools/chaos/main.ts"), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

describe("chaos harness, CI-sized", () => {
  it("the schedule of a seed is the same every time, has every fault kind, and ends by 80% of the load", () => {
    const a = makeSchedule({ seed: SEED, loadSeconds: MINUTES * 60 })
    expect(makeSchedule({ seed: SEED, loadSeconds: MINUTES * 60 })).toEqual(a)
    expect(makeSchedule({ seed: SEED + 1, loadSeconds: MINUTES * 60 })).not.toEqual(a)
    expect(new Set(a.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS))
    for (const f of a.faults) expect(f.at + (f.seconds ?? 0), f.kind).toBeLessThanOrEqual(a.faultsEndBy)
    const full = makeSchedule({ seed: SEED, loadSeconds: 900 })
    for (const kind of FAULT_KINDS.filter((k) => k.startsWith("kill-")))
      expect(full.faults.filter((f) => f.kind === kind).length, kind).toBeGreaterThanOrEqual(3)
    expect(
      makeSchedule({ seed: SEED, loadSeconds: 900, without: ["broker"] }).faults.map((f) => f.kind),
    ).not.toContain("broker")
  })

  it("every stage killed, the ingress stopped, a shard refusing, a shard hung, the broker down: exact", async () => {
    if (process.env.TALLY_KAFKA_BROKERS)
      throw new Error(
        "the chaos run stops and starts the project's broker: unset TALLY_KAFKA_BROKERS to run it",
      )
    const run = await chaos([
      "--minutes",
      String(MINUTES),
      "--seed",
      String(SEED),
      "--settle-seconds",
      "60",
      "--json",
    ])
    const last = run.stdout.trim().split("\n").at(-1) ?? ""
    const result = (last.startsWith("{") ? JSON.parse(last) : undefined) as Result | undefined
    if (run.code !== 0 || !result) console.error(run.stderr.split("\n").slice(-80).join("\n"))
    expect(result, "the harness printed its verdict").toBeDefined()
    expect(result!.failures).toEqual([])
    expect(run.code).toBe(0)
    // Every kind was played, as planned.
    expect(new Set(result!.injected.filter((i) => i.ok).map((i) => i.fault.kind))).toEqual(
      new Set(FAULT_KINDS),
    )
    // The numbers: many rollups compared, all exact, none left out.
    expect(result!.verdict!.rollups.total).toBeGreaterThan(100)
    expect(result!.verdict!.rollups.exact).toBe(result!.verdict!.rollups.total)
    expect(result!.load!.droppedBodies).toBe(0)
    // Poison: sent, refused and counted by the ingress; nothing in the DEAD topics.
    expect(result!.poison.acknowledged).toBeGreaterThan(0)
    expect(result!.poison.counted).toBeGreaterThanOrEqual(result!.poison.lo)
    expect(result!.poison.counted).toBeLessThanOrEqual(result!.poison.hi)
    expect(result!.deadLetters!.total).toBe(0)
  }, 180_000)
})
