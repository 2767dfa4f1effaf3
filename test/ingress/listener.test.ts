/**
 * The DrainListener answers drain POSTs exactly as the HttpApi endpoint does: the same requests go to a
 * server with the listener in front (HttpLive) and to one where the HttpApi serves them (HttpApiOnlyLive),
 * both over the same ingress, apps and bus; status, content type, Retry-After, connection handling and
 * body must be equal, and both must have produced the same records.
 */
import http from "node:http"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { AdminToken } from "../../src/apps/AdminToken.ts"
import { Apps } from "../../src/apps/Apps.ts"
import { Bus } from "../../src/bus/Bus.ts"
import { EnsureTopics } from "../../src/bus/EnsureTopics.ts"
import { MemoryLog } from "../../src/bus/memory/MemoryLog.ts"
import { BusError } from "../../src/bus/Records.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { HttpApiOnlyLive, HttpLive } from "../../src/http/Server.ts"
import { Backpressure } from "../../src/ingress/Backpressure.ts"
import { Cardinality } from "../../src/ingress/Cardinality.ts"
import { Ingress } from "../../src/ingress/Ingress.ts"
import { Query } from "../../src/query/Query.ts"
import { Shards } from "../../src/store/Shards.ts"
import { SummaryStore } from "../../src/store/SummaryStore.ts"
import { Stages } from "../../src/stream/Stage.ts"
import { ADMIN, baseUrl, createApp } from "../support/http.ts"

class ListenerUrl extends Context.Service<ListenerUrl, string>()("test/ListenerUrl") {}
class ReferenceUrl extends Context.Service<ReferenceUrl, string>()("test/ReferenceUrl") {}

/** While true, every produce fails Unavailable (the ingress answers 503 + Retry-After). */
let busDown = false
const FlakyBus = Layer.effect(
  Bus,
  Effect.map(Effect.service(Bus), (bus) =>
    Bus.of({
      ...bus,
      produce: (records) =>
        busDown
          ? Effect.fail(new BusError({ reason: "Unavailable", message: "broker down (test)" }))
          : bus.produce(records),
    }),
  ),
).pipe(Layer.provideMerge(Bus.layerMemory))

const shared = Layer.mergeAll(Ingress.layer).pipe(
  Layer.provideMerge(Backpressure.layer),
  Layer.provideMerge(Cardinality.layer),
  Layer.provideMerge(Query.layer),
  Layer.provideMerge(SummaryStore.layer),
  Layer.provideMerge(Apps.layer),
  Layer.provideMerge(AdminToken.layerFixed(ADMIN)),
  Layer.provideMerge(Shards.layerPglite(undefined)),
  Layer.provideMerge(EnsureTopics),
  Layer.provideMerge(FlakyBus),
  Layer.provideMerge(Stages.layer),
  Layer.provideMerge(TallyConfig.layerWith({ port: 0, maxBodyBytes: 64 * 1024 })),
)

const servers = Layer.mergeAll(
  Layer.effect(ListenerUrl, baseUrl).pipe(Layer.provide(HttpLive)),
  Layer.effect(ReferenceUrl, baseUrl).pipe(Layer.provide(HttpApiOnlyLive)),
).pipe(Layer.provideMerge(shared))

interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly retryAfter: string | undefined
  readonly connection: string | undefined
  readonly body: string
}

const send = (
  base: string,
  path: string,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer,
) =>
  new Promise<Answer>((resolve, reject) => {
    const request = http.request(new URL(path, base), { method, headers, agent: false }, (res) => {
      let text = ""
      res.on("data", (c) => (text += c))
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers["content-type"],
          retryAfter: res.headers["retry-after"],
          connection: res.headers.connection,
          body: text,
        }),
      )
    })
    request.on("error", (e) => reject(new Error(`${method} ${base}${path}: ${e.message}`)))
    request.end(body)
  })

const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`
const line = (msg: string, proc = "web.1") =>
  `<158>1 ${new Date().toISOString()} host heroku ${proc} - ${msg}\n`
const router = (i: number) =>
  line(
    `at=info method=GET path=/p/${i} host=h.example.com request_id=r-${i} fwd="1.2.3.4" dyno=web.1 connect=1ms service=${i}ms status=200 bytes=42 protocol=https`,
    "router",
  )

layer(servers, { excludeTestServices: true, timeout: "90 seconds" })("DrainListener", (it) => {
  it.effect("answers every drain request as the HttpApi endpoint does", () =>
    Effect.gen(function* () {
      const listener = yield* ListenerUrl
      const reference = yield* ReferenceUrl
      const drain = yield* Effect.promise(() => createApp(listener, "listener-drain"))
      const log = yield* MemoryLog
      const auth = drain.authorization
      const secret = Buffer.from(auth.slice(6), "base64").toString().split(":")[1]!
      const ct = { "content-type": "application/logplex-1" }
      const good = frame(router(1)) + frame(line("Restarting"))
      let n = 0
      /** A body each server sees once (its Frame-Id differs per call, so retries do not collapse them). */
      const cases: Array<[string, string, string, Record<string, string>, string | Buffer]> = [
        ["good", "/logs", "POST", { ...ct, authorization: auth }, good],
        ["query string", "/logs?x=1", "POST", { ...ct, authorization: auth }, good],
        ["trailing slash", "/logs/", "POST", { ...ct, authorization: auth }, good],
        [
          "secret as the user",
          "/logs",
          "POST",
          { ...ct, authorization: `Basic ${Buffer.from(`${secret}:`).toString("base64")}` },
          good,
        ],
        ["no auth", "/logs", "POST", { ...ct }, good],
        ["not base64", "/logs", "POST", { ...ct, authorization: "Basic !!!!" }, good],
        ["bearer", "/logs", "POST", { ...ct, authorization: "Bearer x" }, good],
        [
          "wrong secret",
          "/logs",
          "POST",
          { ...ct, authorization: `Basic ${Buffer.from("tally:nope").toString("base64")}` },
          good,
        ],
        ["text/plain", "/logs", "POST", { "content-type": "text/plain", authorization: auth }, good],
        [
          "octet-stream",
          "/logs",
          "POST",
          { "content-type": "application/octet-stream", authorization: auth },
          good,
        ],
        ["json", "/logs", "POST", { "content-type": "application/json", authorization: auth }, good],
        ["no content type", "/logs", "POST", { authorization: auth }, good],
        ["no auth, json", "/logs", "POST", { "content-type": "application/json" }, good],
        [
          "media type with parameters",
          "/logs",
          "POST",
          { "content-type": "Application/Logplex-1; charset=utf-8", authorization: auth },
          good,
        ],
        ["framing breaks", "/logs", "POST", { ...ct, authorization: auth }, `${good}xx`],
        ["bad Frame-Id", "/logs", "POST", { ...ct, authorization: auth, "logplex-frame-id": "a b" }, good],
        [
          "bad drain token",
          "/logs",
          "POST",
          { ...ct, authorization: auth, "logplex-drain-token": "x".repeat(300) },
          good,
        ],
        ["too large", "/logs", "POST", { ...ct, authorization: auth }, Buffer.alloc(200_000, 0x31)],
        ["empty", "/logs", "POST", { ...ct, authorization: auth }, ""],
        ["msg count", "/logs", "POST", { ...ct, authorization: auth, "logplex-msg-count": "abc" }, good],
        ["GET", "/logs", "GET", { authorization: auth }, ""],
      ]
      const frameId = () => (n++).toString(16).padStart(32, "0")
      for (const [name, path, method, headers, body] of cases) {
        const withId = "logplex-frame-id" in headers ? headers : { ...headers, "logplex-frame-id": frameId() }
        const a = yield* Effect.promise(() => send(listener, path, method, withId, body))
        const b = yield* Effect.promise(() =>
          send(
            reference,
            path,
            method,
            { ...withId, "logplex-frame-id": withId["logplex-frame-id"] === "a b" ? "a b" : frameId() },
            body,
          ),
        )
        assert.deepStrictEqual(a, b, name)
      }
      // The bus cannot take the batch: 503 with Retry-After from both.
      busDown = true
      const down = { ...ct, authorization: auth }
      const a = yield* Effect.promise(() =>
        send(listener, "/logs", "POST", { ...down, "logplex-frame-id": frameId() }, good),
      )
      const b = yield* Effect.promise(() =>
        send(reference, "/logs", "POST", { ...down, "logplex-frame-id": frameId() }, good),
      )
      busDown = false
      assert.strictEqual(a.status, 503)
      assert.deepStrictEqual(a, b)
      // Both produced the same: every accepted body's router line once per server.
      const records = Array.from(
        { length: 32 },
        (_, p) => log.read("ROUTER_REQUESTS.1", p, 0, 10_000).records,
      ).flat()
      const accepted = cases.filter(([name]) =>
        [
          "good",
          "query string",
          "trailing slash",
          "secret as the user",
          "media type with parameters",
          "msg count",
          "framing breaks",
        ].includes(name),
      ).length
      assert.strictEqual(records.length, 2 * accepted)
    }),
  )
})
