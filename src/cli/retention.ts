/** `tally retention run`: drops day schemas older than TALLY_RETENTION_DAYS on every shard, now. */
import { Console, Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { TallyConfig } from "../config/TallyConfig.ts"
import { runRetention } from "../sink/Retention.ts"
import { Shards } from "../store/Shards.ts"
import { SummaryStore } from "../store/SummaryStore.ts"

const run = Command.make(
  "run",
  {},
  Effect.fn("retention.run")(
    function* () {
      const settings = yield* TallyConfig
      const dropped = yield* runRetention(settings.retentionDays)
      yield* Console.log(
        dropped.length === 0 ? "nothing to drop" : dropped.map((d) => `dropped ${d}`).join("\n"),
      )
    },
    Effect.provide(SummaryStore.layer.pipe(Layer.provide(Shards.layer))),
  ),
).pipe(
  Command.withDescription(
    "drop day schemas older than TALLY_RETENTION_DAYS on every shard (DROP SCHEMA, never DELETE)",
  ),
)

export const retention = Command.make("retention").pipe(
  Command.withDescription("retention of the stored rollups"),
  Command.withSubcommands([run]),
)
