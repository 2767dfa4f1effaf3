/** POST /logs and POST /api/v1/apps through real HTTP, on the in-memory bus. */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { expect } from "vitest"
import { MemoryLog } from "../../src/bus/memory/MemoryLog.ts"
import { partitionFor } from "../../src/bus/Partitioner.ts"
import * as Wire from "../../src/proto/Wire.ts"
import { ADMIN, baseUrl, createApp, postDrain, retimed } from "../support/http.ts"
import { perMeasurement } from "../support/raw.ts"
import { ingressStack } from "../support/stack.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
/** The raw records of a topic, one per measurement (a record holds a delivery's measurements of its key). */
const recordsOf = (log: MemoryLog["Service"], topic: string) =>
  Array.from({ length: 32 }, (_, p) =>
    log.read(topic, p, 0, 100_000).records.flatMap((r) => perMeasurement(topic, { ...r, partition: p })),
  ).flat()
const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`
const line = (iso: string, app: string, proc: string, msg: string) =>
  `<158>1 ${iso} host ${app} ${proc} - ${msg}\n`

layer(ingressStack(undefined, { maxBodyBytes: 64 * 1024 }), {
  excludeTestServices: true,
  timeout: "60 seconds",
})("ingress over HTTP", (it) => {
  it.effect("apps: admin token required, names unique and valid, 201 with a drain URL and a read token", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const post = (body: unknown, token?: string) =>
        fetch(`${base}/api/v1/apps`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        })
      assert.strictEqual((yield* promise(() => post({ name: "a1" }))).status, 401)
      assert.strictEqual((yield* promise(() => post({ name: "a1" }, "wrong-token-wrong-token"))).status, 401)
      const created = yield* promise(() => post({ name: "a1" }, ADMIN))
      assert.strictEqual(created.status, 201)
      const app = (yield* promise(() => created.json())) as Record<string, string>
      assert.deepStrictEqual(Object.keys(app).sort(), ["drainUrl", "name", "owner", "readToken"])
      // Never from the request's Host (127.0.0.1 here): TALLY_PUBLIC_URL, else localhost and the port.
      assert.match(app.drainUrl!, /^http:\/\/tally:[A-Za-z0-9_-]{32}@localhost:\d+\/logs$/)
      assert.strictEqual((yield* promise(() => post({ name: "a1" }, ADMIN))).status, 409)
      assert.strictEqual((yield* promise(() => post({ name: "Not Valid" }, ADMIN))).status, 400)
    }),
  )

  it.effect(
    "a drain batch lands on the raw topics with key owner:process_type, its partition, event time and ingest time",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const log = yield* MemoryLog
        const drain = yield* promise(() => createApp(base, "shop"))
        const { body, shiftMs } = retimed("chunked-three-bodies.body", Date.now() - 60_000)
        const sent = Date.now()
        const response = yield* promise(() =>
          postDrain(drain, body, {
            "logplex-msg-count": "6",
            "logplex-frame-id": "f".repeat(32),
            "logplex-drain-token": "d.1",
          }),
        )
        const answered = Date.now()
        assert.strictEqual(response.status, 204)
        const router = recordsOf(log, "ROUTER_REQUESTS.1").filter((r) => r.key.startsWith(drain.owner))
        assert.deepStrictEqual(router.map((r) => r.key).sort(), [`${drain.owner}:web`, `${drain.owner}:web`])
        for (const r of router) {
          assert.strictEqual(r.partition, partitionFor(r.key, 32))
          const m = Wire.RouterRequest.decode(r.value)
          // The record's timestamp is the ingest clock (stream time is capped by it); the event time is in the Origin.
          assert.isTrue(
            r.timestamp >= sent && r.timestamp <= answered,
            `${r.timestamp} in [${sent}, ${answered}]`,
          )
          assert.isTrue(m.origin.timeUs / 1000 < sent - 30_000)
          assert.strictEqual(m.origin.owner, drain.owner)
          assert.strictEqual(m.origin.frameId, "f".repeat(32))
          assert.strictEqual(m.origin.drain, "d.1")
        }
        const times = router
          .map((r) => Wire.RouterRequest.decode(r.value).origin.timeUs)
          .sort((a, b) => a - b)
        const original = [
          Date.UTC(2015, 5, 8, 21, 50, 22, 82) * 1000 + 451,
          Date.UTC(2015, 5, 8, 21, 53, 21, 466) * 1000 + 271,
        ]
        assert.deepStrictEqual(
          times,
          original.map((t) => t + shiftMs * 1000),
        )
        const errors = recordsOf(log, "ERRORS.1").filter((r) => r.key === `${drain.owner}:logplex`)
        assert.deepStrictEqual(errors.map((r) => Wire.ErrorCode.decode(r.value).count).sort(), [3, 4, 6])
      }),
  )

  it.effect("the secret works in either slot; anything else is 401", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const drain = yield* promise(() => createApp(base, "slots"))
      const secret = Buffer.from(drain.authorization.slice(6), "base64").toString().split(":")[1]!
      const body = frame(line(new Date().toISOString(), "heroku", "web.1", "Restarting"))
      const as = (user: string, pass: string) =>
        postDrain(
          { ...drain, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` },
          body,
        )
      assert.strictEqual((yield* promise(() => as(secret, ""))).status, 204)
      assert.strictEqual((yield* promise(() => as("tally", secret))).status, 204)
      assert.strictEqual((yield* promise(() => as("tally", "nope"))).status, 401)
      assert.strictEqual(
        (yield* promise(() =>
          fetch(drain.url, { method: "POST", headers: { "content-type": "application/logplex-1" }, body }),
        )).status,
        401,
      )
    }),
  )

  it.effect(
    "415 for another content type, 413 over the size limit, 400 with the offset for broken framing",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const log = yield* MemoryLog
        const drain = yield* promise(() => createApp(base, "bad-input"))
        const good = frame(
          line(new Date().toISOString(), "heroku", "web.1", "Error R14 (Memory quota exceeded)"),
        )
        assert.strictEqual(
          (yield* promise(() => postDrain(drain, good, { "content-type": "text/plain" }))).status,
          415,
        )
        assert.strictEqual((yield* promise(() => postDrain(drain, good.repeat(2000)))).status, 413)
        const broken = yield* promise(() => postDrain(drain, `${good}${good}oops${good}`))
        assert.strictEqual(broken.status, 400)
        const detail = (yield* promise(() => broken.json())) as {
          offset: number
          framesAccepted: number
          message: string
        }
        assert.strictEqual(detail.offset, Buffer.byteLength(good) * 2)
        assert.strictEqual(detail.framesAccepted, 2)
        const r14 = recordsOf(log, "ERRORS.1").filter((r) => r.key === `${drain.owner}:web`)
        assert.strictEqual(r14.length, 2, "the two frames before the break were produced, nothing after it")
      }),
  )

  it.effect(
    "503 with Retry-After while the bus is down; nothing is produced; a retry then succeeds once",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const log = yield* MemoryLog
        const drain = yield* promise(() => createApp(base, "outage"))
        const body = frame(
          line(new Date().toISOString(), "heroku", "worker.2", "Error R14 (Memory quota exceeded)"),
        )
        const headers = { "logplex-frame-id": "a".repeat(32), "logplex-drain-token": "d.outage" }
        const mine = () => recordsOf(log, "ERRORS.1").filter((r) => r.key === `${drain.owner}:worker`).length
        log.setAvailable(false)
        const refused = yield* promise(() => postDrain(drain, body, headers))
        log.setAvailable(true)
        assert.strictEqual(refused.status, 503)
        assert.strictEqual(refused.headers.get("retry-after"), "5")
        assert.strictEqual(mine(), 0)
        assert.strictEqual((yield* promise(() => postDrain(drain, body, headers))).status, 204)
        assert.strictEqual(mine(), 1)
        // Logplex retries a batch it thinks failed with the same Frame-Id: counted once.
        assert.strictEqual((yield* promise(() => postDrain(drain, body, headers))).status, 204)
        assert.strictEqual(mine(), 1)
      }),
  )

  it.effect(
    "a malformed Logplex-Frame-Id or Logplex-Drain-Token is a 400 naming the header; nothing is produced",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const log = yield* MemoryLog
        const drain = yield* promise(() => createApp(base, "headers"))
        const body = frame(
          line(new Date().toISOString(), "heroku", "run.1", "Error R14 (Memory quota exceeded)"),
        )
        const mine = () => recordsOf(log, "ERRORS.1").filter((r) => r.key === `${drain.owner}:run`).length
        const refused: Array<[Record<string, string>, RegExp]> = [
          [{ "logplex-frame-id": "f".repeat(65) }, /Logplex-Frame-Id/],
          [{ "logplex-frame-id": "abc def" }, /Logplex-Frame-Id/],
          [{ "logplex-frame-id": "../../etc/passwd" }, /Logplex-Frame-Id/],
          [{ "logplex-drain-token": "nope" }, /Logplex-Drain-Token/],
          [{ "logplex-drain-token": "d." }, /Logplex-Drain-Token/],
          [{ "logplex-drain-token": `d.${"a".repeat(63)}` }, /Logplex-Drain-Token/],
          [{ "logplex-drain-token": "d.a\tb" }, /Logplex-Drain-Token/],
        ]
        for (const [headers, named] of refused) {
          const response = yield* promise(() => postDrain(drain, body, headers))
          const detail = (yield* promise(() => response.json())) as { error: string; message: string }
          assert.strictEqual(response.status, 400, JSON.stringify(headers))
          assert.deepStrictEqual(Object.keys(detail).sort(), ["error", "message"], JSON.stringify(headers))
          assert.strictEqual(detail.error, "bad_request", JSON.stringify(headers))
          assert.match(detail.message, named, JSON.stringify(headers))
        }
        assert.strictEqual(mine(), 0)
        // What Logplex sends, and the longest accepted values, are taken.
        const accepted: Array<Record<string, string>> = [
          {
            "logplex-frame-id": "0123456789abcdef0123456789ABCDEF",
            "logplex-drain-token": "d.01234567-89ab-cdef-0123-456789abcdef",
          },
          { "logplex-frame-id": `${"a".repeat(62)}._`, "logplex-drain-token": `d.${"b".repeat(62)}` },
          {},
        ]
        for (const headers of accepted)
          assert.strictEqual((yield* promise(() => postDrain(drain, body, headers))).status, 204)
        assert.strictEqual(mine(), accepted.length)
      }),
  )

  it.effect("one app cannot suppress another's batches by sending its Frame-Ids with its drain token", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const log = yield* MemoryLog
      const [victim, other] = yield* promise(() =>
        Promise.all([createApp(base, "victim"), createApp(base, "copycat")]),
      )
      const body = frame(
        line(new Date().toISOString(), "heroku", "mail.1", "Error R14 (Memory quota exceeded)"),
      )
      const headers = { "logplex-frame-id": "e".repeat(32), "logplex-drain-token": "d.shared-token" }
      const count = (owner: string) =>
        recordsOf(log, "ERRORS.1").filter((r) => r.key === `${owner}:mail`).length
      assert.strictEqual((yield* promise(() => postDrain(other, body, headers))).status, 204)
      assert.strictEqual((yield* promise(() => postDrain(victim, body, headers))).status, 204)
      assert.deepStrictEqual([count(other.owner), count(victim.owner)], [1, 1])
      // Each app's own retry still counts once.
      assert.strictEqual((yield* promise(() => postDrain(victim, body, headers))).status, 204)
      assert.strictEqual((yield* promise(() => postDrain(other, body, headers))).status, 204)
      assert.deepStrictEqual([count(other.owner), count(victim.owner)], [1, 1])
    }),
  )

  it.effect(
    "future and too-old lines are refused and counted; a Msg-Count mismatch is counted, not refused",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const log = yield* MemoryLog
        const drain = yield* promise(() => createApp(base, "clocks"))
        const at = (ms: number) =>
          frame(line(new Date(ms).toISOString(), "heroku", "clock.1", "Error R14 (Memory quota exceeded)"))
        const body = at(Date.now()) + at(Date.now() + 10 * 60_000) + at(Date.now() - 30 * 86_400_000)
        const response = yield* promise(() => postDrain(drain, body, { "logplex-msg-count": "5" }))
        assert.strictEqual(response.status, 204)
        assert.strictEqual(
          recordsOf(log, "ERRORS.1").filter((r) => r.key === `${drain.owner}:clock`).length,
          1,
        )
        const metrics = yield* promise(() => fetch(`${base}/metrics`).then((r) => r.text()))
        assert.match(metrics, /tally_ingress_rejected_total\{reason="future"\} [1-9]/)
        assert.match(metrics, /tally_ingress_rejected_total\{reason="too_old"\} [1-9]/)
        assert.match(metrics, /tally_ingress_msg_count_mismatch_total [1-9]/)
        assert.match(metrics, /tally_ingress_measurements_produced_total\{type="ERRORS"\} [1-9]/)
      }),
  )

  it.effect(
    "property: random and mutated bodies never get a 5xx; a 400 says where in the body it broke",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const drain = yield* promise(() => createApp(base, "fuzz"))
        const valid = frame(
          line(
            new Date().toISOString(),
            "heroku",
            "router",
            "at=info method=GET path=/ dyno=web.1 connect=1ms service=5ms status=200 bytes=10",
          ),
        )
        yield* promise(() =>
          fc.assert(
            fc.asyncProperty(
              fc.array(fc.oneof(fc.constant(valid), fc.string({ unit: "binary", maxLength: 80 })), {
                maxLength: 8,
              }),
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
              async (parts, mutations) => {
                const body = Buffer.from(parts.join(""), "utf8")
                for (const [at, byte] of mutations) if (body.length > 0) body[at % body.length] = byte
                const response = await postDrain(drain, body)
                expect([204, 400]).toContain(response.status)
                if (response.status === 400) {
                  const detail = (await response.json()) as { offset: number }
                  expect(detail.offset).toBeLessThanOrEqual(body.length)
                } else await response.arrayBuffer()
              },
            ),
            { numRuns: 150 },
          ),
        )
      }),
  )

  it.effect(
    "property: exactly the frames before a framing break are produced, none after it; no break, every frame",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        const log = yield* MemoryLog
        const drain = yield* promise(() => createApp(base, "breaks"))
        // Each way framing can break at the break's first byte ("" is no break).
        const breaks = ["", "oops ", "0 x", "1234567 x", "12x3 ", "99999 x", "60000 <158>1 cut short"]
        let run = 0
        yield* promise(() =>
          fc.assert(
            fc.asyncProperty(
              fc.nat({ max: 6 }),
              fc.nat({ max: 4 }),
              fc.constantFrom(...breaks),
              async (before, after, broken) => {
                const r = ++run
                // Every frame carries its own path, so the records say which frames were produced.
                const at = new Date().toISOString()
                const router = (i: number) =>
                  frame(
                    line(
                      at,
                      "heroku",
                      "router",
                      `at=info method=GET path=/r${r}/f${i} dyno=web.1 connect=1ms service=5ms status=200 bytes=10`,
                    ),
                  )
                const head = Array.from({ length: before }, (_, i) => router(i)).join("")
                const tail = Array.from({ length: after }, (_, i) => router(before + i)).join("")
                const response = await postDrain(drain, head + broken + tail)
                const kept = broken === "" ? before + after : before
                if (broken === "") expect(response.status).toBe(204)
                else {
                  expect(response.status).toBe(400)
                  const detail = (await response.json()) as { offset: number; framesAccepted: number }
                  expect([detail.offset, detail.framesAccepted]).toEqual([Buffer.byteLength(head), before])
                }
                const produced = recordsOf(log, "ROUTER_REQUESTS.1")
                  .filter((rec) => rec.key === `${drain.owner}:web`)
                  .map((rec) => Wire.RouterRequest.decode(rec.value).path)
                  .filter((path) => path.startsWith(`/r${r}/`))
                  .sort()
                expect(produced).toEqual(Array.from({ length: kept }, (_, i) => `/r${r}/f${i}`).sort())
              },
            ),
            { numRuns: 60 },
          ),
        )
      }),
  )

  it.effect("healthz and the OpenAPI document", () =>
    Effect.gen(function* () {
      const base = yield* baseUrl
      const health = yield* promise(() => fetch(`${base}/healthz`))
      assert.strictEqual(health.status, 200)
      assert.strictEqual(((yield* promise(() => health.json())) as { status: string }).status, "ok")
      const openapi = (yield* promise(() => fetch(`${base}/api/v1/openapi.json`).then((r) => r.json()))) as {
        paths: Record<string, unknown>
      }
      assert.includeMembers(Object.keys(openapi.paths), ["/logs", "/api/v1/apps", "/healthz", "/metrics"])
    }),
  )
})
