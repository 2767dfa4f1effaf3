/** `tally topics ensure`: creates the catalogue's missing topics and reports the ones that differ. */
import { Console, Effect, Layer, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { Bus } from "../bus/Bus.ts"
import { catalogue, PARTITIONS } from "../bus/Topics.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { DataDir } from "./DataDir.ts"

export class TopicsDiffer extends Schema.TaggedError<TopicsDiffer>()("TopicsDiffer", {
  message: Schema.String,
}) {}

const ensure = Command.make(
  "ensure",
  {
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("print the report as JSON"),
      Flag.withDefault(false),
    ),
  },
  Effect.fn("topics.ensure")(
    function* ({ json }) {
      const settings = yield* TallyConfig
      if (Option.isNone(settings.kafkaBrokers))
        yield* Console.error(
          `TALLY_KAFKA_BROKERS is not set: checking the embedded log in ${settings.dataDir}`,
        )
      const bus = yield* Bus
      const report = yield* bus.ensureTopics(
        catalogue(settings.replicationFactor, PARTITIONS, settings.topicPrefix),
      )
      if (json) yield* Console.log(JSON.stringify(report, null, 2))
      else {
        for (const t of report.created) yield* Console.log(`created  ${t}`)
        for (const t of report.existing) yield* Console.log(`exists   ${t}`)
        for (const m of report.mismatched)
          yield* Console.log(`DIFFERS  ${m.topic}: ${m.setting} is ${m.actual}, expected ${m.expected}`)
      }
      // Reported above; a non-zero exit (3) tells scripts that something differs.
      if (report.mismatched.length > 0)
        return yield* new TopicsDiffer({
          message: `${report.mismatched.length} topic settings differ from the catalogue`,
        })
    },
    // The embedded log is opened only under the data dir's lock (a running tally all holds it: exit 2).
    Effect.provide(
      Bus.layer.pipe(Layer.provideMerge(DataDir.layer("topics ensure", { bus: true, store: false }))),
    ),
  ),
).pipe(Command.withDescription("create missing topics (32 partitions each) and report settings that differ"))

export const topics = Command.make("topics").pipe(
  Command.withDescription("manage the Kafka topics of the catalogue"),
  Command.withSubcommands([ensure]),
)
