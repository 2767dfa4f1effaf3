/**
 * Every 4xx and 5xx answer of the HTTP surface is `{"error": "<code>", "message": "<what to do>"}`
 * (src/api/Errors.ts). The endpoints' own errors are encoded that way by their schemas; this middleware
 * gives the same shape to the answers the router and the HttpApi make by themselves, which are empty or
 * plain text otherwise:
 * - no route (404), and a path, query, header or body that does not decode (400, naming the field);
 * - a body over an endpoint's limit (413), a Content-Type an endpoint does not take (415);
 * - a defect (500, logged here with its cause).
 */
import { Cause, Effect, Option } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as SchemaIssue from "effect/SchemaIssue"
import { type ErrorBody, type ErrorCode, internalError, unsupportedContentType } from "../api/Errors.ts"

const json = (status: number, body: ErrorBody) => HttpServerResponse.jsonUnsafe(body, { status })

const formatter = SchemaIssue.makeFormatterDefault()

/** What the query, path, headers or body lacked, in a line: `Missing key at ["name"]` and the like. */
const issueText = (cause: unknown): string => {
  const issue = (cause as { issue?: unknown })?.issue
  const text = SchemaIssue.isIssue(issue) ? formatter(issue) : String((cause as Error)?.message ?? cause)
  return text
    .replace(/\s*\n\s*at /g, " at ")
    .replace(/\s*\n\s*/g, "; ")
    .slice(0, 500)
}

const PART: Record<string, string> = {
  Params: "the path",
  Query: "the query string",
  Headers: "a header",
  Payload: "the request body",
}

interface Tagged {
  readonly _tag?: unknown
  readonly kind?: unknown
  readonly cause?: unknown
  readonly reason?: { readonly _tag?: unknown }
}

const pathOf = (request: HttpServerRequest.HttpServerRequest) => {
  const url = request.url
  const q = url.indexOf("?")
  return q < 0 ? url : url.slice(0, q)
}
const endpointOf = (request: HttpServerRequest.HttpServerRequest) => `${request.method} ${pathOf(request)}`

/** What to send instead, for the endpoints whose body is easy to get wrong. */
const hintOf = (request: HttpServerRequest.HttpServerRequest) =>
  request.method === "POST" && /^\/api\/v1\/apps\/?$/.test(pathOf(request))
    ? `send {"name": "my-app"} (lowercase letters, digits and dashes) with Content-Type application/json`
    : "see GET /api/v1/openapi.json"

/** The JSON answer of a failed request, or undefined for a cause it does not know (a 500). */
const known = (
  request: HttpServerRequest.HttpServerRequest,
  error: Tagged,
): Option.Option<[number, ErrorBody]> => {
  const where = endpointOf(request)
  if (error._tag === "HttpServerError" && error.reason?._tag === "RouteNotFound")
    return Option.some([
      404,
      {
        error: "not_found",
        message: `no endpoint ${where}; every endpoint is listed in GET /api/v1/openapi.json`,
      },
    ])
  if (error._tag === "HttpApiSchemaError" && typeof error.kind === "string" && error.kind in PART)
    return Option.some([
      400,
      {
        error: "bad_request",
        message: `${PART[error.kind]} of ${where} is not what it expects: ${issueText(error.cause)}; ${hintOf(request)}`,
      },
    ])
  if (error._tag === "HttpApiPayloadTooLarge")
    return Option.some([
      413,
      { error: "payload_too_large", message: `the body of ${where} is larger than it accepts` },
    ])
  return Option.none()
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  503: "unavailable",
}

const UNSUPPORTED = /^Unsupported content-type: (.*)$/

/** An error answer that is not JSON (empty, or text): the same answer as JSON. */
const asJson = (
  response: HttpServerResponse.HttpServerResponse,
  request: HttpServerRequest.HttpServerRequest,
) => {
  const body = response.body
  if (body._tag === "Uint8Array" && body.contentType.startsWith("application/json")) return response
  // A text body holds its string as it was given (HttpServerResponse.text), a raw one its bytes.
  const raw: unknown = body._tag === "Uint8Array" ? body.body : ""
  const text = (typeof raw === "string" ? raw : new TextDecoder().decode(raw as Uint8Array)).trim()
  const status = response.status
  const media = UNSUPPORTED.exec(text)
  if (status === 415 && media) return json(415, unsupportedContentType(media[1]!))
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? "internal" : "bad_request")
  const message =
    text !== "" ? text : status >= 500 ? internalError.message : `${endpointOf(request)} answered ${status}`
  // The answer's own headers (Retry-After, WWW-Authenticate, …), but not its old body's length and
  // type: a content-length of the text with the longer JSON body made Node drop the connection.
  const kept: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers))
    if (name !== "content-length" && name !== "content-type") kept[name] = value
  return HttpServerResponse.setHeaders(json(status, { error: code, message }), kept)
}

/** The middleware (global: every route, and requests no route matches). */
export const ErrorBodies = HttpRouter.middleware(
  (httpEffect) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const response = yield* httpEffect.pipe(
        Effect.catchCause((cause) => {
          if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
          const error = (Cause.squash(cause) ?? {}) as Tagged
          const answer = known(request, error)
          if (Option.isSome(answer)) return Effect.succeed(json(...answer.value))
          return Effect.as(Effect.logError(`${endpointOf(request)} failed`, cause), json(500, internalError))
        }),
      )
      return response.status >= 400 ? asJson(response, request) : response
    }),
  { global: true },
)
