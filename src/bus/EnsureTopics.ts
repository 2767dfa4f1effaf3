/** At start, every process makes sure the catalogue's topics exist (idempotent) and warns on differences. */
import { Effect, Layer } from "effect"
import { TallyConfig } from "../config/TallyConfig.ts"
import { Bus } from "./Bus.ts"
import { catalogue, PARTITIONS } from "./Topics.ts"

export const EnsureTopics = Layer.effectDiscard(
  Effect.gen(function* () {
    const bus = yield* Bus
    const settings = yield* TallyConfig
    const report = yield* bus.ensureTopics(
      catalogue(settings.replicationFactor, PARTITIONS, settings.topicPrefix),
    )
    if (report.created.length > 0) yield* Effect.logInfo(`created topics: ${report.created.join(", ")}`)
    for (const m of report.mismatched)
      yield* Effect.logWarning(
        `topic ${m.topic}: ${m.setting} is ${m.actual}, the catalogue says ${m.expected}`,
      )
  }),
)
