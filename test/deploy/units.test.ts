/**
 * deploy/systemd (issue 25): a unit for every service the Procfile runs, each starting a real `tally`
 * subcommand, restarted on failure (exit 1: a stage failed) but not on exit 2 (a setting that cannot
 * work), stopped with SIGTERM and time to flush; the aggregator a template whose instance is the worker.
 */
import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "../..")
const units = join(root, "deploy/systemd")

/** `key=value` lines of a unit file (the last of each key). */
const settings = (text: string) =>
  new Map(
    text
      .split("\n")
      .filter((l) => /^[A-Za-z]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
  )

describe("deploy/systemd", () => {
  it("each unit runs a tally service, restarts on failure but not on a bad setting", () => {
    const help = spawnSync(process.execPath, [join(root, "src/main.ts"), "--help"], { encoding: "utf8" })
    const files = readdirSync(units).filter((f) => f.endsWith(".service"))
    const services = files.map((f) => {
      const s = settings(readFileSync(join(units, f), "utf8"))
      const command = /src\/main\.ts (\w+)$/.exec(s.get("ExecStart") ?? "")?.[1]
      expect(command, `${f} ExecStart`).toBeDefined()
      expect(help.stdout, `${f}: tally ${command} exists`).toMatch(new RegExp(`^\\s+${command}\\s`, "m"))
      expect(s.get("ExecStart"), f).toMatch(/^\/opt\/tally\/node_modules\/\.bin\/node src\/main\.ts /)
      expect(s.get("Restart"), f).toBe("on-failure")
      expect(s.get("RestartPreventExitStatus"), f).toBe("2")
      expect(s.get("KillSignal"), f).toBe("SIGTERM")
      expect(Number.parseInt(s.get("TimeoutStopSec") ?? "0", 10), f).toBeGreaterThanOrEqual(30)
      expect(s.get("EnvironmentFile"), f).toBe("/etc/tally/tally.env")
      return command!
    })
    // Every process of the Procfile has a unit; the aggregator's is a template over the worker index.
    const procfile = readFileSync(join(root, "deploy/Procfile"), "utf8")
    for (const [, command] of procfile.matchAll(/^\w+: .*src\/main\.ts (\w+)$/gm))
      expect(services, `a unit for tally ${command}`).toContain(command)
    const aggregator = settings(readFileSync(join(units, "tally-aggregator@.service"), "utf8"))
    expect(aggregator.get("Environment")).toBe("TALLY_WORKER_INDEX=%i")
  })
})
