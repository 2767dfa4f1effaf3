/**
 * POST /logs straight from Node's request, in front of the HttpApi router (src/http/Server.ts): the
 * same answers as the HttpApi endpoint (DrainsHandlers, src/api/Drains.ts) — auth first, then the
 * payload's media type, then the ingress — without the router, schema decoding and response encoding
 * the HttpApi runs for every request, which cost more than parsing and encoding a 200-line body.
 * test/ingress/listener.test.ts sends the same requests to both and compares status, headers and body.
 * Every other request (and /logs with another method) goes on to the HttpApi.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { Context, Effect, Exit, Layer, Metric, Option, Result } from "effect"
import * as Base64 from "effect/encoding/Base64"
import { LOGPLEX } from "../api/Drains.ts"
import { internalError, messages, unsupportedContentType } from "../api/Errors.ts"
import { Apps } from "../apps/Apps.ts"
import { type DrainBody, IngestError, Ingress } from "./Ingress.ts"
import * as M from "./IngressMetrics.ts"

/** The payload media types the HttpApi endpoint accepts (anything else: its own 415, as text). */
const ACCEPTED = new Set([LOGPLEX, "application/octet-stream", "text/plain"])

/** effect/http-api's MediaType.normalize. */
const normalize = (contentType: string) => {
  const normalized = contentType.toLowerCase().trim()
  const i = normalized.indexOf(";")
  return i === -1 ? normalized : normalized.slice(0, i).trim()
}

/** HttpApiSecurity.basic's decoding: the user and password, or empty ones when there are none. */
export const basicCredentials = (authorization: string | undefined): { user: string; password: string } => {
  const empty = { user: "", password: "" }
  if (
    authorization === undefined ||
    authorization.length <= 5 ||
    authorization.charCodeAt(5) !== 32 ||
    authorization.slice(0, 5).toLowerCase() !== "basic"
  )
    return empty
  let start = 6
  while (authorization.charCodeAt(start) === 32) start++
  if (start === authorization.length) return empty
  const decoded = Result.getOrUndefined(Base64.decodeString(authorization.slice(start)))
  if (decoded === undefined) return empty
  const colon = decoded.indexOf(":")
  if (colon === -1) return empty
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Is this request for the drain endpoint (`/logs`, `/logs/`, with or without a query)? */
export const isDrainRequest = (req: IncomingMessage): boolean => {
  if (req.method !== "POST") return false
  const url = req.url ?? ""
  const q = url.indexOf("?")
  const path = q < 0 ? url : url.slice(0, q)
  return path === "/logs" || path === "/logs/"
}

interface Answer {
  readonly status: number
  readonly body?: string
  readonly contentType?: string
  readonly retryAfter?: number
  /** Answered with `Connection: close`, and the socket destroyed once the answer is written. */
  readonly close?: boolean
}

const json = (status: number, body: object): Answer => ({
  status,
  body: JSON.stringify(body),
  contentType: "application/json",
})

const count = (code: number) => Metric.update(Metric.withAttributes(M.requests, { status: String(code) }), 1)

const ingestAnswer = (e: IngestError): Answer => {
  switch (e.reason) {
    case "BadFraming":
      return json(400, {
        error: "bad_framing",
        message: e.message,
        offset: e.offset ?? 0,
        framesAccepted: e.framesAccepted ?? 0,
      })
    case "BadBody":
      return json(400, { error: "bad_framing", message: e.message, offset: 0, framesAccepted: 0 })
    case "BadHeader":
      return json(400, { error: "bad_request", message: e.message })
    case "TooLarge":
      return json(413, { error: "payload_too_large", message: e.message })
    case "Unavailable":
      return { ...json(503, { error: "unavailable", message: e.message }), retryAfter: 5 }
  }
}

/**
 * Feeds the request's body to `body` as it arrives, until its end or until `push` says stop (the rest is
 * left unread, as the HttpApi leaves it). Fails BadBody when the connection breaks first, and with the
 * cut's error when the body is cut off (it arrived slower than TALLY_MIN_BODY_RATE).
 */
const readBody = (req: IncomingMessage, body: DrainBody) =>
  Effect.callback<void, IngestError>((resume) => {
    let ended = false
    const done = () => {
      ended = true
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
      req.off("close", onClose)
    }
    const onData = (chunk: Buffer) => {
      if (body.push(chunk)) return
      done()
      req.pause()
      resume(Effect.void)
    }
    const onEnd = () => {
      done()
      resume(Effect.void)
    }
    const fail = (cause: unknown) => {
      done()
      resume(
        Effect.fail(
          new IngestError({
            reason: "BadBody",
            message: `the request body could not be read: ${String(cause)}`,
          }),
        ),
      )
    }
    const onError = (e: Error) => fail(e)
    const onClose = () => {
      if (!req.complete) fail("the connection closed before the body ended")
    }
    if (req.complete && req.readableEnded) return resume(Effect.void)
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", onError)
    req.on("close", onClose)
    body.onCut((e) => {
      if (ended) return
      done()
      req.pause()
      resume(Effect.fail(e))
    })
    return Effect.sync(done)
  })

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

const msgCount = (value: string | undefined) => {
  if (value === undefined) return undefined
  const n = Number(value)
  return Number.isInteger(n) && n >= 0 ? n : undefined
}

export class DrainListener extends Context.Service<
  DrainListener,
  {
    /** Serves the request when it is a drain POST (true); otherwise leaves it alone (false). */
    readonly handle: (req: IncomingMessage, res: ServerResponse) => boolean
  }
>()("tally/ingress/DrainListener") {
  static readonly layer = Layer.effect(
    DrainListener,
    Effect.gen(function* () {
      const apps = yield* Apps
      const ingress = yield* Ingress
      const context = yield* Effect.context<never>()
      const fork = Effect.runForkWith(context)

      const serve = Effect.fnUntraced(function* (req: IncomingMessage) {
        const started = performance.now()
        // DrainAuth: the secret in either slot (Logplex drops an empty user, so it may arrive as the user).
        const { user, password } = basicCredentials(req.headers.authorization)
        let owner: string | undefined
        for (const candidate of [password, user])
          if (candidate.length > 0 && owner === undefined) {
            const found = yield* Effect.result(apps.ownerByDrainSecret(candidate))
            // The catalogue could not be read and the secret is not cached: 503, Logplex tries again.
            if (found._tag === "Failure") {
              yield* Effect.logWarning(`credentials: ${found.failure.message}`)
              yield* count(503)
              return {
                ...json(503, { error: "unavailable", message: messages.catalogueUnavailable }),
                retryAfter: 5,
              }
            }
            owner = Option.getOrUndefined(found.success)
          }
        if (owner === undefined) {
          yield* count(401)
          return json(401, { error: "unauthorized", message: messages.drainCredentials })
        }
        const contentType = header(req, "content-type")
        const media = normalize(contentType ?? "application/json")
        // What the HttpApi answers (src/http/ErrorBodies.ts) for a type no endpoint of /logs takes.
        if (!ACCEPTED.has(media)) return json(415, unsupportedContentType(media))
        if (media !== LOGPLEX) {
          yield* count(415)
          return json(415, {
            error: "unsupported_media_type",
            message: `expected Content-Type ${LOGPLEX}, got ${contentType?.split(";")[0]?.trim().toLowerCase()}`,
          })
        }
        const length = header(req, "content-length")
        const answer = yield* Effect.scoped(
          Effect.gen(function* () {
            const opened = yield* ingress.open({
              owner,
              drainToken: header(req, "logplex-drain-token"),
              frameId: header(req, "logplex-frame-id"),
              msgCount: msgCount(header(req, "logplex-msg-count")),
              contentLength: length === undefined ? undefined : Number(length),
            })
            if ("push" in opened) {
              yield* readBody(req, opened)
              yield* opened.finish
            }
            return { status: 204 } as Answer
          }),
        ).pipe(Effect.catchTag("IngestError", (e) => Effect.succeed(ingestAnswer(e))))
        yield* count(answer.status)
        // Refused while its body is still arriving (too slow, over a budget): the connection is closed
        // rather than left to read the rest for nothing (Logplex retries the batch on a new one).
        if (answer.status === 503 && !req.complete) return { ...answer, close: true }
        if (answer.status === 204) yield* Metric.update(M.latency, (performance.now() - started) / 1000)
        return answer
      })

      const respond = (res: ServerResponse, answer: Answer) => {
        if (answer.body === undefined) {
          res.writeHead(answer.status)
          res.end()
          return
        }
        const headers: Record<string, string | number> = {
          "content-type": answer.contentType ?? "application/json",
          "content-length": Buffer.byteLength(answer.body),
        }
        if (answer.retryAfter !== undefined) headers["retry-after"] = String(answer.retryAfter)
        if (answer.close) {
          headers.connection = "close"
          const socket = res.socket
          res.once("finish", () => socket?.destroy())
        }
        res.writeHead(answer.status, headers)
        res.end(answer.body)
      }

      return DrainListener.of({
        handle: (req, res) => {
          if (!isDrainRequest(req)) return false
          fork(serve(req)).addObserver((exit) => {
            if (res.writableEnded || res.destroyed) return
            // A defect: a 500, as the HttpApi answers (src/http/ErrorBodies.ts).
            respond(res, Exit.isSuccess(exit) ? exit.value : json(500, internalError))
          })
          return true
        },
      })
    }),
  )
}
