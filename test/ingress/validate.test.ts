/** Poison input: what becomes a key or a column is checked; a bad line is refused, the rest of the body kept. */
import { describe, expect, it } from "vitest"
import { parseBody } from "../../src/ingress/DrainParser.ts"
import { cleanText, cutUtf8, MAX_ACTOR, MAX_DESCRIPTION } from "../../src/ingress/Validate.ts"

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

  it("cuts over-long text by UTF-8 bytes and keeps tabs and newlines", () => {
    expect(cleanText("a\tb\nc", MAX_DESCRIPTION)).toBe("a\tb\nc")
    expect(cleanText("x".repeat(MAX_DESCRIPTION + 10), MAX_DESCRIPTION)).toBe("x".repeat(MAX_DESCRIPTION))
    // 3-byte characters: 341 of them fit in 1024 bytes, the 342nd would not.
    expect(cleanText("€".repeat(2000), MAX_DESCRIPTION)).toBe("€".repeat(341))
    // A control character becomes U+FFFD (3 bytes): the cut counts what is stored.
    const controls = cleanText("\u0001".repeat(2000), MAX_DESCRIPTION)
    expect(Buffer.byteLength(controls)).toBeLessThanOrEqual(MAX_DESCRIPTION)
    expect(controls).toBe("\uFFFD".repeat(341))
  })

  it("never splits a character: the cut is the longest prefix of whole characters within the bytes", () => {
    // An oracle of its own: encode each code point and stop before the one that would not fit.
    const byCodePoints = (text: string, max: number) => {
      let bytes = 0
      let out = ""
      for (const ch of text) {
        const size = Buffer.byteLength(ch)
        if (bytes + size > max) break
        bytes += size
        out += ch
      }
      return out
    }
    const pieces = ["a", "é", "€", "𝄞", "\ud800", "\udc00", "\u0000", "\t"]
    for (let seed = 0; seed < 2000; seed++) {
      let text = ""
      let x = seed * 2654435761
      const length = seed % 700
      for (let k = 0; k < length; k++) {
        x = (x * 1103515245 + 12345) >>> 0
        text += pieces[x % pieces.length]
      }
      const max = [1, 2, 3, 4, 5, 64, 256, 1024][seed % 8]!
      const cut = cutUtf8(text, max)
      expect(cut).toBe(byCodePoints(text, max))
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max)
    }
  })

  it("an event with a 2,000-character multibyte description is cut to 1 KiB, its actor to 256 bytes", () => {
    const { parser } = parseBody(
      Buffer.from(
        frame(
          `<45>1 2026-11-28T12:00:00.000000+00:00 host app api - Deploy ${"ü€".repeat(1000)} by ${"ä".repeat(1000)}`,
        ),
      ),
    )
    const [e] = parser.measurements
    expect(e?.type).toBe("PLATFORM_EVENTS")
    if (e?.type !== "PLATFORM_EVENTS") return
    expect(Buffer.byteLength(e.description)).toBeLessThanOrEqual(MAX_DESCRIPTION)
    expect(Buffer.byteLength(e.description)).toBeGreaterThan(MAX_DESCRIPTION - 4)
    expect(`Deploy ${"ü€".repeat(1000)}`.startsWith(e.description)).toBe(true)
    expect(e.actor).toBe("ä".repeat(MAX_ACTOR / 2))
  })

  it("refuses a router status outside 100-599 or not an integer, keeps lines without one", () => {
    const line = (status: string) =>
      frame(
        `<158>1 2026-11-28T12:00:00.000000+00:00 host heroku router - at=info method=GET path="/" dyno=web.1 connect=1ms service=5ms${status} bytes=10`,
      )
    const good = ["status=100", "status=200", "status=503", "status=599", "", "status=", 'status=""']
    const bad = [
      "status=99999999999999999999",
      "status=0",
      "status=99",
      "status=600",
      "status=-200",
      "status=200.5",
      "status=2e2",
      "status=200abc",
      "status=abc",
      'status="200 OK"',
    ]
    const { parser } = parseBody(Buffer.from([...good, ...bad].map((s) => line(s ? ` ${s}` : "")).join("")))
    expect(parser.measurements.map((m) => m.type === "ROUTER_REQUESTS" && m.status)).toEqual([
      100, 200, 503, 599, 0, 0, 0,
    ])
    expect(Object.fromEntries(parser.refused)).toEqual({ status: bad.length })
  })
})
