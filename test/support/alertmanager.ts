/**
 * A real Alertmanager for tests: Debian's `prometheus-alertmanager` (0.25; `.ci/run` installs it),
 * started on a free port with a config and storage dir of its own, clustering off, ready once
 * `/-/ready` answers 200. Missing binary: the test fails with one line saying what to install.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const ALERTMANAGER_BIN = process.env.TALLY_ALERTMANAGER_BIN ?? "/usr/bin/prometheus-alertmanager"

/** An alert as Alertmanager's `GET /api/v2/alerts` shows it. */
export interface ManagedAlert {
  readonly labels: Record<string, string>
  readonly annotations: Record<string, string>
  readonly startsAt: string
  readonly endsAt: string
  readonly generatorURL: string
  readonly fingerprint: string
  readonly status: { readonly state: string }
}

export interface Alertmanager {
  readonly url: string
  /** `GET /api/v2/alerts` (active, silenced, inhibited and unprocessed: Alertmanager's defaults). */
  readonly alerts: () => Promise<Array<ManagedAlert>>
  readonly stop: () => Promise<void>
  readonly output: () => string
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

const CONFIG = `route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
`

export const startAlertmanager = async (): Promise<Alertmanager> => {
  if (!existsSync(ALERTMANAGER_BIN))
    throw new Error(
      `no Alertmanager at ${ALERTMANAGER_BIN}: install Debian's prometheus-alertmanager (apt-get install prometheus-alertmanager; .ci/run does) or set TALLY_ALERTMANAGER_BIN`,
    )
  const dir = mkdtempSync(join(tmpdir(), "tally-alertmanager-"))
  writeFileSync(join(dir, "alertmanager.yml"), CONFIG)
  const port = await freePort()
  let output = ""
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  )
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r))
      child.kill("SIGTERM")
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const until = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Alertmanager exited ${child.exitCode}:\n${output}`)
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ready) break
    if (Date.now() > until) {
      await stop()
      throw new Error(`Alertmanager did not become ready within 60 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    alerts: async () => (await (await fetch(`${url}/api/v2/alerts`)).json()) as Array<ManagedAlert>,
    stop,
    output: () => output,
  }
}
