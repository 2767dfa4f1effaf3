/**
 * Alerts end to end against the real thing: `tally all` (embedded, its own process) pushing to a real
 * Alertmanager (Debian's 0.25, started here) and to a signed webhook receiver (a server in this test),
 * the rule made, listed and deleted with `tally alerts` from the shell (through the running server).
 * Drain lines whose p95 crosses the threshold fire the rule: Alertmanager shows the alert with the
 * documented labels and annotations (and the same fingerprint the webhook payload carries); fast lines
 * the next minute resolve it there and at the webhook; both transitions are on the app's timeline.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, type Proc, stop, tally, waitHealthy } from "../e2e/support.ts"
import { type Alertmanager, type ManagedAlert, startAlertmanager } from "../support/alertmanager.ts"
import { ADMIN, createApp, postDrain } from "../support/http.ts"
import {
  HttpReceiver,
  MINUTE,
  nextMinute,
  routerBody,
  runTally,
  signedBy,
  untilClock,
  waitFor,
} from "./support.ts"

let am: Alertmanager
const receiver = new HttpReceiver()
const dir = mkdtempSync(join(tmpdir(), "tally-alerts-am-"))
let proc: Proc | undefined

beforeAll(async () => {
  am = await startAlertmanager()
  await receiver.start()
})

afterAll(async () => {
  if (proc) await stop(proc, "SIGKILL")
  await receiver.stop()
  await am?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const ours = (alerts: Array<ManagedAlert>, owner: string) => alerts.filter((a) => a.labels.owner === owner)

describe("alerts against a real Alertmanager", () => {
  it("fires and resolves in Alertmanager and at a signed webhook; tally alerts create|list|delete", async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      TALLY_DATA_DIR: dir,
      TALLY_PORT: String(port),
      TALLY_ADMIN_TOKEN: ADMIN,
      TALLY_FLUSH_AFTER: "1s",
      TALLY_ALERTMANAGER_URL: am.url,
    }
    proc = tally(["all"], env)
    await waitHealthy(base, proc, 150_000)
    const app = await createApp(base, "am-shop")

    const created = await runTally(
      [
        "alerts",
        "create",
        app.owner,
        "--name",
        "slow web",
        "--metric",
        "router_p95_ms",
        "--process-type",
        "web",
        "--threshold",
        "500",
        "--for",
        "1m",
        "--webhook",
        `http://127.0.0.1:${receiver.port}/hook`,
        "--json",
      ],
      env,
    )
    expect(created.code, created.stderr).toBe(0)
    const rule = JSON.parse(created.stdout) as { id: string; secret: string; state: string }
    expect(rule.state).toBe("ok")
    const listed = await runTally(["alerts", "list", app.owner], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain(`${rule.id}  slow web: ok since`)

    // The rule judges the whole minutes after its creation: slow lines in the next one.
    const firing = await nextMinute(2000)
    // Two bodies 10 s apart in the minute, each sent once the clock has reached its lines' stamp.
    for (const offset of [0, 10_000]) {
      await untilClock(firing + 2000 + offset)
      const r = await postDrain(app, routerBody(30, 1500, 200, firing + 2000 + offset))
      expect(r.status).toBe(204)
    }
    const labels = {
      alertname: "slow web",
      app: "am-shop",
      owner: app.owner,
      process_type: "web",
      metric: "router_p95_ms",
    }
    const [alert] = await waitFor(
      "the alert in Alertmanager",
      async () => ours(await am.alerts(), app.owner),
      (a) => a.length > 0,
      150_000,
    )
    expect(alert!.labels).toEqual(labels)
    expect(Object.keys(alert!.annotations).sort()).toEqual(["summary", "threshold", "value"])
    expect(alert!.annotations.threshold).toBe("500")
    expect(Number(alert!.annotations.value)).toBeCloseTo(1500, -2)
    expect(alert!.annotations.summary).toMatch(/^slow web: router_p95_ms of web is 1[45]\d\d(\.\d+)? ms/)
    expect(alert!.startsAt).toBe(new Date(firing + MINUTE).toISOString())
    expect(Date.parse(alert!.endsAt)).toBeGreaterThan(Date.now())
    expect(alert!.generatorURL).toContain(`owner=${app.owner}`)
    expect(alert!.status.state).toBe("active")

    const fired = await waitFor(
      "the firing at the webhook",
      async () => [...receiver.byId().values()],
      (d) => d.length >= 1,
      60_000,
    )
    const hook = JSON.parse(fired[0]!.first.body)
    expect(signedBy(rule.secret, fired[0]!.first)).toBe(true)
    expect(hook).toMatchObject({ version: "4", status: "firing", commonLabels: labels })
    // The same alert: Alertmanager's fingerprint of the labels is the one tally computed.
    expect(hook.alerts[0].fingerprint).toBe(alert!.fingerprint)

    // Fast lines the minute after: resolved at its end.
    const resolving = firing + MINUTE
    await new Promise((r) => setTimeout(r, Math.max(0, resolving + 2000 - Date.now())))
    expect((await postDrain(app, routerBody(30, 40, 200, Date.now()))).status).toBe(204)
    const both = await waitFor(
      "the resolve at the webhook",
      async () => [...receiver.byId().values()].map((d) => JSON.parse(d.first.body).status as string),
      (s) => s.includes("resolved"),
      150_000,
    )
    expect(both).toEqual(["firing", "resolved"])
    const resolved = [...receiver.byId().values()][1]!
    expect(signedBy(rule.secret, resolved.first)).toBe(true)
    expect(JSON.parse(resolved.first.body).alerts[0].endsAt).toBe(new Date(resolving + MINUTE).toISOString())
    // Alertmanager: the alert ended at the resolve time (no longer active).
    await waitFor(
      "the alert resolved in Alertmanager",
      async () => ours(await am.alerts(), app.owner),
      (a) => a.every((x) => x.status.state !== "active" || Date.parse(x.endsAt) <= resolving + MINUTE),
      30_000,
    )
    // Each notification arrived once.
    expect([...receiver.byId().values()].map((d) => d.count)).toEqual([1, 1])

    const events = (await (
      await fetch(
        `${base}/api/v1/apps/${app.owner}/events?from=${new Date(firing - MINUTE).toISOString()}&to=${new Date(resolving + 3 * MINUTE).toISOString()}`,
        { headers: { authorization: `Bearer ${app.readToken}` } },
      )
    ).json()) as { events: Array<{ kind: string; time: string; description: string }> }
    expect(
      events.events.filter((e) => e.kind === "alert").map((e) => [e.time, e.description.split(":")[0]]),
    ).toEqual([
      [new Date(firing + MINUTE).toISOString(), "slow web firing"],
      [new Date(resolving + MINUTE).toISOString(), "slow web resolved"],
    ])

    const deleted = await runTally(["alerts", "delete", app.owner, rule.id], env)
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(deleted.stdout).toContain(`deleted alert rule ${rule.id}`)
    const left = await fetch(`${base}/api/v1/apps/${app.owner}/alerts`, {
      headers: { authorization: `Bearer ${app.readToken}` },
    })
    expect(await left.json()).toEqual({ alerts: [] })
  }, 600_000)
})
