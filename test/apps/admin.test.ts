/**
 * The admin endpoints over HTTP (issue 25): GET /api/v1/apps lists apps, GET /api/v1/apps/{owner} shows
 * one, /api/v1/me names the token's app, rotation endpoints issue new credentials and revoke the old
 * ones, DELETE removes an app; all admin-only, errors in the {error, message} shape.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ADMIN, baseUrl, createApp } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

const call = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const r = await fetch(url, init)
    const text = await r.text()
    return { status: r.status, body: (text === "" ? {} : JSON.parse(text)) as Record<string, unknown> }
  })

const admin = { authorization: `Bearer ${ADMIN}` }
const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`
const body = () =>
  frame(
    `<158>1 ${new Date().toISOString()} host heroku router - at=info method=GET path=/ host=h.example.com request_id=r-1 fwd="1.2.3.4" dyno=web.1 connect=1ms service=12ms status=200 bytes=42 protocol=https\n`,
  )
const basic = (secret: string) => `Basic ${Buffer.from(`tally:${secret}`).toString("base64")}`
const post = (url: string, secret: string) =>
  Effect.promise(() =>
    fetch(url, {
      method: "POST",
      headers: { authorization: basic(secret), "content-type": "application/logplex-1" },
      body: body(),
    }).then((r) => r.status),
  )

layer(ingressStack(), { excludeTestServices: true, timeout: "60 seconds" })("admin endpoints", (it) => {
  it.effect("list, show, me with the name; rotate both credentials; delete", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const a = yield* Effect.promise(() => createApp(base, "admin-b"))
      const b = yield* Effect.promise(() => createApp(base, "admin-a"))
      const secretA = Buffer.from(a.authorization.slice(6), "base64").toString().split(":")[1]!

      const list = yield* call(`${base}/api/v1/apps`, { headers: admin })
      assert.strictEqual(list.status, 200)
      const apps = (list.body.apps as Array<{ owner: string; name: string; createdAt: string }>).filter((x) =>
        x.name.startsWith("admin-"),
      )
      assert.deepStrictEqual(
        apps.map((x) => [x.name, x.owner]),
        [
          ["admin-a", b.owner],
          ["admin-b", a.owner],
        ],
      )
      assert.isFalse(Number.isNaN(Date.parse(apps[0]!.createdAt)))
      assert.notInclude(JSON.stringify(list.body), a.readToken)
      // Admin only: a read token is not enough.
      const asReader = yield* call(`${base}/api/v1/apps`, {
        headers: { authorization: `Bearer ${a.readToken}` },
      })
      assert.strictEqual(asReader.status, 401)
      assert.strictEqual(asReader.body.error, "unauthorized")

      assert.strictEqual(yield* post(a.url, secretA), 204)
      const show = yield* call(`${base}/api/v1/apps/${a.owner}`, { headers: admin })
      assert.strictEqual(show.status, 200)
      assert.deepStrictEqual(
        { ...show.body, createdAt: "" },
        { owner: a.owner, name: "admin-b", createdAt: "", processTypes: ["web"] },
      )
      const me = yield* call(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${a.readToken}` } })
      assert.deepStrictEqual(me.body, { owner: a.owner, name: "admin-b", processTypes: ["web"] })

      // A new read token: the old one is refused at once, the new one reads.
      const rotated = yield* call(`${base}/api/v1/apps/${a.owner}/read-token`, {
        method: "POST",
        headers: admin,
      })
      assert.strictEqual(rotated.status, 201)
      assert.strictEqual(rotated.body.name, "admin-b")
      const token = String(rotated.body.readToken)
      assert.match(token, /^tly_r_/)
      assert.strictEqual(
        (yield* call(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${a.readToken}` } })).status,
        401,
      )
      assert.strictEqual(
        (yield* call(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status,
        200,
      )

      // A new drain secret: the old drain URL is refused, the new one is taken.
      const drain = yield* call(`${base}/api/v1/apps/${a.owner}/drain-secret`, {
        method: "POST",
        headers: admin,
      })
      assert.strictEqual(drain.status, 201)
      const url = new URL(String(drain.body.drainUrl))
      assert.strictEqual(url.username, "tally")
      assert.strictEqual(yield* post(a.url, secretA), 401)
      assert.strictEqual(yield* post(a.url, decodeURIComponent(url.password)), 204)

      // Delete: gone from the list, its token refused, a second delete is 404; the other app is untouched.
      const removed = yield* call(`${base}/api/v1/apps/${a.owner}`, { method: "DELETE", headers: admin })
      assert.strictEqual(removed.status, 204)
      assert.strictEqual(
        (yield* call(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status,
        401,
      )
      assert.strictEqual(yield* post(a.url, decodeURIComponent(url.password)), 401)
      for (const [method, path] of [
        ["GET", ""],
        ["DELETE", ""],
        ["POST", "/read-token"],
        ["POST", "/drain-secret"],
      ] as const) {
        const again = yield* call(`${base}/api/v1/apps/${a.owner}${path}`, { method, headers: admin })
        assert.strictEqual(again.status, 404, `${method} ${path}`)
        assert.strictEqual(again.body.error, "not_found")
        assert.include(String(again.body.message), "GET /api/v1/apps")
      }
      const bad = yield* call(`${base}/api/v1/apps/not-a-uuid`, { headers: admin })
      assert.strictEqual(bad.status, 404)
      const names = (
        (yield* call(`${base}/api/v1/apps`, { headers: admin })).body.apps as Array<{ name: string }>
      )
        .map((x) => x.name)
        .filter((n) => n.startsWith("admin-"))
      assert.deepStrictEqual(names, ["admin-a"])
      assert.strictEqual(
        (yield* call(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${b.readToken}` } })).body.name,
        "admin-a",
      )
    }),
  )
})
