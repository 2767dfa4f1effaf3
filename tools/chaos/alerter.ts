/**
 * The alerter in `npm run chaos` (issue 20), through the harness's extension hook (extensions.ts): two
 * alerter workers (TALLY_WORKERS=2, like the aggregators) under the supervisor, alert rules on the run's
 * apps with signed webhooks to a receiver in this process, and the fault `kill-alerter`: a fresh rule is
 * made to fire while its receiver refuses, and once the firing is written (pending, its delivery
 * refused) the alerter worker that owns it is SIGKILLed; the supervisor restarts it.
 *
 * Verdict: for every rule, the webhook notifications acknowledged (distinct X-Tally-Delivery ids) are
 * exactly the firing and resolved transitions on the app's timeline (kind "alert"), in order, one each;
 * every one signed with the rule's secret; nothing left undelivered. A repeat of an id (the receiver took
 * it, the alerter was killed before it heard the 2xx) is counted and reported, not a failure.
 */
import { createHmac } from "node:crypto"
import { createServer, type Server } from "node:http"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import type { LiveApp } from "../load/index.ts"
import type { ChaosExtension, ExtensionContext } from "./extensions.ts"
import type { Injected } from "./faults.ts"
import type { Fault } from "./schedule.ts"

const WORKERS = 2

interface Rule {
  readonly id: string
  readonly owner: string
  readonly name: string
  readonly secret: string
  readonly path: string
}

interface Arrival {
  readonly path: string
  readonly id: string
  readonly body: string
  readonly signature: string
}

/** The receiver and the rules of this run. */
class Receiver {
  readonly arrivals: Array<Arrival> = []
  /** Paths that answer 503 for now. */
  readonly refusing = new Set<string>()
  readonly rules: Array<Rule> = []
  private server: Server | undefined
  port = 0

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = ""
      req.setEncoding("utf8")
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        const path = req.url ?? ""
        if (this.refusing.has(path)) {
          res.statusCode = 503
          return res.end()
        }
        this.arrivals.push({
          path,
          id: String(req.headers["x-tally-delivery"] ?? ""),
          body,
          signature: String(req.headers["x-tally-signature"] ?? ""),
        })
        res.statusCode = 200
        res.end()
      })
    })
    this.server = server
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    this.port = (server.address() as { port: number }).port
  }

  stop(): void {
    this.server?.closeAllConnections()
    this.server?.close()
  }
}

const receiver = new Receiver()
let made = 0

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * One call of tally's API. Other faults kill or freeze the API's process at any time: a call that cannot
 * connect is tried again for up to a minute (a rule made twice that way is one more rule the verdict
 * watches like the others).
 */
const api = async (c: ExtensionContext, method: string, path: string, token: string, body?: unknown) => {
  const until = Date.now() + 60_000
  for (;;) {
    try {
      return await apiOnce(c, method, path, token, body)
    } catch (e) {
      if (Date.now() > until) throw e
      await sleep(1000)
    }
  }
}

const apiOnce = async (c: ExtensionContext, method: string, path: string, token: string, body?: unknown) => {
  const r = await fetch(`${c.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await r.text()
  return { status: r.status, body: (text === "" ? {} : JSON.parse(text)) as Record<string, unknown> }
}

/** A rule on `app` (router p95 of web at or above `threshold` for 1m), its webhook to the receiver. */
const makeRule = async (
  c: ExtensionContext,
  app: LiveApp,
  name: string,
  threshold: number,
): Promise<Rule> => {
  const path = `/hook/${++made}`
  const created = await api(c, "POST", `/api/v1/apps/${app.owner}/alerts`, c.adminToken, {
    name,
    metric: "router_p95_ms",
    processType: "web",
    threshold,
    for: "1m",
    repeat: "1d",
    minRequests: 1,
    webhook: `http://127.0.0.1:${receiver.port}${path}`,
  })
  if (created.status !== 201)
    throw new Error(`alert rule ${name}: ${created.status} ${JSON.stringify(created.body)}`)
  const rule = {
    id: String(created.body.id),
    owner: app.owner,
    name,
    secret: String(created.body.secret),
    path,
  }
  receiver.rules.push(rule)
  return rule
}

interface Listed {
  readonly id: string
  readonly state: string
  readonly pending: number
  readonly lastError?: string
}

const listed = async (c: ExtensionContext, owner: string) =>
  ((await api(c, "GET", `/api/v1/apps/${owner}/alerts`, c.adminToken)).body.alerts ?? []) as Array<Listed>

/** The alerter worker that owns an app's web rules. */
const workerOf = (owner: string) => partitionFor(`${owner}:web`, 32) % WORKERS

export const extension: ChaosExtension = {
  kind: "kill-alerter",
  stages: Array.from({ length: WORKERS }, (_, i) => ({
    name: `alerter-${i}`,
    args: ["alerter"],
    env: { TALLY_WORKERS: String(WORKERS), TALLY_WORKER_INDEX: String(i) },
  })),

  setup: async (c) => {
    await receiver.start()
    // On the first apps: one rule that fires once the load begins and resolves after it ends (any
    // request breaches), one in the middle of the latencies (fires and resolves as minutes go).
    for (const app of c.apps.slice(0, 3)) {
      await makeRule(c, app, "chaos-any", 0)
      await makeRule(c, app, "chaos-middle", 250)
    }
    c.say(`alert rules on ${Math.min(3, c.apps.length)} apps, webhooks to 127.0.0.1:${receiver.port}`)
  },

  inject: async (c, fault: Fault): Promise<Injected> => {
    const startMs = Date.now()
    const app = c.apps[made % c.apps.length]!
    const worker = `alerter-${workerOf(app.owner)}`
    const result: Injected = {
      fault,
      what: "SIGKILL the alerter between an alert's firing and its delivery",
      startMs,
      endMs: undefined,
      target: worker,
      detail: "",
      ok: false,
    }
    // A fresh rule that fires at the end of the next whole minute, its receiver refusing.
    const rule = await makeRule(c, app, `chaos-kill-${made + 1}`, 0)
    receiver.refusing.add(rule.path)
    try {
      const deadline = Date.now() + 4 * 60_000
      for (;;) {
        const mine = (await listed(c, app.owner).catch(() => [])).find((r) => r.id === rule.id)
        if (mine?.state === "firing" && mine.pending > 0 && (mine.lastError ?? "") !== "") break
        if (Date.now() > deadline) {
          result.detail = `rule ${rule.name} did not fire with its delivery refused within 4 minutes (last: ${JSON.stringify(mine)})`
          return result
        }
        await sleep(1000)
      }
      const signalled = c.supervisor.signal(worker, "SIGKILL")
      result.ok = signalled
      result.detail = signalled
        ? `${rule.name} of app ${app.owner} fired and its delivery was refused; ${worker} SIGKILLed before it was delivered`
        : `${worker} was down when ${rule.name} fired`
      return result
    } finally {
      await sleep(2000)
      receiver.refusing.delete(rule.path)
      result.endMs = Date.now()
    }
  },

  verify: async (c) => {
    const failures: Array<string> = []
    const lines: Array<string> = []
    // Let what is due be delivered: the load has ended, so every rule resolves within a few minutes.
    const deadline = Date.now() + 5 * 60_000
    const owners = [...new Set(receiver.rules.map((r) => r.owner))]
    for (;;) {
      const all = (await Promise.all(owners.map((o) => listed(c, o).catch(() => [])))).flat()
      const busy = all.filter((r) => r.pending > 0 || r.state !== "ok")
      if (busy.length === 0 || Date.now() > deadline) {
        for (const r of busy)
          failures.push(
            `alert rule ${r.id}: ${r.state} with ${r.pending} undelivered${r.lastError ? ` (${r.lastError})` : ""} at the end`,
          )
        break
      }
      await sleep(5000)
    }
    let notifications = 0
    let repeats = 0
    for (const owner of owners) {
      const app = c.apps.find((a) => a.owner === owner)!
      const from = new Date(Date.now() - 3 * 3600_000).toISOString().slice(0, 17)
      const to = new Date(Date.now() + 120_000).toISOString().slice(0, 17)
      const events = (
        (await api(c, "GET", `/api/v1/apps/${owner}/events?from=${from}00Z&to=${to}00Z`, app.readToken)).body
          .events as Array<{ kind: string; time: string; description: string }>
      ).filter((e) => e.kind === "alert")
      for (const rule of receiver.rules.filter((r) => r.owner === owner)) {
        const expected = events
          .filter(
            (e) =>
              e.description.startsWith(`${rule.name} firing:`) ||
              e.description.startsWith(`${rule.name} resolved:`),
          )
          .map((e) => `${e.description.startsWith(`${rule.name} firing:`) ? "firing" : "resolved"} ${e.time}`)
        const seen = new Map<string, Arrival>()
        for (const a of receiver.arrivals.filter((x) => x.path === rule.path)) {
          if (seen.has(a.id)) repeats++
          else seen.set(a.id, a)
          const want = `sha256=${createHmac("sha256", rule.secret).update(a.body).digest("hex")}`
          if (a.signature !== want)
            failures.push(`alert ${rule.name} of ${owner}: delivery ${a.id} badly signed`)
        }
        const got = [...seen.values()].map((a) => {
          const p = JSON.parse(a.body) as {
            status: string
            alerts: Array<{ startsAt: string; endsAt: string }>
          }
          return `${p.status} ${p.status === "firing" ? p.alerts[0]!.startsAt : p.alerts[0]!.endsAt}`
        })
        notifications += got.length
        if (JSON.stringify(got) !== JSON.stringify(expected))
          failures.push(
            `alert ${rule.name} of ${owner}: transitions ${JSON.stringify(expected)} but notifications ${JSON.stringify(got)}`,
          )
      }
    }
    lines.push(
      `alerts: ${receiver.rules.length} rules, ${notifications} notifications acknowledged (each transition once), ${repeats} repeats of an id (killed after the receiver's 2xx)`,
    )
    receiver.stop()
    return { failures, lines }
  },
}
