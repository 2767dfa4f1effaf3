/** Broker stopped mid-traffic: 503s, never a 204 that is not durable, and traffic resumes after. */
import { assert, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { recordsOf } from "../../src/testing/Harness.ts"
import { broker } from "../support/broker.ts"
import { baseUrl, createApp, postDrain } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

const kafka = Bus.layerKafka({
  brokers: inject("kafkaBrokers"),
  clientId: "tally-test-outage",
  logLevel: "NOTHING",
})

layer(ingressStack(kafka), { excludeTestServices: true, timeout: "300 seconds" })(
  "ingress while the broker goes away",
  (it) => {
    it.effect(
      "requests get 503 while it is down, every 204 is durable, and traffic resumes after the restart",
      () =>
        Effect.gen(function* () {
          const base = yield* baseUrl
          const bus = yield* Bus
          const drain = yield* Effect.promise(() => createApp(base, `outage-${Date.now().toString(36)}`))
          const statuses = new Map<number, number>()
          let phase: "before" | "down" | "after" = "before"
          const seen: Record<string, Set<number>> = { before: new Set(), down: new Set(), after: new Set() }
          let n = 0
          const send = Effect.promise(async () => {
            const i = n++
            const line = `<45>1 ${new Date().toISOString()} host heroku web.1 - Error R14 (Memory quota exceeded) #${i}\n`
            const body = `${Buffer.byteLength(line)} ${line}`
            const started = Date.now()
            const response = await postDrain(drain, body, {
              "logplex-frame-id": `${String(i).padStart(32, "0")}`,
            })
            const took = Date.now() - started
            statuses.set(i, response.status)
            seen[phase]!.add(response.status)
            return took
          })
          const traffic = (ms: number, enough: () => boolean = () => false) =>
            Effect.promise(async () => {
              const until = Date.now() + ms
              const took: Array<number> = []
              while (Date.now() < until && !enough()) took.push(await Effect.runPromise(send))
              return took
            })
          const lastAreAcknowledged = (k: number) => () =>
            n >= k && [...Array(k).keys()].every((j) => statuses.get(n - 1 - j) === 204)
          yield* traffic(1500)
          yield* broker("stop")
          phase = "down"
          const downLatencies = yield* traffic(6000)
          yield* broker("start")
          phase = "after"
          // Keep sending until requests succeed again (the producer reconnects on its own).
          yield* traffic(60_000, lastAreAcknowledged(10))
          assert.deepStrictEqual([...seen.before!], [204])
          assert.isTrue(seen.down!.has(503), `statuses while down: ${[...seen.down!]}`)
          assert.isTrue([...seen.down!].every((s) => s === 503 || s === 204))
          assert.isBelow(Math.max(...downLatencies), 5000, "answered within Logplex's 5 s timeout")
          assert.isTrue(seen.after!.has(204))

          const acknowledged = [...statuses].filter(([, s]) => s === 204).map(([i]) => i)
          const partition = partitionFor(`${drain.owner}:web`, 32)
          const durable = new Set<number>()
          yield* bus
            .consume({ group: `test-outage-${drain.owner}`, topics: ["ERRORS.1"], partitions: [partition] })
            .pipe(
              recordsOf,
              Stream.filter((r) => r.key === `${drain.owner}:web`),
              Stream.map((r) => Number(Wire.ErrorCode.decode(r.value).origin.frameId)),
              Stream.takeUntil((i) => {
                durable.add(i)
                return acknowledged.every((a) => durable.has(a))
              }),
              Stream.runDrain,
              Effect.timeout("60 seconds"),
            )
          for (const i of acknowledged)
            assert.isTrue(durable.has(i), `request ${i} got 204 but is not in Kafka`)
        }),
      280_000,
    )
  },
)
