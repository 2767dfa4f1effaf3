/**
 * Runs `npm run chaos -- … --json` as a child process for the CI-sized chaos tests, and checks what every
 * run must show. A run cut short by the test's timeout is interrupted (SIGINT): it stops its processes,
 * repairs what its faults broke (the broker, a Kafka node, a shard, the embedded volume) and drops its
 * databases and topics before it exits.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { expect } from "vitest"
import type { toJson } from "../../tools/chaos/report.ts"
import type { FaultKind } from "../../tools/chaos/schedule.ts"

export type Result = ReturnType<typeof toJson>

const root = join(import.meta.dirname, "../..")
let child: ChildProcess | undefined

export const interruptChaos = async () => {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child!.once("close", resolve))
  child.kill("SIGINT")
  await exited
}

export const runChaos = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; result: Result | undefined; stderr: string }>((resolve) => {
    if (process.env.TALLY_KAFKA_BROKERS)
      throw new Error(
        "the chaos run stops and starts the project's brokers: unset TALLY_KAFKA_BROKERS to run it",
      )
    child = spawn(process.execPath, [join(root, "tools/chaos/main.ts"), ...args, "--json"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? ""
      const result = last.startsWith("{") ? (JSON.parse(last) as Result) : undefined
      if (code !== 0 || !result) console.error(stderr.split("\n").slice(-100).join("\n"))
      resolve({ code, result, stderr })
    })
  })

/** What every CI-sized run must show, for the kinds it played. */
export const expectExact = (
  run: { code: number | null; result: Result | undefined },
  kinds: ReadonlyArray<FaultKind>,
) => {
  const r = run.result
  expect(r, "the harness printed its verdict").toBeDefined()
  expect(r!.failures).toEqual([])
  expect(run.code).toBe(0)
  // No process crashed (a stage that fails ends with its one `tally: …` line; a crash is a finding).
  expect(r!.findings).toEqual([])
  // Every kind was played, as planned.
  expect(new Set(r!.injected.filter((i) => i.ok).map((i) => i.fault.kind))).toEqual(new Set(kinds))
  for (const t of r!.targets) {
    // Many rollups of both periods compared, all exact, none given up; exact within the run's bound
    // (--max-seconds-to-exact) of the last fault.
    expect(t.verdict!.rollups.total, t.name).toBeGreaterThan(t.name === "pipeline" ? 100 : 20)
    expect(t.verdict!.rollups.exact, t.name).toBe(t.verdict!.rollups.total)
    expect(t.verdict!.rollups.total15, t.name).toBeGreaterThan(t.name === "pipeline" ? 20 : 5)
    expect(t.verdict!.rollups.exact15, t.name).toBe(t.verdict!.rollups.total15)
    expect(t.load!.droppedBodies, t.name).toBe(0)
    if (t.faults > 0) expect(t.convergence.seconds, t.name).toBeLessThanOrEqual(r!.options.maxSecondsToExact)
    // Late lines counted, too-late ones dropped.
    expect(t.tooLate.linesSent, t.name).toBeGreaterThan(0)
  }
  const main = r!.targets.find((t) => t.name === "pipeline")!
  expect(main.tooLate.droppedRecords[0].ROUTER_REQUESTS ?? 0).toBeGreaterThan(0)
  expect(r!.lateCounted.byPeriod["1m"] ?? 0).toBeGreaterThanOrEqual(r!.lateCounted.expectedAtLeast["1m"]!)
  // Poison: sent, refused and counted by the ingress; nothing in the DEAD topics.
  expect(r!.poison.acknowledged).toBeGreaterThan(0)
  expect(r!.poison.counted).toBeGreaterThanOrEqual(r!.poison.lo)
  expect(r!.poison.counted).toBeLessThanOrEqual(r!.poison.hi)
  expect(r!.deadLetters!.total).toBe(0)
}
