/** The read API over HTTP: the contract's shape, auth (401 / 404 for another app), 400s with reasons. */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SummaryStore } from "../../src/store/SummaryStore.ts"
import { baseUrl, createApp } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const get = (url: string, token?: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {})
    return {
      status: response.status,
      body: (await response.json().catch(() => null)) as Record<string, unknown>,
    }
  })

layer(ingressStack(), { excludeTestServices: true, timeout: "60 seconds" })("read API over HTTP", (it) => {
  it.effect("series and events in the contract's shape; another app's token gets 404, a bad one 401", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const store = yield* SummaryStore
      const a = yield* Effect.promise(() => createApp(base, "reader-a"))
      const b = yield* Effect.promise(() => createApp(base, "reader-b"))
      const shard = store.shardOf(a.owner, "web")
      yield* store.writeSummaries(shard, "DYNO_MEMORY", "1m", [
        {
          owner: a.owner,
          processType: "web",
          metric: "memory_rss",
          label: "",
          startMs: T,
          count: 2,
          sum: 300,
          sumsq: 50_000,
          min: 100,
          max: 200,
          sketch: new Uint8Array(),
          version: 2,
        },
        {
          owner: a.owner,
          processType: "web",
          metric: "memory_rss",
          label: "",
          startMs: T + 60_000,
          count: 1,
          sum: 120,
          sumsq: 14_400,
          min: 120,
          max: 120,
          sketch: new Uint8Array(),
          version: 1,
        },
      ])
      yield* store.writeEvents(shard, [
        {
          owner: a.owner,
          timeMs: T + 30_000,
          kind: "deploy",
          process: "api",
          description: "Deploy 1a2b3c4",
          actor: "ada@example.com",
        },
      ])
      yield* store.noteProcessTypes([{ owner: a.owner, processType: "web" }])
      const url = `${base}/api/v1/apps/${a.owner}/metrics/memory_rss?process_type=web&from=2026-11-28T12:00:00Z&to=2026-11-28T12:10:00Z&step=5m`
      const ok = yield* get(url, a.readToken)
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(ok.body, {
        owner: a.owner,
        metric: "memory_rss",
        processType: "web",
        step: "5m",
        from: "2026-11-28T12:00:00.000Z",
        to: "2026-11-28T12:10:00.000Z",
        unit: "MB",
        missing: [],
        series: [
          {
            label: "",
            points: [
              {
                time: "2026-11-28T12:00:00.000Z",
                count: 3,
                sum: 420,
                sumsq: 64_400,
                min: 100,
                max: 200,
                mean: 140,
                stddev: Math.sqrt(64_400 / 3 - 140 * 140),
              },
            ],
          },
        ],
      })
      const events = yield* get(
        `${base}/api/v1/apps/${a.owner}/events?from=2026-11-28T11:00:00Z&to=2026-11-28T13:00:00Z`,
        a.readToken,
      )
      assert.deepStrictEqual(events.body?.events, [
        {
          time: "2026-11-28T12:00:30.000Z",
          kind: "deploy",
          process: "api",
          description: "Deploy 1a2b3c4",
          actor: "ada@example.com",
        },
      ])
      assert.strictEqual((yield* get(url, b.readToken)).status, 404, "another app's token")
      assert.strictEqual(
        (yield* get(url.replace(a.owner, "00000000-0000-4000-8000-000000000000"), a.readToken)).status,
        404,
        "unknown app",
      )
      assert.strictEqual((yield* get(url, "tly_r_not-a-token")).status, 401)
      assert.strictEqual((yield* get(url)).status, 401)
      const me = yield* get(`${base}/api/v1/me`, a.readToken)
      assert.deepStrictEqual(me.body, { owner: a.owner, name: "reader-a", processTypes: ["web"] })
    }),
  )

  it.effect("malformed queries get 400 with a reason; unknown metrics (also `constructor`) 404", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const a = yield* Effect.promise(() => createApp(base, "reader-c"))
      const q = (query: string) =>
        get(`${base}/api/v1/apps/${a.owner}/metrics/memory_rss?${query}`, a.readToken)
      const cases: Array<[string, RegExp]> = [
        ["from=yesterday&to=2026-11-28T12:00:00Z", /from must be an ISO 8601 instant/],
        ["from=2026-11-28T12:00:00Z&to=2026-11-28T11:00:00Z", /from must be before to/],
        ["from=2026-10-01T00:00:00Z&to=2026-11-28T00:00:00Z&step=1h", /at most 31 days/],
        ["from=2026-11-28T12:00:00Z&to=2026-11-28T13:00:00Z&step=7m", /step must be one of/],
        ["from=2026-11-28T12:00:00Z&to=2026-11-28T13:00:00Z&process_type=web;drop", /process_type/],
      ]
      for (const [query, reason] of cases) {
        const r = yield* q(query)
        assert.strictEqual(r.status, 400, query)
        assert.match(String(r.body?.message), reason, query)
      }
      // Unknown metrics are 404, also names every JavaScript object has (never a 500 or a table named undefined_1m).
      for (const metric of ["no_such_metric", "constructor", "__proto__", "toString", "hasOwnProperty"]) {
        const r = yield* get(
          `${base}/api/v1/apps/${a.owner}/metrics/${metric}?from=2026-11-28T12:00:00Z&to=2026-11-28T13:00:00Z`,
          a.readToken,
        )
        assert.strictEqual(r.status, 404, metric)
        assert.strictEqual(r.body?.error, "not_found", metric)
        assert.match(String(r.body?.message), new RegExp(`^no metric ${metric}; known: memory_total`), metric)
      }
      // Without `from`: the 2 hours before `to` (test/api/errors.test.ts covers the defaults).
      const missingFrom = yield* q("to=2026-11-28T13:00:00Z")
      assert.strictEqual(missingFrom.status, 200)
      assert.strictEqual(missingFrom.body?.from, "2026-11-28T11:00:00.000Z")
    }),
  )
})
