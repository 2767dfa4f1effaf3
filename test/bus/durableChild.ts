/**
 * The child of durable.test.ts's SIGKILL test: appends drain-sized batches from 8 concurrent producers to
 * the durable log in argv[2] and prints `acked <batch>` the moment each append succeeds (stdout on a pipe
 * is synchronous on Linux, so a printed ack was made before any kill). Runs until killed.
 */
import { Effect } from "effect"
import { DurableLog } from "../../src/bus/embedded/DurableLog.ts"

const dir = process.argv[2]!
const encoder = new TextEncoder()
const value = new Uint8Array(200).fill(42)

await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const log = yield* DurableLog.open(dir)
      log.createTopic({
        name: "raw",
        partitions: 4,
        replicationFactor: 1,
        config: { "cleanup.policy": "delete" },
      })
      let batch = 0
      const producer = Effect.gen(function* () {
        for (;;) {
          const id = batch++
          const records = Array.from({ length: 140 }, (_, i) => ({
            topic: "raw",
            key: `app-${(id * 7 + i) % 50}:web`,
            value: Uint8Array.of(...encoder.encode(`${id}/${i}|`), ...value),
            timestamp: Date.now(),
          }))
          yield* log.append(records)
          process.stdout.write(`acked ${id}\n`)
        }
      })
      yield* Effect.all(
        Array.from({ length: 8 }, () => producer),
        { concurrency: "unbounded" },
      )
    }),
  ),
)
