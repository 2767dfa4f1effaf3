/** What the sink tests produce: summary records as the aggregator writes them. */
import { summaryTopic } from "../../src/bus/Topics.ts"
import * as Wire from "../../src/proto/Wire.ts"

/**
 * One round of `owners`' web memory_rss series for minute `m` (minutes after `baseMs`), at version `v`:
 * count v, sum 100v, sumsq 10,000v, min 100, max 100 + v.
 */
export const memoryRound =
  (prefix: string, owners: ReadonlyArray<string>, baseMs: number) => (m: number, v: number) =>
    owners.map((owner) => ({
      topic: summaryTopic("DYNO_MEMORY", prefix),
      key: `${owner}:web:memory_rss::1m:${baseMs + m * 60_000}`,
      timestamp: baseMs + m * 60_000,
      value: Wire.Summary.encode({
        owner,
        processType: "web",
        metric: "memory_rss",
        label: "",
        period: Wire.Period.PERIOD_1M,
        startMs: baseMs + m * 60_000,
        count: v,
        sum: v * 100,
        sumsq: v * 10_000,
        min: 100,
        max: 100 + v,
        sketch: new Uint8Array(),
        version: v,
      }).finish(),
    }))
