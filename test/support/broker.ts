/** Stops and starts the project's own Kafka broker (scripts/kafka.sh), for outage tests. */
import { execFileSync } from "node:child_process"
import { Effect } from "effect"
import { inject } from "vitest"

export const broker = (command: "stop" | "start") =>
  Effect.sync(() => {
    if (process.env.TALLY_KAFKA_BROKERS)
      throw new Error(
        "outage tests stop and start the project's broker: unset TALLY_KAFKA_BROKERS to run them",
      )
    execFileSync("bash", [inject("kafkaScript"), command], { stdio: ["ignore", "inherit", "inherit"] })
  })
