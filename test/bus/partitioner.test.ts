import fc from "fast-check"
import kafkajs from "kafkajs"
import { describe, expect, it } from "vitest"
import { partitionFor, partitionKey, partitionsOfWorker } from "../../src/bus/Partitioner.ts"

// kafkajs's DefaultPartitioner is the Java client's murmur2 partitioner; ours must agree with it.
const javaCompatible = kafkajs.Partitioners.DefaultPartitioner()
const partitionMetadata = Array.from({ length: 32 }, (_, partitionId) => ({
  partitionId,
  leader: 1,
  replicas: [1],
  isr: [1],
  offlineReplicas: [],
  partitionErrorCode: 0,
}))
const kafkaPartition = (key: string) =>
  javaCompatible({ topic: "t", partitionMetadata, message: { key, value: null } })

describe("partitioner", () => {
  it("agrees with Kafka's murmur2 partitioner for any key", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), (key) => {
        expect(partitionFor(key, 32)).toBe(kafkaPartition(partitionKey(key)))
      }),
      { numRuns: 2000 },
    )
  })

  it("a summary key goes where its owner:process_type goes", () => {
    const owner = "8c5a1b8e-1f3b-4a57-9c1e-2f0d8b4f1a23"
    const raw = `${owner}:web`
    for (const summary of [
      `${raw}:router_status:200:1m:1764331200000`,
      `${raw}:memory_rss::15m:1764331200000`,
    ])
      expect(partitionFor(summary, 32)).toBe(partitionFor(raw, 32))
    expect(partitionKey(raw)).toBe(raw)
  })

  it("spreads one app's process types over partitions", () => {
    const owner = "8c5a1b8e-1f3b-4a57-9c1e-2f0d8b4f1a23"
    const used = new Set(
      ["web", "worker", "clock", "release", "router", "scheduler"].map((t) =>
        partitionFor(`${owner}:${t}`, 32),
      ),
    )
    expect(used.size).toBeGreaterThan(1)
  })

  it("worker i of N owns p mod N == i, and the workers cover every partition once", () => {
    for (const n of [1, 2, 3, 5, 32]) {
      const owned = Array.from({ length: n }, (_, i) => partitionsOfWorker(i, n, 32))
      owned.forEach((ps, i) => {
        for (const p of ps) expect(p % n).toBe(i)
      })
      expect(owned.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, p) => p))
    }
    expect(() => partitionsOfWorker(2, 2, 32)).toThrow(RangeError)
  })
})
