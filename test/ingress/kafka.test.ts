/**
 * Drain POSTs against the real broker yield exactly the expected records: every topic of a fresh prefix
 * is read to its end offsets, and what is there equals, record for record, what the fixtures' own
 * expectations (expected.json, written from the bodies by the fixture authors, not by tally's parser)
 * say, re-timed like the bodies, on the partition Kafka's Java client would choose.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import kafkajs from "kafkajs"
import { afterAll, inject } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { rawTopic } from "../../src/bus/Topics.ts"
import { MeasurementTypes } from "../../src/domain/MeasurementType.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { recordsOf } from "../../src/testing/Harness.ts"
import { deleteTopics } from "../support/broker.ts"
import { baseUrl, createApp, fixtures, postDrain, retimed } from "../support/http.ts"
import { expand, typeOfTopic } from "../support/raw.ts"
import { ingressStack } from "../support/stack.ts"

const brokers = inject("kafkaBrokers")
const prefix = `ik${Date.now().toString(36)}.`
afterAll(() => deleteTopics(brokers, prefix))

const kafka = Bus.layerKafka({ brokers, clientId: "tally-test-ingress", logLevel: "NOTHING" })

// The partition oracle: kafkajs's DefaultPartitioner is the Java client's murmur2 partitioner.
const javaPartitioner = kafkajs.Partitioners.DefaultPartitioner()
const partitionMetadata = Array.from({ length: 32 }, (_, partitionId) => ({
  partitionId,
  leader: 1,
  replicas: [1],
  isr: [1],
  offlineReplicas: [],
  partitionErrorCode: 0,
}))
const javaPartition = (key: string) =>
  javaPartitioner({ topic: "t", partitionMetadata, message: { key, value: null } })

/** expected.json's entries: a measurement (with `type`) or a platform event. */
type Expected = Record<string, string | number | undefined>
interface Fixture {
  readonly measurements: ReadonlyArray<Expected>
  readonly events: ReadonlyArray<Expected>
}

/** An ISO time with up to 6 fraction digits, shifted by whole seconds, in microseconds. */
const micros = (iso: string, shiftMs: number) => {
  const [, seconds, fraction = ""] = /^(.*?:\d\d)(?:\.(\d+))?Z$/.exec(iso)!
  return (Date.parse(`${seconds}Z`) + shiftMs) * 1000 + Number(fraction.padEnd(6, "0"))
}

const KINDS: Record<string, number> = {
  state: Wire.EventKind.EVENT_KIND_STATE,
  crash: Wire.EventKind.EVENT_KIND_CRASH,
  restart: Wire.EventKind.EVENT_KIND_RESTART,
  scale: Wire.EventKind.EVENT_KIND_SCALE,
  release: Wire.EventKind.EVENT_KIND_RELEASE,
  deploy: Wire.EventKind.EVENT_KIND_DEPLOY,
  config: Wire.EventKind.EVENT_KIND_CONFIG,
}

/** The fields a record is compared on: where it is, its origin, and what the fixture says of its value. */
interface Seen {
  readonly topic: string
  readonly partition: number
  readonly key: string
  readonly timestamp: number
  readonly origin: Record<string, unknown>
  readonly value: Record<string, unknown>
}

/** What one fixture's expectations say the records are, for a drain body re-timed by `shiftMs`. */
const expectedRecords = (fixture: Fixture, owner: string, frameId: string, shiftMs: number): Array<Seen> => {
  const at = (processType: string, type: string, time: string, dyno?: string | number) => {
    const timeUs = micros(time, shiftMs)
    const key = `${owner}:${processType}`
    return {
      topic: `${prefix}${type}.1`,
      partition: javaPartition(key),
      key,
      // The ingest clock (checked apart: within the POSTs' time), not the event time (which is in the Origin).
      timestamp: 0,
      origin: {
        owner,
        processType,
        timeUs,
        drain: "d.k",
        frameId,
        ...(dyno === undefined ? {} : { dyno }),
      },
    }
  }
  const measurements = fixture.measurements.map((m): Seen => {
    const type = String(m.type)
    const where = at(
      String(m.process_type),
      type,
      String(m.time),
      type === "ERRORS" ? undefined : (m.dyno ?? ""),
    )
    switch (type) {
      case "ROUTER_REQUESTS":
        return {
          ...where,
          value: {
            method: m.method,
            status: m.status,
            connectMs: m.connect_ms ?? null,
            serviceMs: m.service_ms ?? null,
            bytes: m.bytes ?? null,
            code: m.code ?? "",
          },
        }
      case "ERRORS":
        return { ...where, value: { code: m.code, count: m.dropped ?? 1 } }
      case "DYNO_MEMORY":
        return {
          ...where,
          value: Object.fromEntries(
            ["total", "rss", "cache", "swap", "pgpgin", "pgpgout", "quota"].map((f) => [
              `memory${f[0]!.toUpperCase()}${f.slice(1)}`,
              m[`memory_${f}`],
            ]),
          ),
        }
      case "DYNO_LOAD":
        return {
          ...where,
          value: { loadAvg_1m: m.load_avg_1m, loadAvg_5m: m.load_avg_5m, loadAvg_15m: m.load_avg_15m },
        }
      default:
        throw new Error(`expected.json names a type this test does not know: ${type}`)
    }
  })
  // A dyno's event belongs to its process type (web.1 -> web), the platform API's to "api".
  const events = fixture.events.map(
    (e): Seen => ({
      ...at(String(e.process).split(".")[0]!, "PLATFORM_EVENTS", String(e.time)),
      value: {
        kind: KINDS[String(e.kind)],
        process: e.process,
        description: e.description,
        actor: e.actor ?? "",
      },
    }),
  )
  return [...measurements, ...events]
}

/** The same fields of each measurement of a record read back from the broker (a record holds a delivery's of its key). */
const seen = (
  r: { topic: string; partition: number; key: string; timestamp: number; value: Uint8Array },
  dyno: boolean,
): Array<Seen> => {
  const type = r.topic.slice(prefix.length, -".1".length)
  const place = { topic: r.topic, partition: r.partition, key: r.key, timestamp: r.timestamp }
  const originOf = (o: Wire.Origin) => ({
    owner: o.owner,
    processType: o.processType,
    timeUs: Number(o.timeUs),
    drain: o.drain,
    frameId: o.frameId,
    ...(dyno ? { dyno: o.dyno } : {}),
  })
  switch (type) {
    case "ROUTER_REQUESTS":
      return expand("ROUTER_REQUESTS", r.value).map((m) => ({
        ...place,
        origin: originOf(m.origin as Wire.Origin),
        value: {
          method: m.method,
          status: m.status,
          connectMs: m.connectMs ?? null,
          serviceMs: m.serviceMs ?? null,
          bytes: m.bytes == null ? null : Number(m.bytes),
          code: m.code,
        },
      }))
    case "ERRORS":
      return expand("ERRORS", r.value).map((m) => ({
        ...place,
        origin: originOf(m.origin as Wire.Origin),
        value: { code: m.code, count: Number(m.count) },
      }))
    case "DYNO_MEMORY":
      return expand("DYNO_MEMORY", r.value).map((m) => {
        const { memoryTotal, memoryRss, memoryCache, memorySwap, memoryPgpgin, memoryPgpgout, memoryQuota } =
          m
        return {
          ...place,
          origin: originOf(m.origin as Wire.Origin),
          value: {
            memoryTotal,
            memoryRss,
            memoryCache,
            memorySwap,
            memoryPgpgin,
            memoryPgpgout,
            memoryQuota,
          },
        }
      })
    case "DYNO_LOAD":
      return expand("DYNO_LOAD", r.value).map((m) => ({
        ...place,
        origin: originOf(m.origin as Wire.Origin),
        value: { loadAvg_1m: m.loadAvg_1m, loadAvg_5m: m.loadAvg_5m, loadAvg_15m: m.loadAvg_15m },
      }))
    case "PLATFORM_EVENTS":
      return expand("PLATFORM_EVENTS", r.value).map((m) => ({
        ...place,
        origin: originOf(m.origin as Wire.Origin),
        value: { kind: m.kind, process: m.process, description: m.description, actor: m.actor },
      }))
    default:
      throw new Error(`a record on an unexpected topic: ${r.topic}`)
  }
}

const canonical = (s: Seen) => JSON.stringify(s)

layer(ingressStack(kafka, { topicPrefix: prefix }), { excludeTestServices: true, timeout: "120 seconds" })(
  "ingress on the real broker",
  (it) => {
    it.effect(
      "every topic read to its end holds exactly the fixtures' expected records, on their partitions",
      () =>
        Effect.gen(function* () {
          const base = yield* baseUrl
          const bus = yield* Bus
          const drain = yield* Effect.promise(() => createApp(base, "kafka-fixtures"))
          const expectations = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as Record<
            string,
            Fixture
          >
          const expected: Array<Seen> = []
          const postedFrom = Date.now()
          for (const [i, name] of Object.keys(expectations)
            .filter((n) => !n.startsWith("_"))
            .entries()) {
            const frameId = `${String(i).padStart(2, "0")}${"c".repeat(30)}`
            const { body, shiftMs } = retimed(name, Date.now() - 90_000)
            const response = yield* Effect.promise(() =>
              postDrain(drain, body, { "logplex-frame-id": frameId, "logplex-drain-token": "d.k" }),
            )
            assert.strictEqual(response.status, 204, name)
            expected.push(...expectedRecords(expectations[name]!, drain.owner, frameId, shiftMs))
          }
          assert.isAbove(expected.length, 10)
          const postedTo = Date.now()

          // Everything acknowledged is in; read every partition of every raw topic up to its end offset.
          const topics = MeasurementTypes.map((t) => rawTopic(t, prefix))
          const ends = yield* bus.endOffsets(topics)
          const remaining = new Map(
            ends.filter((e) => e.offset > 0).map((e) => [`${e.topic}/${e.partition}`, e.offset]),
          )
          const got: Array<{
            topic: string
            partition: number
            key: string
            timestamp: number
            value: Uint8Array
          }> = []
          yield* bus
            .consume({
              group: `${prefix}test-ingress`,
              topics,
              partitions: Array.from({ length: 32 }, (_, p) => p),
            })
            .pipe(
              recordsOf,
              Stream.takeUntil((r) => {
                got.push(r)
                const where = `${r.topic}/${r.partition}`
                if (r.offset + 1 >= (remaining.get(where) ?? 0)) remaining.delete(where)
                return remaining.size === 0
              }),
              Stream.runDrain,
              Effect.timeout("60 seconds"),
            )
          // The fixtures name a dyno for router, memory and load lines only; errors and events are compared without it.
          const actual = got.flatMap((r) =>
            seen(
              { ...r, timestamp: r.timestamp >= postedFrom && r.timestamp <= postedTo ? 0 : r.timestamp },
              !/ERRORS|PLATFORM_EVENTS/.test(r.topic),
            ),
          )
          assert.strictEqual(actual.length, expected.length, "measurements on the topics, all of them read")
          // One record per delivery and key: no two records of one delivery share their topic and key.
          const records = got.map(
            (r) => `${r.topic}|${r.key}|${expand(typeOfTopic(r.topic), r.value)[0]!.origin!.frameId}`,
          )
          assert.strictEqual(new Set(records).size, records.length, "one record per delivery, type and key")
          assert.deepStrictEqual(actual.map(canonical).sort(), expected.map(canonical).sort())
        }),
    )
  },
)
