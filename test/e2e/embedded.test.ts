/**
 * End to end, embedded mode (what `npm start` runs), through HTTP only: drain bodies in, API numbers out,
 * equal to an oracle computed from the bodies; a SIGTERM exits 0 and a restart keeps the stored rollups.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ADMIN } from "../support/http.ts"
import {
  differences,
  fleetBodies,
  freePort,
  oracleFromBodies,
  postBody,
  stop,
  tally,
  waitHealthy,
} from "./support.ts"

describe("end to end: embedded mode over HTTP", () => {
  it("drains in, the API's numbers equal the oracle; SIGTERM exits 0; a restart keeps the rollups", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tally-e2e-embedded-"))
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      TALLY_DATA_DIR: dataDir,
      TALLY_PORT: String(port),
      TALLY_FLUSH_AFTER: "1s",
      TALLY_ADMIN_TOKEN: ADMIN,
    }
    let proc = tally(["all"], env)
    await waitHealthy(base, proc)
    const created = await fetch(`${base}/api/v1/apps`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "e2e-embedded" }),
    })
    expect(created.status).toBe(201)
    const app = (await created.json()) as { owner: string; drainUrl: string; readToken: string }
    const secret = new URL(app.drainUrl).password
    const bodies = fleetBodies(1, 30)
    for (const b of bodies) expect(await postBody(base, secret, b.body)).toBe(204)
    const expected = oracleFromBodies(bodies)
    expect(expected.rollups.size).toBeGreaterThan(50)

    let diffs: Array<string> = []
    for (let i = 0; i < 120; i++) {
      diffs = await differences(base, app.owner, app.readToken, expected)
      if (diffs.length === 0) break
      await new Promise((r) => setTimeout(r, 500))
    }
    expect(diffs.slice(0, 10)).toEqual([])
    expect(await stop(proc)).toBe(0)

    proc = tally(["all"], env)
    await waitHealthy(base, proc)
    expect((await differences(base, app.owner, app.readToken, expected)).slice(0, 10)).toEqual([])
    expect(await stop(proc)).toBe(0)
  }, 180_000)
})
