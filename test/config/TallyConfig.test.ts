import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Option, Redacted } from "effect"
import { loadSettings } from "../../src/config/TallyConfig.ts"

const load = (env: Record<string, string>) =>
  loadSettings.pipe(Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })))

describe("TallyConfig", () => {
  it.effect("defaults: embedded parts, port 8080, flushAfter 10 s, one worker, 7 days", () =>
    Effect.gen(function* () {
      const s = yield* load({})
      assert.isTrue(Option.isNone(s.kafkaBrokers))
      assert.isTrue(Option.isNone(s.pgShards))
      assert.strictEqual(s.port, 8080)
      assert.strictEqual(s.dataDir, "./.tally")
      assert.strictEqual(Duration.toMillis(s.flushAfter), 10_000)
      assert.deepStrictEqual(
        [s.workerIndex, s.workers, s.retentionDays, s.maxBodyBytes],
        [0, 1, 7, 1024 * 1024],
      )
    }),
  )

  it.effect("reads every variable", () =>
    Effect.gen(function* () {
      const s = yield* load({
        TALLY_KAFKA_BROKERS: "127.0.0.1:9092, 127.0.0.1:9093",
        TALLY_PG_SHARDS: "postgres://a/s0,postgresql://a/s1",
        TALLY_PORT: "9000",
        TALLY_ADMIN_TOKEN: "0123456789abcdef0123",
        TALLY_FLUSH_AFTER: "1s",
        TALLY_WORKERS: "4",
        TALLY_WORKER_INDEX: "3",
        TALLY_LOG_LEVEL: "debug",
      })
      assert.deepStrictEqual(Option.getOrThrow(s.kafkaBrokers), ["127.0.0.1:9092", "127.0.0.1:9093"])
      assert.deepStrictEqual(Option.getOrThrow(s.pgShards), ["postgres://a/s0", "postgresql://a/s1"])
      assert.strictEqual(s.port, 9000)
      assert.strictEqual(Redacted.value(Option.getOrThrow(s.adminToken)), "0123456789abcdef0123")
      assert.strictEqual(Duration.toMillis(s.flushAfter), 1000)
      assert.deepStrictEqual([s.workerIndex, s.workers, s.logLevel], [3, 4, "Debug"])
    }),
  )

  it.effect.each([
    [
      { TALLY_FLUSH_AFTER: "fast" },
      'TALLY_FLUSH_AFTER expects a duration such as 500ms, 10s or 2m; got "fast"',
    ],
    [{ TALLY_PORT: "70000" }, 'TALLY_PORT expects a TCP port (1-65535); got "70000"'],
    [
      { TALLY_WORKERS: "2", TALLY_WORKER_INDEX: "2" },
      'TALLY_WORKER_INDEX expects an integer in [0, TALLY_WORKERS); got "2"',
    ],
    [
      { TALLY_PG_SHARDS: "mysql://x" },
      'TALLY_PG_SHARDS expects comma-separated postgres:// URLs; got "mysql://x"',
    ],
    [
      { TALLY_ADMIN_TOKEN: "short" },
      'TALLY_ADMIN_TOKEN expects a token of at least 16 characters; got "(5 characters, not shown)"',
    ],
  ] as const)("a bad value fails with one line naming the variable: %j", ([env, line]) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load(env))
      assert.strictEqual(error.message, line)
      assert.notInclude(error.message, "\n")
    }),
  )
})
