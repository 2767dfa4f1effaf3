/**
 * Stops and starts the project's own Kafka broker (scripts/kafka.sh), for outage tests. Asynchronous:
 * the servers under test live in this process, and a blocked event loop would distort what they do.
 */
import { execFile } from "node:child_process"
import { Effect } from "effect"
import { inject } from "vitest"

export const broker = (command: "stop" | "start") =>
  Effect.promise(
    () =>
      new Promise<void>((resolve, reject) => {
        if (process.env.TALLY_KAFKA_BROKERS)
          return reject(
            new Error(
              "outage tests stop and start the project's broker: unset TALLY_KAFKA_BROKERS to run them",
            ),
          )
        execFile("bash", [inject("kafkaScript"), command], (error, _stdout, stderr) => {
          process.stderr.write(stderr)
          if (error) reject(error)
          else resolve()
        })
      }),
  )

/** Deletes the catalogue's topics of a prefix (tests on the real broker clean up after themselves). */
export const deleteTopics = async (brokers: ReadonlyArray<string>, prefix: string) => {
  const { Admin } = await import("@platformatic/kafka")
  const { catalogue } = await import("../../src/bus/Topics.ts")
  const admin = new Admin({ clientId: "tally-test-cleanup", bootstrapBrokers: [...brokers] })
  const mine = new Set(catalogue(1, 32, prefix).map((t) => t.name))
  try {
    const topics = (await admin.listTopics()).filter((t) => mine.has(t))
    if (topics.length > 0) await admin.deleteTopics({ topics })
  } catch {
    // Cleanup is best effort: the next test setup prunes what is left.
  } finally {
    await admin.close().catch(() => undefined)
  }
}

/**
 * The three-node cluster (scripts/kafka.sh cluster), for the tests of three brokers: `start` starts the
 * nodes that do not run (all of them, or node N) and says whether it started any; `kill` SIGKILLs node N.
 */
export const clusterScript = (...args: ReadonlyArray<string>) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      "bash",
      [inject("kafkaScript"), "cluster", ...args],
      { timeout: 180_000 },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` }),
    )
  })

export const CLUSTER_BROKERS = ["127.0.0.1:19092", "127.0.0.1:19093", "127.0.0.1:19094"]
