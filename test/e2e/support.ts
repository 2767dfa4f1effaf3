/**
 * End-to-end helpers: tally processes, drain bodies, and the oracle the API must match. Bodies and oracle
 * come from the load tool's library (tools/load): the oracle knows what every line contributes because it
 * wrote the line — none of src's parsing or rollup code is involved.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import { join } from "node:path"
import {
  type AppExpectation,
  type Body,
  compareOnce,
  type Fleet,
  Generator,
  makeFleet,
  Oracle,
} from "../../tools/load/index.ts"

const root = join(import.meta.dirname, "../..")

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

export interface Proc {
  readonly child: ChildProcess
  readonly output: () => string
}

export const tally = (args: ReadonlyArray<string>, env: Record<string, string>): Proc => {
  let output = ""
  const child = spawn(process.execPath, [join(root, "src/main.ts"), ...args], {
    env: { ...process.env, TALLY_KAFKA_BROKERS: "", TALLY_PG_SHARDS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  return { child, output: () => output }
}

export const stop = (p: Proc, signal: NodeJS.Signals = "SIGTERM") =>
  new Promise<number | null>((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve(p.child.exitCode)
    p.child.once("exit", (code) => resolve(code))
    p.child.kill(signal)
  })

/** Waits until a process has printed `pattern` (its stage is running). */
export const waitOutput = async (p: Proc, pattern: RegExp, ms = 60_000) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (pattern.test(p.output())) return
    if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}:\n${p.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no ${pattern} in:\n${p.output()}`)
}

/** Until `p` answers /healthz 200: embedded starts (PGlite) take over a minute on a busy 2-core machine. */
export const waitHealthy = async (base: string, p: Proc, ms = 150_000) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (p.child.exitCode !== null) throw new Error(`tally exited ${p.child.exitCode}:\n${p.output()}`)
    const ok = await fetch(`${base}/healthz`)
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ok) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`tally did not become healthy:\n${p.output()}`)
}

export interface FleetBody {
  readonly app: number
  /** The drain body (ASCII). */
  readonly body: string
  /** What the generator wrote into it. */
  readonly generated: Body
  readonly fleet: Fleet
}

/**
 * Drain bodies of a simulated fleet (tools/load): `ticks` bodies of 60 lines per app, 10 s of event time
 * apart, ending `endAgoMs` before now.
 */
export const fleetBodies = (
  apps: number,
  ticks: number,
  endAgoMs = 5 * 60_000,
  seed = 1,
): Array<FleetBody> => {
  const fleet = makeFleet({ apps, seed, namePrefix: "e2e" })
  const generator = new Generator(fleet, { spreadMs: 2000 })
  const start = Date.now() - endAgoMs - ticks * 10_000
  const out: Array<FleetBody> = []
  for (let t = 0; t < ticks; t++)
    for (let a = 0; a < apps; a++) {
      const generated = generator.body(a, start + t * 10_000, 60)
      out.push({ app: a, body: generated.bytes.toString("latin1"), generated, fleet })
    }
  return out
}

/** What the API must answer for the app of `bodies` (all of one app), every body counted once. */
export const oracleFromBodies = (bodies: ReadonlyArray<FleetBody>): AppExpectation => {
  const first = bodies[0]!
  if (bodies.some((b) => b.app !== first.app || b.fleet !== first.fleet))
    throw new Error("bodies of one app only")
  const oracle = new Oracle(first.fleet)
  for (const b of bodies) oracle.accept(b.generated)
  return oracle.expectation(first.app)
}

/** Reads every rollup and event of `expected` from the API and lists the differences (empty: equal). */
export const differences = async (
  base: string,
  owner: string,
  token: string,
  expected: AppExpectation,
): Promise<Array<string>> => [
  ...(await compareOnce(base, [{ owner, readToken: token, expectation: expected }])).differences,
]

export const postBody = (base: string, secret: string, body: string) =>
  fetch(`${base}/logs`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`tally:${secret}`).toString("base64")}`,
      "content-type": "application/logplex-1",
      "logplex-frame-id": randomBytes(16).toString("hex"),
    },
    body,
  }).then((r) => r.status)
