/**
 * `tally retention run`: drops day schemas older than TALLY_RETENTION_DAYS on every shard, now. On
 * embedded parts it asks the server that holds the data dir (POST /api/v1/retention) when one does,
 * and opens the dir itself, under its lock, when none does (DataDir.ts).
 */
import { Console, Effect, Layer, Option } from "effect"
import { Command } from "effect/cli"
import { TallyConfig } from "../config/TallyConfig.ts"
import { runRetention } from "../sink/Retention.ts"
import { Shards } from "../store/Shards.ts"
import { SummaryStore } from "../store/SummaryStore.ts"
import { claim, DataDirError } from "./DataDir.ts"
import { postToServer } from "./RunningServer.ts"

const runHere = (retentionDays: number) =>
  runRetention(retentionDays).pipe(Effect.provide(SummaryStore.layer.pipe(Layer.provide(Shards.layer))))

const run = Command.make(
  "run",
  {},
  Effect.fn("retention.run")(function* () {
    const settings = yield* TallyConfig
    const dropped: ReadonlyArray<string> = Option.isSome(settings.pgShards)
      ? yield* runHere(settings.retentionDays)
      : yield* Effect.scoped(
          Effect.gen(function* () {
            const claimed = yield* claim(settings.dataDir, "retention run")
            if (claimed._tag === "Owned") return yield* runHere(settings.retentionDays)
            const answer = yield* postToServer(
              settings,
              claimed.owner,
              "run retention",
              "/api/v1/retention",
              {},
            )
            const list = answer.body.dropped
            if (answer.status === 200 && Array.isArray(list)) return list as ReadonlyArray<string>
            return yield* new DataDirError({
              reason: "Unusable",
              message: `the running tally (pid ${answer.owner.pid}) answered ${answer.status}: ${answer.body.message ?? ""}`,
            })
          }),
        )
    yield* Console.log(
      dropped.length === 0 ? "nothing to drop" : dropped.map((d) => `dropped ${d}`).join("\n"),
    )
  }),
).pipe(
  Command.withDescription(
    "drop day schemas older than TALLY_RETENTION_DAYS on every shard (DROP SCHEMA, never DELETE)",
  ),
)

export const retention = Command.make("retention").pipe(
  Command.withDescription("retention of the stored rollups"),
  Command.withSubcommands([run]),
)
