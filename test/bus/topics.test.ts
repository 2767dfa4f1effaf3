import { describe, expect, it } from "vitest"
import {
  catalogue,
  isCompacted,
  PARTITIONS,
  rawTopic,
  retryTopic,
  summaryTopic,
} from "../../src/bus/Topics.ts"

describe("topic catalogue", () => {
  const topics = catalogue(1)

  it("names every raw, summary, retry and dead-letter topic of DESIGN.md, 32 partitions each", () => {
    expect(topics.map((t) => t.name)).toEqual([
      "DYNO_MEMORY.1",
      "DYNO_LOAD.1",
      "ROUTER_REQUESTS.1",
      "ERRORS.1",
      "PLATFORM_EVENTS.1",
      "DYNO_MEMORY_SUMMARY.1",
      "DYNO_LOAD_SUMMARY.1",
      "ROUTER_REQUESTS_SUMMARY.1",
      "ERRORS_SUMMARY.1",
      "RETRY.DYNO_MEMORY_SUMMARY.1",
      "RETRY.DYNO_LOAD_SUMMARY.1",
      "RETRY.ROUTER_REQUESTS_SUMMARY.1",
      "RETRY.ERRORS_SUMMARY.1",
      "DEAD.DYNO_MEMORY_SUMMARY.1",
      "DEAD.DYNO_LOAD_SUMMARY.1",
      "DEAD.ROUTER_REQUESTS_SUMMARY.1",
      "DEAD.ERRORS_SUMMARY.1",
    ])
    expect(new Set(topics.map((t) => t.partitions))).toEqual(new Set([PARTITIONS]))
    expect([rawTopic("ERRORS"), summaryTopic("ERRORS"), retryTopic("ERRORS")]).toEqual([
      "ERRORS.1",
      "ERRORS_SUMMARY.1",
      "RETRY.ERRORS_SUMMARY.1",
    ])
  })

  it("every topic has a retention: raw 1 day, summaries compacted and deleted after 8 days, retry 14, dead 30", () => {
    const day = 24 * 3600 * 1000
    for (const t of topics) {
      const days = Number(t.config["retention.ms"]) / day
      if (t.name.startsWith("RETRY.")) expect([days, isCompacted(t)]).toEqual([14, false])
      else if (t.name.startsWith("DEAD.")) expect([days, isCompacted(t)]).toEqual([30, false])
      else if (t.name.endsWith("_SUMMARY.1")) {
        expect([days, isCompacted(t)]).toEqual([8, true])
        expect(t.config["cleanup.policy"]).toBe("compact,delete")
      } else expect([days, isCompacted(t)]).toEqual([1, false])
    }
  })

  it("asks for two in-sync replicas only where there are at least three", () => {
    expect(catalogue(1).every((t) => t.config["min.insync.replicas"] === undefined)).toBe(true)
    expect(
      catalogue(3).every((t) => t.config["min.insync.replicas"] === "2" && t.replicationFactor === 3),
    ).toBe(true)
  })
})
