/**
 * The admin token reads any app's metrics and events (what the dashboard's app picker needs, as remote
 * read and the alerts list already allow); an unknown app is still 404; /api/v1/me needs a read token.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SummaryStore } from "../../src/store/SummaryStore.ts"
import { ADMIN, baseUrl, createApp } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

const T = Date.UTC(2026, 10, 28, 12, 0, 0)
const get = (url: string, token: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  })

layer(ingressStack(), { excludeTestServices: true, timeout: "60 seconds" })("admin reads", (it) => {
  it.effect("the admin token reads every app's series and events; unknown apps 404; /me is 401", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const store = yield* SummaryStore
      const a = yield* Effect.promise(() => createApp(base, "admin-read-a"))
      const b = yield* Effect.promise(() => createApp(base, "admin-read-b"))
      for (const [app, sum] of [
        [a, 100],
        [b, 250],
      ] as const)
        yield* store.writeSummaries(store.shardOf(app.owner, "web"), "DYNO_MEMORY", "1m", [
          {
            owner: app.owner,
            processType: "web",
            metric: "memory_total",
            label: "",
            startMs: T,
            count: 1,
            sum,
            sumsq: sum * sum,
            min: sum,
            max: sum,
            sketch: new Uint8Array(),
            version: 1,
          },
        ])
      const range = "from=2026-11-28T12:00:00Z&to=2026-11-28T12:10:00Z"
      for (const [app, sum] of [
        [a, 100],
        [b, 250],
      ] as const) {
        const r = yield* get(
          `${base}/api/v1/apps/${app.owner}/metrics/memory_total?process_type=web&${range}`,
          ADMIN,
        )
        assert.strictEqual(r.status, 200)
        const series = r.body.series as Array<{ points: Array<{ sum: number }> }>
        assert.deepStrictEqual(
          series.map((s) => s.points.map((p) => p.sum)),
          [[sum]],
        )
        assert.strictEqual(
          (yield* get(`${base}/api/v1/apps/${app.owner}/events?${range}`, ADMIN)).status,
          200,
        )
      }
      const unknown = "00000000-0000-4000-8000-000000000000"
      const missing = yield* get(`${base}/api/v1/apps/${unknown}/metrics/memory_total?${range}`, ADMIN)
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.body.error, "not_found")
      const me = yield* get(`${base}/api/v1/me`, ADMIN)
      assert.strictEqual(me.status, 401)
      assert.match(String(me.body.message), /GET \/api\/v1\/apps/)
      // A read token still reads its own app only.
      assert.strictEqual(
        (yield* get(`${base}/api/v1/apps/${b.owner}/metrics/memory_total?${range}`, a.readToken)).status,
        404,
      )
    }),
  )
})
