/**
 * The alert rules API over HTTP (on PGlite): 400 naming the field for every bad field, defaults, the
 * secret shown once, tenancy (another app's read token 404, a bad token 401, read tokens cannot create
 * or delete), listing with state for a read token and the admin, delete, 409 on a duplicate name,
 * webhooks pointing at tally's own API refused.
 */
import { createServer } from "node:http"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ADMIN, baseUrl, createApp } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown>
}

const call = (method: string, url: string, token: string | undefined, body?: unknown) =>
  Effect.promise(async (): Promise<Answer> => {
    const response = await fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await response.text()
    return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) }
  })

const rule = {
  name: "slow web",
  metric: "router_p95_ms",
  processType: "web",
  threshold: 500,
  for: "5m",
}

layer(ingressStack(), { excludeTestServices: true, timeout: "90 seconds" })("alert rules API", (it) => {
  it.effect("create: defaults, the secret once, 201; list with state; delete 204 then 404", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const app = yield* Effect.promise(() => createApp(base, "alerts-crud"))
      const url = `${base}/api/v1/apps/${app.owner}/alerts`
      const created = yield* call("POST", url, ADMIN, {
        ...rule,
        webhook: "https://hooks.example.com/x?token=s3cret",
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      const id = created.body.id as string
      assert.match(id, /^[0-9a-f-]{36}$/)
      assert.match(created.body.secret as string, /^tly_w_[A-Za-z0-9_-]{32}$/)
      assert.deepInclude(created.body, {
        ...rule,
        repeat: "1h",
        minRequests: 10,
        unit: "ms",
        state: "ok",
        value: null,
        webhook: "https://hooks.example.com/x?token=s3cret",
      })

      const byReader = yield* call("GET", url, app.readToken)
      assert.strictEqual(byReader.status, 200)
      const listed = (byReader.body.alerts as Array<Record<string, unknown>>)[0]!
      assert.deepStrictEqual(listed, {
        id,
        ...rule,
        repeat: "1h",
        minRequests: 10,
        unit: "ms",
        state: "ok",
        since: created.body.since,
        value: null,
        // Only the origin: the path and query may hold the receiver's own secret.
        webhook: "https://hooks.example.com",
        pending: 0,
        abandoned: 0,
      })
      assert.notProperty(listed, "secret")
      const byAdmin = yield* call("GET", url, ADMIN)
      assert.deepStrictEqual(byAdmin.body, byReader.body)

      assert.strictEqual((yield* call("DELETE", `${url}/${id}`, ADMIN)).status, 204)
      assert.deepStrictEqual((yield* call("GET", url, app.readToken)).body, { alerts: [] })
      assert.strictEqual((yield* call("DELETE", `${url}/${id}`, ADMIN)).status, 404)
    }),
  )

  it.effect("a bad field gets 400 naming it", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const app = yield* Effect.promise(() => createApp(base, "alerts-bad"))
      const url = `${base}/api/v1/apps/${app.owner}/alerts`
      const cases: ReadonlyArray<[string, Record<string, unknown>]> = [
        ["for", { ...rule, for: "2m" }],
        ["for", { ...rule, for: undefined }],
        ["metric", { ...rule, metric: "router_p99_ms" }],
        ["threshold", { ...rule, threshold: "high" }],
        ["threshold", { ...rule, threshold: -1 }],
        ["repeat", { ...rule, repeat: "1m" }],
        ["minRequests", { ...rule, minRequests: 1.5 }],
        ["processType", { ...rule, processType: "web.1" }],
        ["name", { ...rule, name: "" }],
        ["webhook", { ...rule, webhook: "ftp://example.com/x" }],
        ["webhook", { ...rule, webhook: "not a url" }],
        ["webhook", { ...rule, webhook: `${base}/api/v1/apps` }],
        ["webhook", { ...rule, webhook: "http://localhost:1/api/v1/retention" }],
        ["webhook", { ...rule, webhook: "http://[::1]:9/API/../api/v1/apps" }],
      ]
      for (const [field, body] of cases) {
        const answer = yield* call("POST", url, ADMIN, body)
        assert.strictEqual(answer.status, 400, `${field}: ${JSON.stringify(answer.body)}`)
        assert.match(answer.body.message as string, new RegExp(`^${field}: `), JSON.stringify(body))
      }
      // Nothing was created.
      assert.deepStrictEqual((yield* call("GET", url, ADMIN)).body, { alerts: [] })
    }),
  )

  it.effect("tenancy: read tokens list their own app only and cannot create or delete; 401 without", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const a = yield* Effect.promise(() => createApp(base, "alerts-a"))
      const b = yield* Effect.promise(() => createApp(base, "alerts-b"))
      const urlA = `${base}/api/v1/apps/${a.owner}/alerts`
      const created = yield* call("POST", urlA, ADMIN, rule)
      assert.strictEqual(created.status, 201)
      assert.strictEqual((yield* call("GET", urlA, b.readToken)).status, 404)
      assert.strictEqual((yield* call("GET", urlA, "tly_r_not-a-token")).status, 401)
      assert.strictEqual((yield* call("GET", urlA, undefined)).status, 401)
      assert.strictEqual((yield* call("POST", urlA, a.readToken, rule)).status, 401)
      assert.strictEqual((yield* call("DELETE", `${urlA}/${created.body.id}`, a.readToken)).status, 401)
      // Another app's rule id under this app: 404, and the rule stays.
      assert.strictEqual(
        (yield* call("DELETE", `${base}/api/v1/apps/${b.owner}/alerts/${created.body.id}`, ADMIN)).status,
        404,
      )
      assert.strictEqual(((yield* call("GET", urlA, a.readToken)).body.alerts as Array<unknown>).length, 1)
      // Unknown apps: 404 for the admin too.
      const nobody = "00000000-0000-4000-8000-000000000000"
      assert.strictEqual((yield* call("GET", `${base}/api/v1/apps/${nobody}/alerts`, ADMIN)).status, 404)
      assert.strictEqual(
        (yield* call("POST", `${base}/api/v1/apps/${nobody}/alerts`, ADMIN, rule)).status,
        404,
      )
      assert.strictEqual((yield* call("GET", `${base}/api/v1/apps/not-a-uuid/alerts`, ADMIN)).status, 404)
      // A second rule of the same name: 409.
      assert.strictEqual((yield* call("POST", urlA, ADMIN, rule)).status, 409)
    }),
  )

  it.effect("a webhook on this machine at another port and path is accepted", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const app = yield* Effect.promise(() => createApp(base, "alerts-local"))
      const receiver = createServer((_, res) => res.end())
      yield* Effect.promise(() => new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r)))
      const port = (receiver.address() as { port: number }).port
      const answer = yield* call("POST", `${base}/api/v1/apps/${app.owner}/alerts`, ADMIN, {
        ...rule,
        webhook: `http://127.0.0.1:${port}/hook`,
      })
      receiver.close()
      assert.strictEqual(answer.status, 201, JSON.stringify(answer.body))
    }),
  )
})
