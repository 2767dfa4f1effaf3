/** A drain POST against the real broker yields exactly the expected protobuf messages. */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { recordsOf } from "../../src/testing/Harness.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import { rawTopic } from "../../src/bus/Topics.ts"
import { MeasurementTypes } from "../../src/domain/MeasurementType.ts"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import { toRecord } from "../../src/ingress/Encode.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { baseUrl, createApp, fixtures, postDrain, retimed } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

const kafka = Bus.layerKafka({
  brokers: inject("kafkaBrokers"),
  clientId: "tally-test-ingress",
  logLevel: "NOTHING",
})

const decoders = {
  "DYNO_MEMORY.1": Wire.DynoMemory,
  "DYNO_LOAD.1": Wire.DynoLoad,
  "ROUTER_REQUESTS.1": Wire.RouterRequest,
  "ERRORS.1": Wire.ErrorCode,
  "PLATFORM_EVENTS.1": Wire.PlatformEvent,
} as const
type Decoded = { origin: { delivery: string } } & Record<string, unknown>
const decode = (topic: string, value: Uint8Array) => {
  const d = decoders[topic as keyof typeof decoders]
  const m = d.toObject(d.decode(value) as never, { defaults: true }) as Decoded
  return { ...m, origin: { ...m.origin, delivery: "" } }
}

layer(ingressStack(kafka), { excludeTestServices: true, timeout: "120 seconds" })(
  "ingress on the real broker",
  (it) => {
    it.effect(
      "every measurement of the fixtures lands on its topic and partition with its event time, exactly",
      () =>
        Effect.gen(function* () {
          const base = yield* baseUrl
          const bus = yield* Bus
          const drain = yield* Effect.promise(() => createApp(base, `kafka-${Date.now().toString(36)}`))
          const names = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as Record<
            string,
            unknown
          >
          const bodies = Object.keys(names)
            .filter((n) => !n.startsWith("_"))
            .map((n, i) => ({
              name: n,
              frameId: `${String(i).padStart(2, "0")}${"c".repeat(30)}`,
              ...retimed(n, Date.now() - 90_000),
            }))
          const expected: Array<{
            topic: string
            partition: number
            key: string
            timestamp: number
            value: Decoded
          }> = []
          for (const b of bodies) {
            const response = yield* Effect.promise(() =>
              postDrain(drain, b.body, { "logplex-frame-id": b.frameId, "logplex-drain-token": "d.k" }),
            )
            assert.strictEqual(response.status, 204, b.name)
            for (const m of parseBody(b.body).parser.measurements) {
              const r = toRecord(m, { owner: drain.owner, drain: "d.k", frameId: b.frameId, delivery: "" })
              expected.push({
                topic: r.topic,
                partition: partitionFor(r.key, 32),
                key: r.key,
                timestamp: r.timestamp,
                value: decode(r.topic, r.value),
              })
            }
          }
          assert.isAbove(expected.length, 10)
          const partitions = [...new Set(expected.map((e) => e.partition))]
          const got: Array<(typeof expected)[number]> = []
          yield* bus
            .consume({
              group: `test-ingress-${drain.owner}`,
              topics: MeasurementTypes.map((t) => rawTopic(t)),
              partitions,
            })
            .pipe(
              recordsOf,
              Stream.filter((r) => r.key.startsWith(drain.owner)),
              Stream.tap((r) =>
                Effect.sync(() =>
                  got.push({
                    topic: r.topic,
                    partition: r.partition,
                    key: r.key,
                    timestamp: r.timestamp,
                    value: decode(r.topic, r.value),
                  }),
                ),
              ),
              Stream.take(expected.length),
              Stream.runDrain,
              Effect.timeout("60 seconds"),
            )
          const order = (a: (typeof expected)[number], b: (typeof expected)[number]) =>
            JSON.stringify([a.topic, a.key, a.timestamp, a.value]).localeCompare(
              JSON.stringify([b.topic, b.key, b.timestamp, b.value]),
            )
          assert.deepStrictEqual(got.sort(order), expected.sort(order))
        }),
    )
  },
)
