/**
 * SIGKILL of the alerter's process (`tally all`, embedded, a child process) between a transition and its
 * delivery: the firing was written (with its notification) while the webhook receiver was down; after the
 * kill and a restart on the same data dir the receiver gets it exactly once, signed, and the transition
 * is on the timeline once. Then the honest window: killed after the receiver took the resolve but before
 * tally heard its 2xx, the restarted tally sends it again with the same X-Tally-Delivery id, so a
 * receiver that keeps the ids it has seen counts it once.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { freePort, type Proc, stop, tally, waitHealthy } from "../e2e/support.ts"
import { ADMIN, createApp, type Drain, postDrain } from "../support/http.ts"
import { HttpReceiver, MINUTE, nextMinute, routerBody, signedBy, waitFor } from "./support.ts"

const dir = mkdtempSync(join(tmpdir(), "tally-alerts-kill-"))
const receiver = new HttpReceiver()
let proc: Proc | undefined

afterAll(async () => {
  if (proc) await stop(proc, "SIGKILL")
  await receiver.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Listed {
  readonly state: string
  readonly pending: number
  readonly lastError?: string
}

const rules = async (base: string, app: Drain): Promise<Array<Listed>> =>
  (
    (await (
      await fetch(`${base}/api/v1/apps/${app.owner}/alerts`, {
        headers: { authorization: `Bearer ${app.readToken}` },
      })
    ).json()) as { alerts: Array<Listed> }
  ).alerts

const alertEvents = async (base: string, app: Drain) =>
  (
    (await (
      await fetch(
        `${base}/api/v1/apps/${app.owner}/events?from=${new Date(Date.now() - 30 * MINUTE).toISOString().slice(0, 17)}00Z&to=${new Date(Date.now() + 10 * MINUTE).toISOString().slice(0, 17)}00Z`,
        { headers: { authorization: `Bearer ${app.readToken}` } },
      )
    ).json()) as { events: Array<{ kind: string; time: string; description: string }> }
  ).events
    .filter((e) => e.kind === "alert")
    .map((e) => `${e.time} ${e.description.split(":")[0]}`)

describe("SIGKILL of the alerter between a transition and its delivery", () => {
  it("delivered exactly once after the restart; an unacknowledged one sent again with the same id", async () => {
    const port = await freePort()
    const hookPort = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      TALLY_DATA_DIR: dir,
      TALLY_PORT: String(port),
      TALLY_ADMIN_TOKEN: ADMIN,
      TALLY_FLUSH_AFTER: "1s",
    }
    proc = tally(["all"], env)
    await waitHealthy(base, proc, 150_000)
    const app = await createApp(base, "kill-shop")
    // The receiver is down (nothing listens on its port yet).
    const created = await fetch(`${base}/api/v1/apps/${app.owner}/alerts`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "slow web",
        metric: "router_p95_ms",
        processType: "web",
        threshold: 500,
        for: "1m",
        webhook: `http://127.0.0.1:${hookPort}/hook`,
      }),
    })
    expect(created.status).toBe(201)
    const { secret } = (await created.json()) as { secret: string }

    const firing = await nextMinute(2000)
    // Slow lines every 10 s keep it firing until phase two (a minute without them would resolve it).
    // Stamped now: lines stamped ahead (tally counts them in their own minute, up to 2 minutes ahead)
    // piled up in the minutes to come, so that the fast minute of phase two still breached.
    // Posts while tally is down fail, and are not needed.
    let slow = true
    const feeding = (async () => {
      while (slow) {
        await postDrain(app, routerBody(30, 1500, 200, Date.now())).catch(() => undefined)
        await new Promise((r) => setTimeout(r, 10_000))
      }
    })()
    // Fired, written, tried and refused: the notification waits in the outbox.
    await waitFor(
      "the firing written and its delivery refused",
      () => rules(base, app),
      (r) => r[0]?.state === "firing" && r[0].pending === 1 && (r[0].lastError ?? "") !== "",
      150_000,
    )
    await stop(proc, "SIGKILL")
    await receiver.start(hookPort)
    proc = tally(["all"], env)
    await waitHealthy(base, proc, 150_000)
    const delivered = await waitFor(
      "the firing delivered after the restart",
      async () => [...receiver.byId().values()],
      (d) => d.length === 1,
      120_000,
    )
    expect(delivered[0]!.count).toBe(1)
    expect(signedBy(secret, delivered[0]!.first)).toBe(true)
    const payload = JSON.parse(delivered[0]!.first.body)
    expect(payload.status).toBe("firing")
    expect(payload.alerts[0].startsAt).toBe(new Date(firing + MINUTE).toISOString())
    await waitFor(
      "nothing pending",
      () => rules(base, app),
      (r) => r[0]?.pending === 0,
      30_000,
    )
    expect(await alertEvents(base, app)).toEqual([
      `${new Date(firing + MINUTE).toISOString()} slow web firing`,
    ])

    // The resolve: the receiver takes it and does not answer; tally is killed before it hears a 2xx.
    receiver.answer = () => 0
    slow = false
    await feeding
    // A minute of fast requests only (the slow ones stopped in the minute before): it resolves.
    await nextMinute(1000)
    expect((await postDrain(app, routerBody(1500, 40, 200, Date.now()))).status).toBe(204)
    const taken = await waitFor(
      "the resolve at the receiver",
      async () => receiver.received.map((r) => JSON.parse(r.body).status as string),
      (s) => s.includes("resolved"),
      150_000,
    )
    expect(taken).toEqual(["firing", "resolved"])
    await stop(proc, "SIGKILL")
    receiver.answer = () => 200
    proc = tally(["all"], env)
    await waitHealthy(base, proc, 150_000)
    await waitFor(
      "the resolve sent again",
      async () => receiver.received.length,
      (n) => n >= 3,
      120_000,
    )
    await waitFor(
      "nothing pending",
      () => rules(base, app),
      (r) => r[0]?.pending === 0,
      30_000,
    )
    const byId = [...receiver.byId().values()]
    // Two notifications: the firing once, the resolve twice under one id (the receiver counts it once).
    expect(byId.map((d) => [JSON.parse(d.first.body).status, d.count])).toEqual([
      ["firing", 1],
      ["resolved", 2],
    ])
    expect(receiver.received.every((r) => signedBy(secret, r))).toBe(true)
    const resolvedAt = JSON.parse(byId[1]!.first.body).alerts[0].endsAt as string
    expect(await alertEvents(base, app)).toEqual([
      `${new Date(firing + MINUTE).toISOString()} slow web firing`,
      `${resolvedAt} slow web resolved`,
    ])
  }, 900_000)
})
