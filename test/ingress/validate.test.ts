/** Poison input: what becomes a key or a column is checked; a bad line is refused, the rest of the body kept. */
import { describe, expect, it } from "vitest"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import { cleanText, MAX_TEXT } from "../../src/ingress/Validate.ts"

const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`
const router = (dyno: string, status = 200) =>
  frame(
    `<158>1 2026-11-28T12:00:00.000000+00:00 host heroku router - at=info method=GET path="/" host=a.herokuapp.com request_id=r fwd="1.2.3.4" dyno=${dyno} connect=1ms service=5ms status=${status} bytes=10 protocol=https`,
  )
const routerError = (code: string) =>
  frame(
    `<158>1 2026-11-28T12:00:00.000000+00:00 host heroku router - at=error code=${code} desc="Request timeout" method=GET path="/" host=a.herokuapp.com request_id=r fwd="1.2.3.4" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`,
  )
const event = (description: string) =>
  frame(`<45>1 2026-11-28T12:00:00.000000+00:00 host heroku web.1 - ${description}`)

describe("poison input", () => {
  it("refuses a line whose dyno holds a NUL byte or whose process type is 300 characters, keeping the others", () => {
    const body = [
      router("web.1"),
      router("web.2\u0000"),
      router(`${"w".repeat(300)}.1`),
      router("worker.3"),
    ].join("")
    const { parser, error } = parseBody(Buffer.from(body))
    expect(error).toBeUndefined()
    expect(parser.measurements.map((m) => m.processType)).toEqual(["web", "worker"])
    expect(Object.fromEntries(parser.refused)).toEqual({ dyno: 1, process_type: 1 })
  })

  it("refuses an error code that is not a short word, and both measurements of its line", () => {
    const { parser } = parseBody(Buffer.from(routerError("H12") + routerError("H1'2;--")))
    expect(parser.measurements.map((m) => m.type)).toEqual(["ROUTER_REQUESTS", "ERRORS"])
    expect(Object.fromEntries(parser.refused)).toEqual({ label: 1 })
  })

  it("keeps platform events, with control characters in their text replaced", () => {
    const { parser } = parseBody(Buffer.from(event("State changed from starting to up\u0000!")))
    expect(parser.measurements).toHaveLength(1)
    const e = parser.measurements[0]!
    expect(e.type === "PLATFORM_EVENTS" && e.description).toBe("State changed from starting to up\uFFFD!")
  })

  it("cuts over-long text and keeps tabs and newlines", () => {
    expect(cleanText("a\tb\nc")).toBe("a\tb\nc")
    expect(cleanText("x".repeat(MAX_TEXT + 10))).toHaveLength(MAX_TEXT)
  })
})
