/**
 * Retention: whole day schemas older than TALLY_RETENTION_DAYS are dropped on every shard (DROP SCHEMA
 * ... CASCADE, never DELETE), and the schemas of today and tomorrow are created ahead of midnight. The
 * catalogue forgets the process types unseen for that long (the rows of app_process_types).
 */
import { Clock, Effect, Metric } from "effect"
import { DAY_MS } from "../domain/Time.ts"
import { dayOf } from "../store/Schema.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import * as M from "./SinkMetrics.ts"

export const runRetention = Effect.fn("Retention.run")(function* (retentionDays: number) {
  const store = yield* SummaryStore
  const now = yield* Clock.currentTimeMillis
  const cut = dayOf(now - retentionDays * DAY_MS)
  const dropped: Array<string> = []
  for (let shard = 0; shard < store.shardCount; shard++) {
    yield* store.ensureDays(shard, [now, now + DAY_MS])
    const names = yield* store.dropDaysBefore(shard, cut)
    for (const name of names) dropped.push(`shard ${shard}: ${name}`)
    yield* Metric.update(M.retention, names.length)
  }
  // Process types unseen since a day before the oldest day kept have no rows left: they stop counting
  // against their app's TALLY_MAX_PROCESS_TYPES (the ingress reads its apps' process types again hourly).
  const unseen = yield* store.dropProcessTypesUnseenSince(cut - DAY_MS)
  if (unseen > 0)
    yield* Effect.logInfo(
      `retention removed ${unseen} process type(s) unseen since ${new Date(cut - DAY_MS).toISOString()}`,
    )
  return dropped
})
