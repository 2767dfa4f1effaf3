/**
 * The one-pass router classifier reads every line as the logfmt-callback version it replaced did: the
 * reference below is that version, unchanged but for the status (issue 24: an integer in 100-599, else
 * -1 so that the line is refused); arbitrary router-like lines (quoted values, bare words,
 * repeated and unknown keys, numbers with and without units, signs, fractions and exponents) must give
 * the same measurements.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Measurement, RouterRequest } from "../../src/domain/Measurement.ts"
import { classify } from "../../src/ingress/Classify.ts"

const processTypeOf = (dyno: string) => {
  const dot = dyno.indexOf(".")
  return dot < 0 ? dyno : dyno.slice(0, dot)
}
const num = (text: string): number | undefined => {
  if (text.length === 0) return undefined
  const n = Number.parseFloat(text)
  return Number.isFinite(n) ? n : undefined
}
const logfmt = (msg: string, f: (key: string, value: string) => void): void => {
  const n = msg.length
  let i = 0
  while (i < n) {
    while (i < n && msg.charCodeAt(i) === 0x20) i++
    const eq = msg.indexOf("=", i)
    if (eq < 0) return
    const sp = msg.indexOf(" ", i)
    if (sp >= 0 && sp < eq) {
      i = sp + 1
      continue
    }
    const key = msg.slice(i, eq)
    let value: string
    if (msg.charCodeAt(eq + 1) === 0x22) {
      const close = msg.indexOf('"', eq + 2)
      const stop = close < 0 ? n : close
      value = msg.slice(eq + 2, stop)
      i = stop + 1
    } else {
      const stop = msg.indexOf(" ", eq + 1)
      value = msg.slice(eq + 1, stop < 0 ? n : stop)
      i = stop < 0 ? n : stop
    }
    f(key, value)
  }
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] }
/** The reference: the router classifier before the one-pass version. */
const reference = (msg: string, timeUs: number): Array<Measurement> => {
  const out: Array<Measurement> = []
  const v: Record<string, string> = {}
  const known =
    "at method path host request_id fwd dyno connect service status bytes protocol code desc".split(" ")
  logfmt(msg, (k, value) => {
    if (known.includes(k)) v[k] = value
  })
  const get = (k: string) => v[k] ?? ""
  if (get("at") === "" && get("status") === "" && get("code") === "") return out
  const dyno = get("dyno")
  const processType = dyno === "" ? "router" : processTypeOf(dyno)
  // A status is kept when it is an integer in 100-599; present and anything else is -1 (refused later).
  const statusText = get("status")
  const statusCode =
    statusText === ""
      ? 0
      : /^\d+$/.test(statusText) && +statusText >= 100 && +statusText <= 599
        ? +statusText
        : -1
  const request: Mutable<RouterRequest> = {
    type: "ROUTER_REQUESTS",
    processType,
    dyno,
    timeUs,
    at: get("at"),
    method: get("method"),
    path: get("path"),
    host: get("host"),
    requestId: get("request_id"),
    fwd: get("fwd"),
    status: statusCode,
    protocol: get("protocol"),
    code: get("code"),
    desc: get("desc"),
  }
  const connectMs = num(get("connect"))
  if (connectMs !== undefined) request.connectMs = connectMs
  const serviceMs = num(get("service"))
  if (serviceMs !== undefined) request.serviceMs = serviceMs
  const size = num(get("bytes"))
  if (size !== undefined) request.bytes = size
  out.push(request)
  if (request.code !== "")
    out.push({
      type: "ERRORS",
      processType,
      dyno,
      timeUs,
      code: request.code,
      count: 1,
      description: request.desc,
    })
  return out
}

const KEYS = [
  "at",
  "method",
  "path",
  "host",
  "request_id",
  "fwd",
  "dyno",
  "connect",
  "service",
  "status",
  "bytes",
  "protocol",
  "code",
  "desc",
  "sock",
  "tls_version",
  "a",
  "pathx",
  "codes",
  "stat",
  "",
]
const numeric = fc.oneof(
  fc.nat({ max: 100_000 }).map(String),
  fc.nat({ max: 9_999 }).map((n) => `${n}ms`),
  fc.constantFrom(
    "0",
    "007",
    "12.5ms",
    "1e3",
    "1E",
    "-5",
    "+7",
    " 12",
    "0x10",
    "Infinity",
    "",
    "ms",
    "123456789012345678",
    "999999999999999",
    "1234567890123456",
    "99999999999999999999",
    "99",
    "100",
    "599",
    "600",
    "0503",
  ),
  fc.double({ noNaN: true }).map(String),
)
const value = fc.oneof(
  numeric,
  fc.constantFrom("info", "error", "GET", "/a b", "web.1", "H12", "worker", "https"),
  fc.string({ maxLength: 12 }).filter((s) => !s.includes(" ") && !s.includes('"')),
)
const field = fc.oneof(
  fc
    .tuple(fc.constantFrom(...KEYS), value, fc.boolean())
    .map(([k, v, quoted]) => (quoted ? `${k}="${v}"` : `${k}=${v}`)),
  fc.constantFrom("bare", "word", "=", '"', 'x="unterminated', "k=v=w"),
)
const line = fc
  .array(field, { maxLength: 18 })
  .chain((fields) => fc.constantFrom(" ", "  ").map((sep) => fields.join(sep)))

describe("router lines, one pass", () => {
  it("property: the same measurements as the logfmt-callback classifier", () => {
    fc.assert(
      fc.property(line, (msg) => {
        const out: Array<Measurement> = []
        classify("heroku", "router", msg, 1_795_867_200_000_000, out)
        expect(out).toEqual(reference(msg, 1_795_867_200_000_000))
      }),
      { numRuns: 3000 },
    )
  })

  it("real router lines", () => {
    for (const msg of [
      'at=info method=GET path="/a b" host=x.herokuapp.com request_id=r1 fwd="1.2.3.4,5.6.7.8" dyno=worker.3 connect=1ms service=22ms status=201 bytes=656 protocol=https tls_version=tls1.3',
      'sock=client at=warning code=H27 desc="Client Request Interrupted" method=POST path="/" host=h request_id=r2 fwd="1.1.1.1" dyno=web.1 connect=0ms service=5ms status=499 bytes=0',
      'at=error code=H12 desc="Request timeout" method=GET path="/" host=h request_id=r3 fwd="1.1.1.1" dyno=web.2 connect=1 service=30000 status=503 bytes=0 protocol=https',
    ]) {
      const out: Array<Measurement> = []
      classify("heroku", "router", msg, 1, out)
      expect(out).toEqual(reference(msg, 1))
    }
  })
})
