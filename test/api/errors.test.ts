/**
 * Errors a newcomer can act on (issue 25): every 4xx/5xx of the HTTP surface is a JSON body
 * `{"error": "<code>", "message": "<what to do>"}` with no internal tag, the answers the router and the
 * HttpApi make by themselves included; OpenAPI documents that shape for every error response; reads
 * without `from`/`to` default to the last 2 hours, and unaligned ones are aligned to the step.
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { ERROR_CODES } from "../../src/api/Errors.ts"
import { ErrorBodies } from "../../src/http/ErrorBodies.ts"
import { parseRange } from "../../src/query/Downsample.ts"
import { ADMIN, baseUrl, createApp } from "../support/http.ts"
import { ingressStack } from "../support/stack.ts"

interface Answer {
  readonly status: number
  readonly contentType: string | null
  readonly body: Record<string, unknown>
}

const call = (url: string, init: RequestInit = {}) =>
  Effect.promise(async (): Promise<Answer> => {
    const r = await fetch(url, init)
    const text = await r.text()
    let body: Record<string, unknown> = {}
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      body = { unparsed: text }
    }
    return { status: r.status, contentType: r.headers.get("content-type"), body }
  })

/** An error answer: JSON, `error` a documented code of that status, a message, and no `_tag`. */
const assertErrorBody = (a: Answer, status: number, code: string, what: string) => {
  assert.strictEqual(a.status, status, `${what}: ${JSON.stringify(a.body)}`)
  assert.match(a.contentType ?? "", /^application\/json/, what)
  assert.strictEqual(a.body.error, code, what)
  assert.strictEqual(ERROR_CODES[code as keyof typeof ERROR_CODES], status, `${what}: ${code} is documented`)
  assert.isString(a.body.message, what)
  assert.isAbove(String(a.body.message).length, 10, what)
  assert.notProperty(a.body, "_tag", what)
}

const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }

layer(ingressStack(), { excludeTestServices: true, timeout: "60 seconds" })(
  "error bodies over HTTP",
  (it) => {
    it.effect("a bad body, no route, a wrong content type, bad credentials: JSON naming what to do", () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const empty = yield* call(`${base}/api/v1/apps`, { method: "POST", headers: admin, body: "{}" })
        assertErrorBody(empty, 400, "bad_request", "POST /api/v1/apps {}")
        assert.match(String(empty.body.message), /\["name"\]/)
        assert.include(String(empty.body.message), 'send {"name": "my-app"}')
        assertErrorBody(
          yield* call(`${base}/api/v1/apps`, { method: "POST", headers: admin, body: "{" }),
          400,
          "bad_request",
          "not JSON",
        )
        assertErrorBody(
          yield* call(`${base}/api/v1/apps`, { method: "POST", headers: admin, body: '{"name": 7}' }),
          400,
          "bad_request",
          "a number for a name",
        )
        const badName = yield* call(`${base}/api/v1/apps`, {
          method: "POST",
          headers: admin,
          body: '{"name": "Not OK"}',
        })
        assertErrorBody(badName, 400, "bad_request", "a bad name")
        assert.match(String(badName.body.message), /lowercase letters/)
        const text = yield* call(`${base}/api/v1/apps`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "text/plain" },
          body: "name=x",
        })
        assertErrorBody(text, 415, "unsupported_media_type", "text/plain to the API")
        assert.include(String(text.body.message), "application/json")
        const nowhere = yield* call(`${base}/api/v1/nowhere`)
        assertErrorBody(nowhere, 404, "not_found", "no route")
        assert.include(String(nowhere.body.message), "/api/v1/openapi.json")
        assertErrorBody(yield* call(`${base}/logs`), 404, "not_found", "GET /logs")
        const noAdmin = yield* call(`${base}/api/v1/apps`, { method: "POST", body: "{}" })
        assertErrorBody(noAdmin, 401, "unauthorized", "no admin token")
        assert.include(String(noAdmin.body.message), "TALLY_ADMIN_TOKEN")
        const noRead = yield* call(`${base}/api/v1/apps/x/metrics/memory_rss`)
        assertErrorBody(noRead, 401, "unauthorized", "no read token")
        assert.include(String(noRead.body.message), "tally apps")
        const drain = yield* call(`${base}/logs`, {
          method: "POST",
          headers: { "content-type": "application/logplex-1" },
          body: "",
        })
        assertErrorBody(drain, 401, "unauthorized", "no drain credentials")
        const app = yield* Effect.promise(() => createApp(base, "errors-app"))
        const conflict = yield* call(`${base}/api/v1/apps`, {
          method: "POST",
          headers: admin,
          body: '{"name": "errors-app"}',
        })
        assertErrorBody(conflict, 409, "conflict", "a second app of a name")
        const framing = yield* call(app.url, {
          method: "POST",
          headers: { authorization: app.authorization, "content-type": "application/logplex-1" },
          body: "12 <158>1 2026xx",
        })
        assertErrorBody(framing, 400, "bad_framing", "broken framing")
        assert.isNumber(framing.body.offset)
        assert.isNumber(framing.body.framesAccepted)
        const read = { authorization: `Bearer ${app.readToken}` }
        const metric = `${base}/api/v1/apps/${app.owner}/metrics`
        const step = yield* call(`${metric}/memory_rss?step=7m`, { headers: read })
        assertErrorBody(step, 400, "bad_request", "a bad step")
        assert.match(String(step.body.message), /step must be one of 1m, 5m/)
        assertErrorBody(
          yield* call(`${metric}/no_such_metric`, { headers: read }),
          404,
          "not_found",
          "no such metric",
        )
      }),
    )

    it.effect("reads without from/to cover the last 2 hours; unaligned ones are aligned to the step", () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const app = yield* Effect.promise(() => createApp(base, "errors-range"))
        const read = { authorization: `Bearer ${app.readToken}` }
        const metric = `${base}/api/v1/apps/${app.owner}/metrics/memory_rss`
        const before = Date.now()
        const plain = yield* call(metric, { headers: read })
        const after = Date.now()
        assert.strictEqual(plain.status, 200, JSON.stringify(plain.body))
        const from = Date.parse(String(plain.body.from))
        const to = Date.parse(String(plain.body.to))
        assert.strictEqual(plain.body.step, "1m")
        assert.strictEqual(from % 60_000, 0)
        assert.strictEqual(to % 60_000, 0)
        assert.isAtLeast(to, before)
        assert.isAtMost(to, Math.ceil(after / 60_000) * 60_000)
        assert.strictEqual(to - from, 2 * 3_600_000)
        const aligned = yield* call(`${metric}?from=2026-11-28T12:05:00Z&to=2026-11-28T13:01:00Z&step=15m`, {
          headers: read,
        })
        assert.strictEqual(aligned.status, 200, JSON.stringify(aligned.body))
        assert.strictEqual(aligned.body.from, "2026-11-28T12:00:00.000Z")
        assert.strictEqual(aligned.body.to, "2026-11-28T13:15:00.000Z")
        const onlyTo = yield* call(`${metric}?to=2026-11-28T13:00:00Z&step=1h`, { headers: read })
        assert.strictEqual(onlyTo.body.from, "2026-11-28T11:00:00.000Z")
        const events = yield* call(`${base}/api/v1/apps/${app.owner}/events`, { headers: read })
        assert.strictEqual(events.status, 200, JSON.stringify(events.body))
        assert.deepStrictEqual(events.body.events, [])
        assert.strictEqual(
          Date.parse(String(events.body.to)) - Date.parse(String(events.body.from)),
          7_200_000,
        )
        const odd = yield* call(
          `${base}/api/v1/apps/${app.owner}/events?from=2026-11-28T12:00:30Z&to=2026-11-28T12:10:10Z`,
          { headers: read },
        )
        assert.strictEqual(odd.body.from, "2026-11-28T12:00:00.000Z")
        assert.strictEqual(odd.body.to, "2026-11-28T12:11:00.000Z")
      }),
    )

    it.effect(
      "OpenAPI documents {error, message} (no _tag) for every error response, and the range defaults",
      () =>
        Effect.gen(function* () {
          const base = yield* baseUrl
          const doc = (yield* call(`${base}/api/v1/openapi.json`)).body as {
            paths: Record<
              string,
              Record<string, { description?: string; responses: Record<string, unknown> }>
            >
            components: { schemas: Record<string, unknown> }
          }
          const resolve = (s: unknown): Record<string, unknown> => {
            const ref = (s as { $ref?: string }).$ref
            return ref === undefined
              ? (s as Record<string, unknown>)
              : resolve(doc.components.schemas[ref.replace("#/components/schemas/", "")])
          }
          /** The object schemas an error response may be (one, or each member of a union). */
          const members = (s: unknown): Array<Record<string, unknown>> => {
            const r = resolve(s)
            const any = (r.anyOf ?? r.oneOf) as Array<unknown> | undefined
            return any ? any.flatMap(members) : [r]
          }
          let checked = 0
          for (const [path, methods] of Object.entries(doc.paths))
            for (const [method, op] of Object.entries(methods))
              for (const [status, response] of Object.entries(op.responses)) {
                if (Number(status) < 400) continue
                const content = (response as { content?: Record<string, { schema: unknown }> }).content
                assert.isDefined(content?.["application/json"], `${method} ${path} ${status} has a JSON body`)
                for (const schema of members(content!["application/json"]!.schema)) {
                  const properties = (schema.properties ?? {}) as Record<string, unknown>
                  const what = `${method} ${path} ${status}: ${JSON.stringify(schema)}`
                  assert.property(properties, "error", what)
                  assert.property(properties, "message", what)
                  assert.notProperty(properties, "_tag", what)
                  checked++
                }
              }
          assert.isAbove(checked, 20)
          const series = doc.paths["/api/v1/apps/{owner}/metrics/{metric}"]!.get!
          assert.include(series.description, "defaults to now")
          assert.include(series.description, "aligned to the step for you")
        }),
    )
  },
)

describe("error bodies of a defect", () => {
  const dying = HttpRouter.add("GET", "/boom", Effect.die(new Error("a bug")))
  // A route of its own answering plain text (as routes beside the HttpApi may): made JSON, connection kept.
  const texting = HttpRouter.add(
    "GET",
    "/text",
    Effect.succeed(HttpServerResponse.text("no such thing here", { status: 404 })),
  )
  const server = HttpRouter.serve(Layer.mergeAll(dying, texting, ErrorBodies), { disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0 })),
  )
  layer(server, { excludeTestServices: true })("a route that dies", (it) => {
    it.effect("answers 500 with the JSON shape, never the cause", () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const a = yield* call(`${base}/boom`)
        assertErrorBody(a, 500, "internal", "a defect")
        assert.notInclude(JSON.stringify(a.body), "a bug")
      }),
    )
    it.effect("a plain-text error answer becomes the JSON shape, with its text as the message", () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        for (let i = 0; i < 3; i++) {
          const a = yield* call(`${base}/text`)
          assertErrorBody(a, 404, "not_found", "a text 404")
          assert.strictEqual(a.body.message, "no such thing here")
        }
      }),
    )
  })
})

describe("parseRange", () => {
  const now = Date.UTC(2026, 10, 28, 12, 34, 56)
  layer(Layer.empty)("defaults and alignment", (it) => {
    it.effect(
      "to defaults to now and from to 2 hours before it, aligned outward; bad input names the parameter",
      () =>
        Effect.sync(() => {
          const r = parseRange(undefined, undefined, undefined, now)
          assert.deepStrictEqual(typeof r === "string" ? r : [r.fromMs, r.toMs, r.step], [
            Date.UTC(2026, 10, 28, 10, 35),
            Date.UTC(2026, 10, 28, 12, 35),
            "1m",
          ])
          const day = parseRange(undefined, undefined, "1d", now)
          assert.deepStrictEqual(typeof day === "string" ? day : [day.fromMs, day.toMs], [
            Date.UTC(2026, 10, 28),
            Date.UTC(2026, 10, 29),
          ])
          assert.match(String(parseRange("yesterday", undefined, "1m", now)), /^from must be an ISO 8601/)
          assert.match(String(parseRange(undefined, "soon", "1m", now)), /^to must be an ISO 8601/)
          assert.match(
            String(parseRange("2026-11-28T12:00:00Z", "2026-11-28T11:00:00Z", "1m", now)),
            /before/,
          )
          assert.match(
            String(parseRange("2026-10-01T00:00:00Z", "2026-11-28T00:00:00Z", "1h", now)),
            /31 days/,
          )
          assert.match(String(parseRange(undefined, undefined, "constructor", now)), /^step must be one of/)
        }),
    )
  })
})
