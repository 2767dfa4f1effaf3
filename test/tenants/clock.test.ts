/**
 * One app's clock cannot move another's lateness (DESIGN.md "Tenants"): an attacker's line stamped 110 s
 * ahead of the ingest clock, on a process type whose record key shares the victim's raw partition, used
 * to push that partition's stream time forward, so the victim's line of 4.5 minutes ago (within the
 * 5 minutes of lateness) was acknowledged and then dropped as late. Against a real `tally all`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import { PARTITIONS } from "../../src/bus/Topics.ts"
import {
  type App,
  frame,
  metricValue,
  postDrain,
  readMetric,
  routerLine,
  type Server,
  startTally,
} from "./support.ts"

let server: Server
let attacker: App
let victim: App

beforeAll(async () => {
  server = await startTally()
  attacker = await server.createApp("clock-attacker")
  victim = await server.createApp("clock-victim")
}, 180_000)

afterAll(async () => {
  expect(await server.stop()).toBe(0)
})

describe("tenants: event time", () => {
  it("a line stamped ahead of the ingest clock neither counts as late nor makes another app's line late", async () => {
    // A process type of the attacker whose key hashes to the victim's web partition.
    const target = partitionFor(`${victim.owner}:web`, PARTITIONS)
    let processType = ""
    for (let i = 0; processType === ""; i++)
      if (partitionFor(`${attacker.owner}:p${i}`, PARTITIONS) === target) processType = `p${i}`

    const now = Date.now()
    const ahead = await postDrain(
      server,
      attacker,
      frame([routerLine(now + 110_000, 200, 20, `${processType}.1`)]),
    )
    expect(ahead.status).toBe(204)
    const lateMs = now - 4.5 * 60_000
    const late = await postDrain(server, victim, frame([routerLine(lateMs, 200, 20, "web.1")]))
    expect(late.status).toBe(204)

    const minute = new Date(lateMs - (lateMs % 60_000)).toISOString()
    const deadline = Date.now() + 45_000
    let points: Array<{ time: string; count: number }> = []
    while (Date.now() < deadline) {
      const read = await readMetric(server, victim, "router_status", { process_type: "web" })
      points = read.body?.series?.[0]?.points ?? []
      if (points.some((p) => p.time === minute)) break
      await new Promise((r) => setTimeout(r, 500))
    }
    expect(points.find((p) => p.time === minute)?.count).toBe(1)
    // And the attacker's own line counts, in its own (future) minute.
    const aheadMs = now + 110_000
    const aheadMinute = new Date(aheadMs - (aheadMs % 60_000)).toISOString()
    const until = Date.now() + 45_000
    let mine: Array<{ time: string; count: number }> = []
    while (Date.now() < until) {
      const from = new Date(aheadMs - (aheadMs % 60_000) - 60_000).toISOString()
      const to = new Date(aheadMs - (aheadMs % 60_000) + 120_000).toISOString()
      const read = await readMetric(server, attacker, "router_status", {
        process_type: processType,
        from,
        to,
      })
      mine = read.body?.series?.[0]?.points ?? []
      if (mine.some((p) => p.time === aheadMinute)) break
      await new Promise((r) => setTimeout(r, 500))
    }
    expect(mine.find((p) => p.time === aheadMinute)?.count).toBe(1)
    expect(await metricValue(server, "tally_aggregator_late_dropped_total")).toBe(0)
  }, 120_000)
})
