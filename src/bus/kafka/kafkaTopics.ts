/**
 * `tally topics ensure` on Kafka: creates the catalogue's missing topics (racing other creators
 * safely) and reports existing ones whose partitions or settings differ from their spec.
 */
import { type Admin, ConfigResourceTypes } from "@platformatic/kafka"
import { Effect, Schedule } from "effect"
import { BusError, type EnsureReport, type TopicMismatch } from "../Records.ts"
import { compareSpecs, type TopicSpec } from "../Topics.ts"
import { call, retryBriefly, toBusError } from "./kafkaErrors.ts"

/** The Bus's ensureTopics over `admin`. */
export const ensureTopicsWith = (admin: Admin) => {
  /**
   * Waits until every partition of these new topics has a leader, as producers need. A busy broker
   * creating hundreds of partition logs answers "unknown topic" for a while after it acknowledged the
   * creation (seen for more than 10 s on a loaded 2-core machine): up to a minute is waited for.
   */
  const awaitLeaders = (topics: ReadonlyArray<string>) =>
    call("describe new topics", () => admin.metadata({ topics: [...topics], forceUpdate: true })).pipe(
      Effect.flatMap((m) =>
        topics.every((t) => {
          const topic = m.topics.get(t)
          return topic?.partitions.every((p) => p && p.leader >= 0) ?? false
        })
          ? Effect.void
          : Effect.fail(new BusError({ reason: "Unavailable", message: "new topics have no leaders yet" })),
      ),
      Effect.retry({
        schedule: Schedule.spaced("200 millis").pipe(Schedule.upTo({ duration: "60 seconds" })),
      }),
    )

  // Right after a creation, metadata and configs can lag: every failure here is transient.
  const transient = <A>(what: string, f: () => Promise<A>) =>
    Effect.tryPromise({
      try: f,
      catch: (e) => {
        const error = toBusError(what)(e)
        return new BusError({ reason: "Unavailable", message: error.message, cause: e })
      },
    })

  /** Creates one topic: true when created, false when it could not be for a reason a new attempt settles. */
  const create = (s: TopicSpec) =>
    Effect.tryPromise({
      try: () =>
        admin.createTopics({
          topics: [s.name],
          partitions: s.partitions,
          replicas: s.replicationFactor,
          configs: Object.entries(s.config).map(([name, value]) => ({ name, value })),
        }),
      catch: (e) => e,
    }).pipe(
      Effect.as(true),
      Effect.catch((e) => {
        const error = toBusError(`create topic ${s.name}`)(e)
        // Wrong settings are the caller's to fix; anything else (it already exists) re-runs the ensure.
        return error.reason === "Rejected" && !/TOPIC_ALREADY_EXISTS/.test(error.message)
          ? Effect.fail(error)
          : Effect.succeed(false)
      }),
    )

  /** The differences between existing topics and their specs. */
  const compare = Effect.fnUntraced(function* (specs: ReadonlyArray<TopicSpec>) {
    const mismatched: Array<TopicMismatch> = []
    if (specs.length === 0) return mismatched
    const metadata = yield* transient("describe topics", () =>
      admin.metadata({ topics: specs.map((s) => s.name), forceUpdate: true }),
    )
    const configs = yield* transient("describe configs", () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: specs.map((s) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: s.name,
          configurationKeys: Object.keys(s.config),
        })),
      }),
    )
    for (const spec of specs) {
      const partitions = metadata.topics.get(spec.name)?.partitionsCount ?? 0
      const entries = configs.find((r) => r.resourceName === spec.name)?.configs ?? []
      const config = Object.fromEntries(entries.map((e) => [e.name, e.value ?? undefined]))
      mismatched.push(...compareSpecs(spec, partitions, config))
    }
    return mismatched
  })

  /** One attempt; `created` collects what this ensure created across attempts (a retry sees them as existing). */
  const ensureOnce = Effect.fnUntraced(function* (specs: ReadonlyArray<TopicSpec>, created: Set<string>) {
    const existingNames = new Set(yield* transient("list topics", () => admin.listTopics()))
    const missing = specs.filter((s) => !existingNames.has(s.name))
    const present = specs.filter((s) => existingNames.has(s.name))
    // Creating races with other creators: a topic someone else made first fails its creation, and the
    // whole ensure runs again (topics listed again), through retryBriefly; the next attempt compares it.
    if (missing.length > 0) {
      const results = yield* Effect.forEach(missing, create, { concurrency: 8 })
      const made = missing.filter((_, i) => results[i])
      for (const s of made) created.add(s.name)
      if (made.length > 0) yield* awaitLeaders(made.map((s) => s.name))
      if (made.length < missing.length)
        return yield* new BusError({
          reason: "Unavailable",
          message: "create topics: some topics already existed",
        })
    }
    // What this ensure created is ours and matches; every other topic is compared.
    const mismatched = yield* compare(present.filter((s) => !created.has(s.name)))
    return {
      created: specs.filter((s) => created.has(s.name)).map((s) => s.name),
      existing: specs.filter((s) => !created.has(s.name)).map((s) => s.name),
      mismatched,
    } satisfies EnsureReport
  })

  return (specs: ReadonlyArray<TopicSpec>): Effect.Effect<EnsureReport, BusError> =>
    Effect.suspend(() => {
      const created = new Set<string>()
      return retryBriefly(ensureOnce(specs, created))
    })
}
