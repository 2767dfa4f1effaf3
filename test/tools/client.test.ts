/**
 * The drain client and the load behave as Logplex does: headers, the same Frame-Id on every retry,
 * three tries, 4xx dropped at once, Retry-After honoured (capped), a 5 s-style timeout retried; a full
 * drain buffer drops lines and reports exactly that many in an L10 frame; only 204s count in the oracle.
 */
import http from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import {
  type Body,
  DrainClient,
  drainTarget,
  Generator,
  makeFleet,
  Oracle,
  runLoad,
} from "../../tools/load/index.ts"

interface Seen {
  readonly headers: http.IncomingHttpHeaders
  readonly bytes: number
  readonly at: number
}

/** A drain that answers each request as `script(n)` says (n counts from 0). */
const scripted = async (
  script: (n: number, body: Buffer) => { status: number; headers?: Record<string, string>; delayMs?: number },
) => {
  const seen: Array<Seen> = []
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = Buffer.concat(chunks)
      const n = seen.length
      seen.push({ headers: req.headers, bytes: body.length, at: Date.now() })
      const answer = script(n, body)
      setTimeout(() => res.writeHead(answer.status, answer.headers).end(), answer.delayMs ?? 0)
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  servers.push(server)
  const port = (server.address() as AddressInfo).port
  return { seen, url: `http://tally:s3cret@127.0.0.1:${port}/logs` }
}

const servers: Array<http.Server> = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

const fleet = makeFleet({ apps: 2, seed: 4, shieldApps: 1 })
const body = (app = 0): Body => new Generator(fleet).body(app, Date.now(), 50)

describe("DrainClient", () => {
  it("sends Logplex's headers and the drain URL's basic auth; a 204 is delivered", async () => {
    const drain = await scripted(() => ({ status: 204 }))
    const client = new DrainClient()
    const b = body()
    const outcome = await client.deliver(drainTarget(drain.url, fleet.apps[0]!.drainToken, false), b)
    client.close()
    expect(outcome).toEqual({ delivered: true, tries: 1, retried: false })
    const h = drain.seen[0]!.headers
    expect(h["content-type"]).toBe("application/logplex-1")
    expect(h["logplex-msg-count"]).toBe(String(b.frames))
    expect(h["logplex-frame-id"]).toMatch(/^[0-9a-f]{32}$/)
    expect(h["logplex-drain-token"]).toBe(fleet.apps[0]!.drainToken)
    expect(h["logplex-drain-token"]).toMatch(/^d\.[0-9a-f-]{36}$/)
    expect(h["user-agent"]).toMatch(/^Logplex\//)
    expect(h.authorization).toBe(`Basic ${Buffer.from("tally:s3cret").toString("base64")}`)
    expect(drain.seen[0]!.bytes).toBe(b.bytes.length)
  })

  it("retries 5xx, 429 and timeouts with the same Frame-Id, three tries in all, then gives up", async () => {
    const drain = await scripted((n) =>
      n === 0 ? { status: 500 } : n === 1 ? { status: 429 } : { status: 204, delayMs: 600 },
    )
    const client = new DrainClient({ timeoutMs: 300 })
    const outcome = await client.deliver(drainTarget(drain.url, "d.x", false), body())
    client.close()
    expect(outcome).toEqual({ delivered: false, tries: 3, last: "timeout" })
    expect(drain.seen).toHaveLength(3)
    const ids = new Set(drain.seen.map((s) => s.headers["logplex-frame-id"]))
    expect(ids.size).toBe(1)
    expect(Object.fromEntries(client.statuses)).toEqual({ "500": 1, "429": 1, timeout: 1 })
  })

  it("a retry that gets its 204 is delivered; --tries bounds the tries", async () => {
    const drain = await scripted((n) => ({ status: n < 3 ? 503 : 204 }))
    const client = new DrainClient({ tries: 4 })
    const outcome = await client.deliver(drainTarget(drain.url, "d.x", false), body())
    client.close()
    expect(outcome).toEqual({ delivered: true, tries: 4, retried: true })
  })

  it("drops a body at once on a 4xx other than 429 (Logplex drops those for good)", async () => {
    const drain = await scripted(() => ({ status: 400 }))
    const client = new DrainClient()
    expect(await client.deliver(drainTarget(drain.url, "d.x", false), body())).toEqual({
      delivered: false,
      tries: 1,
      last: "400",
    })
    client.close()
    expect(drain.seen).toHaveLength(1)
  })

  it("waits what Retry-After says on a 503, capped", async () => {
    const drain = await scripted((n) =>
      n < 2 ? { status: 503, headers: { "retry-after": "30" } } : { status: 204 },
    )
    const client = new DrainClient({ retryAfterCapMs: 700 })
    const outcome = await client.deliver(drainTarget(drain.url, "d.x", false), body())
    client.close()
    expect(outcome.delivered).toBe(true)
    const gaps = [drain.seen[1]!.at - drain.seen[0]!.at, drain.seen[2]!.at - drain.seen[1]!.at]
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(650)
      expect(gap).toBeLessThan(5000)
    }
  })

  it("a Shield app sends neither Frame-Id nor Drain-Token, and old-form headers", async () => {
    const drain = await scripted(() => ({ status: 204 }))
    const client = new DrainClient()
    const b = body(1)
    await client.deliver(drainTarget(drain.url, fleet.apps[1]!.drainToken, true), b)
    client.close()
    expect(drain.seen[0]!.headers["logplex-frame-id"]).toBeUndefined()
    expect(drain.seen[0]!.headers["logplex-drain-token"]).toBeUndefined()
    expect(b.bytes.toString("latin1")).toMatch(/^\d+ <\d+>1 \S+ d\.[0-9a-f-]{36} \S+ \S+ - - /)
  })
})

describe("runLoad", () => {
  it("holds the offered rate; only 204s count; a body given up makes its rollups indeterminate", async () => {
    // Bodies whose Frame-Id starts with 0 fail every try (all tries carry the same Frame-Id).
    let acceptedFrames = 0
    const drain = await scripted((n) => {
      const h = drain.seen[n]!.headers
      if (String(h["logplex-frame-id"]).startsWith("0")) return { status: 500 }
      acceptedFrames += Number(h["logplex-msg-count"])
      return { status: 204 }
    })
    const f = makeFleet({ apps: 3, seed: 8 })
    const oracle = new Oracle(f)
    const targets = f.apps.map((a) => drainTarget(drain.url, a.drainToken, false))
    const report = await runLoad(new Generator(f, { l10Chance: 0 }), oracle, targets, {
      rate: 3000,
      seconds: 4,
      linesPerBody: 50,
      connections: 4,
    })
    expect(report.offeredLines).toBeGreaterThanOrEqual(11_900)
    expect(report.offeredLines).toBeLessThanOrEqual(12_100)
    expect(report.perSecond.slice(0, 4).every((s) => Math.abs(s.offered - 3000) < 100)).toBe(true)
    expect(report.sentLines).toBeGreaterThanOrEqual(report.offeredLines)
    expect(report.droppedBodies).toBeGreaterThan(0)
    expect(report.statuses["500"]).toBe(report.droppedBodies * 3)
    expect(report.acceptedBodies + report.droppedBodies).toBe(report.bodies)
    expect(report.acceptedLines).toBe(acceptedFrames)
    expect(f.apps.reduce((n, a) => n + oracle.lines(a.index), 0)).toBe(acceptedFrames)
    const x = f.apps.map((a) => oracle.expectation(a.index))
    expect(x.reduce((n, e) => n + e.indeterminate.size, 0)).toBeGreaterThan(0)
    for (const e of x) for (const k of e.indeterminate) expect(e.rollups.has(k)).toBe(false)
  })

  it("a drain whose buffer overflows drops lines and reports exactly that many in its next body's L10", async () => {
    const l10s: Array<number> = []
    const drain = await scripted((_n, b) => {
      for (const m of parseBody(b).parser.measurements)
        if (m.type === "ERRORS" && m.code === "L10") l10s.push(m.count)
      return { status: 204, delayMs: 400 }
    })
    const f = makeFleet({ apps: 2, seed: 10 })
    const oracle = new Oracle(f)
    const targets = f.apps.map((a) => drainTarget(drain.url, a.drainToken, false))
    const report = await runLoad(new Generator(f, { l10Chance: 0 }), oracle, targets, {
      rate: 8000,
      seconds: 3,
      linesPerBody: 200,
      connections: 2,
    })
    expect(report.overflowedLines).toBeGreaterThan(1000)
    const reported = l10s.reduce((a, b) => a + b, 0)
    expect(reported).toBe(report.overflowedLines)
    const fromOracle = f.apps
      .flatMap((a) => [...oracle.expectation(a.index).rollups.values()])
      .filter((r) => r.label === "L10")
      .reduce((a, r) => a + r.sum, 0)
    expect(fromOracle).toBe(reported)
  })
})
