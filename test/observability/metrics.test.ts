/**
 * Every documented metric from the start (issue 25), against a real `tally all` (embedded parts, JSON
 * logs): docs/operations.md's table and /metrics agree on each metric's name, type, labels and help text
 * (its `# HELP`), every tally metric /metrics shows is documented, every metric the README names is in
 * the table, and the process, build and CPU metrics are there. Then SIGTERM: JSON log lines name the
 * service, and the process logs that it stops and has stopped.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { SERIES_NAMES } from "../../src/query/PromLabels.ts"
import { freePort, type Proc, stop, tally, waitHealthy } from "../e2e/support.ts"

const root = join(import.meta.dirname, "../..")

interface Row {
  readonly name: string
  readonly type: string
  readonly labels: ReadonlyArray<string>
  readonly help: string
}

/** The rows of the Metrics table of docs/operations.md. */
const documented = (): Array<Row> => {
  const doc = readFileSync(join(root, "docs/operations.md"), "utf8")
  const section = doc.slice(doc.indexOf("## Metrics"), doc.indexOf("\n## ", doc.indexOf("## Metrics") + 5))
  return section
    .split("\n")
    .filter((l) => l.startsWith("| `"))
    .map((l) => {
      const cells = l.split(" | ").map((c) => c.replace(/^\| /, "").replace(/ \|$/, "").trim())
      return {
        name: cells[0]!.replaceAll("`", ""),
        type: cells[1]!,
        labels: cells[2] === "" ? [] : cells[2]!.split(", "),
        help: cells[4]!,
      }
    })
}

interface Family {
  help: string | undefined
  type: string | undefined
  labels: Set<string>
}

/** The metric families of a /metrics body. */
const families = (text: string): Map<string, Family> => {
  const out = new Map<string, Family>()
  const family = (name: string) => {
    let f = out.get(name)
    if (!f) out.set(name, (f = { help: undefined, type: undefined, labels: new Set() }))
    return f
  }
  for (const line of text.split("\n")) {
    const help = /^# HELP (\S+) (.*)$/.exec(line)
    if (help) family(help[1]!).help = help[2]!
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) family(type[1]!).type = type[2]!
    const sample = /^([a-zA-Z_:][\w:]*?)(_bucket|_sum|_count)?(\{(.*)\})? \S+$/.exec(line)
    if (sample && !line.startsWith("#")) {
      const name = out.has(sample[1]!) ? sample[1]! : `${sample[1]}${sample[2] ?? ""}`
      for (const m of (sample[4] ?? "").matchAll(/(\w+)="/g))
        if (m[1] !== "le") family(name).labels.add(m[1]!)
    }
  }
  return out
}

describe("/metrics of tally all, against docs/operations.md", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tally-metrics-"))
  let proc: Proc | undefined
  afterAll(async () => {
    if (proc) await stop(proc, "SIGKILL")
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("every documented metric is there from the start with its help; JSON logs; stopping and stopped", async () => {
    const rows = documented()
    expect(rows.length).toBeGreaterThan(40)
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    proc = tally(["all"], {
      TALLY_DATA_DIR: dataDir,
      TALLY_PORT: String(port),
      TALLY_LOG_FORMAT: "json",
      TALLY_ADMIN_TOKEN: "",
    })
    await waitHealthy(base, proc, 200_000)
    const text = await fetch(`${base}/metrics`).then((r) => r.text())
    const found = families(text)
    for (const row of rows) {
      const f = found.get(row.name)
      expect(f, `${row.name} is on /metrics from the start`).toBeDefined()
      expect(f!.help, `${row.name}'s help`).toBe(row.help)
      expect(f!.type, `${row.name}'s type`).toBe(row.type)
      expect([...f!.labels].sort(), `${row.name}'s labels`).toEqual([...row.labels].sort())
    }
    // Every tally metric shown is documented (with the process metrics Prometheus' clients name alike).
    const names = new Set(rows.map((r) => r.name))
    const undocumented = [...found.keys()].filter(
      (n) => (n.startsWith("tally_") || n.startsWith("process_")) && !names.has(n),
    )
    expect(undocumented, "metrics on /metrics that docs/operations.md does not list").toEqual([])
    // What the README names is in the table.
    const readme = readFileSync(join(root, "README.md"), "utf8")
    const named = new Set(
      [...readme.matchAll(/\btally_[a-z][a-z0-9_]*\b/g)]
        .map((m) => m[0])
        .filter((n) => !["tally_migrations", "tally_staging"].includes(n))
        // The series of Prometheus remote read (tally_<metric>_<stat>, and families as tally_errors_*)
        // are the rollups, not /metrics.
        .filter((n) => !SERIES_NAMES.some((s) => s.name === n || (n.endsWith("_") && s.name.startsWith(n)))),
    )
    for (const n of named) expect(names, `the README names ${n}`).toContain(n)
    expect(text).toMatch(/^tally_build_info\{version="\d+\.\d+\.\d+",node="v\d+\.\d+\.\d+"\} 1$/m)
    expect(Number(/^process_start_time_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(
      Date.now() / 1000 - 600,
    )
    expect(Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0)
    expect(text).toMatch(/^tally_dead_letters_total\{shard="0",type="ROUTER_REQUESTS"\} 0$/m)
    expect(text).toMatch(/^tally_retrier_backlog\{topic="RETRY\.ERRORS_SUMMARY\.1",partition="31"\} 0$/m)
    expect(text).toMatch(/^tally_ingress_rejected_total\{reason="too_many_labels"\} 0$/m)

    expect(await stop(proc)).toBe(0)
    const lines = proc
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { service?: string; message: string; level: string; timestamp: string })
    expect(lines.length).toBeGreaterThan(3)
    for (const l of lines) expect(l.service, JSON.stringify(l)).toBe("all")
    const messages = lines.map((l) => l.message)
    expect(messages.some((m) => m.startsWith("tally all stopping: signal received"))).toBe(true)
    expect(messages.at(-1)).toMatch(/^tally all stopped after \d+ s$/)
  }, 300_000)
})
