/**
 * The CI-sized chaos run on three Kafka nodes: `npm run chaos -- --brokers 3 --minutes 1.5 --seed 4` as a
 * child process (it starts `scripts/kafka.sh cluster` when it is not running, and stops it at the end
 * when it started it), topics with replication 3 and min.insync.replicas 2, and a schedule with these kinds
 * once each: SIGKILL of every stage, SIGTERM of the ingress, the Kafka node leading the most partitions
 * SIGKILLed (down, then started again), the node leading the probe partition SIGKILLed while a produce to
 * it is in flight (every acknowledged probe record read back afterwards), worker 0's holder frozen past its
 * session timeout and thawed, the network between worker 1 + the sink and the brokers slowed by 200 ms a
 * round trip then black-holed for 20 s, the same between every stage and shard 2. It must end exact (1m
 * and 15m rollups, poison and too-late lines counted, no dead letters) within 60 s of the last fault.
 */
import { afterAll, describe, it } from "vitest"
import { kindsFor } from "../../tools/chaos/schedule.ts"
import { expectExact, interruptChaos, runChaos } from "./support.ts"

const ELSEWHERE = [
  "shard-refuse",
  "shard-hang",
  "pg-restart",
  "catalogue-down",
  "kill-embedded",
  "disk-full",
] as const

afterAll(interruptChaos, 150_000)

describe("chaos harness, CI-sized, three Kafka nodes", () => {
  it("nodes SIGKILLed (one with a produce in flight), a stage frozen, slow and black-holed networks, every stage killed: exact", async () => {
    const run = await runChaos([
      "--brokers",
      "3",
      "--minutes",
      "1.5",
      "--seed",
      "4",
      "--rate",
      process.env.TALLY_CHAOS_CI_RATE ?? "10000",
      "--settle-seconds",
      "90",
      "--without",
      ELSEWHERE.join(","),
    ])
    expectExact(
      run,
      kindsFor(3, run.result?.extensions as never).filter(
        (k) => !(ELSEWHERE as ReadonlyArray<string>).includes(k),
      ),
    )
  }, 390_000)
})
