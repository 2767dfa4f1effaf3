/** `tally topics ensure` on the real broker: creates what is missing, reports what differs (exit 3). */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import kafkajs from "kafkajs"
import { afterAll, describe, expect, inject, it } from "vitest"
import { deleteTopics } from "../support/broker.ts"

const root = join(import.meta.dirname, "../..")
const brokers = inject("kafkaBrokers")
const ensure = (prefix: string) =>
  spawnSync(process.execPath, [join(root, "src/main.ts"), "topics", "ensure"], {
    env: { ...process.env, TALLY_KAFKA_BROKERS: brokers.join(","), TALLY_TOPIC_PREFIX: prefix },
    encoding: "utf8",
    timeout: 90_000,
  })

const clean = `c${Date.now().toString(36)}.`
const odd = `d${Date.now().toString(36)}.`
afterAll(async () => {
  await deleteTopics(brokers, clean)
  await deleteTopics(brokers, odd)
})

describe("tally topics ensure", () => {
  it("creates the 17 topics of the catalogue, then finds them all as they should be", () => {
    const first = ensure(clean)
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout.match(/^created /gm)?.length).toBe(17)
    expect(first.stdout).toContain(`created  ${clean}RETRY.ERRORS_SUMMARY.1`)
    expect(first.stdout).toContain(`created  ${clean}DEAD.ERRORS_SUMMARY.1`)
    const again = ensure(clean)
    expect(again.status).toBe(0)
    expect(again.stdout.match(/^exists /gm)?.length).toBe(17)
    expect(again.stdout).not.toContain("DIFFERS")
  }, 120_000)

  it("reports a topic whose settings differ and exits 3", async () => {
    const admin = new kafkajs.Kafka({
      clientId: "tally-test-topics",
      brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin()
    await admin.connect()
    await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic: `${odd}ERRORS.1`, numPartitions: 4, replicationFactor: 1 }],
    })
    await admin.disconnect()
    const run = ensure(odd)
    expect(run.status).toBe(3)
    expect(run.stdout.match(/^created /gm)?.length).toBe(16)
    // Made by hand with 4 partitions and the broker's default retention (7 days): two settings differ.
    expect(run.stdout).toContain(`DIFFERS  ${odd}ERRORS.1: partitions is 4, expected 32`)
    expect(run.stdout).toContain(`DIFFERS  ${odd}ERRORS.1: retention.ms is 604800000, expected 86400000`)
    expect(run.stdout.match(/^DIFFERS /gm)?.length).toBe(2)
    expect(run.stderr.trim().split("\n").at(-1)).toBe("tally: 2 topic settings differ from the catalogue")
  }, 120_000)
})
