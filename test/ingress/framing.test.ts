import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DrainParser } from "../../src/ingress/DrainParser.ts"
import { FrameReader } from "../../src/ingress/Framing.ts"

const frame = (msg: string) => {
  const bytes = Buffer.from(msg, "utf8")
  return Buffer.concat([Buffer.from(`${bytes.length} `), bytes])
}
const read = (chunks: ReadonlyArray<Buffer>) => {
  const reader = new FrameReader()
  const frames: Array<string> = []
  for (const c of chunks) if (!reader.push(c, (f) => frames.push(f.toString("utf8")))) break
  return { frames, error: reader.end() }
}

describe("octet-counted framing", () => {
  it("counts bytes, not characters", () => {
    const msg = "<13>1 2026-11-28T12:00:00Z host app web.1 - héllo ✓\n"
    expect(read([frame(msg), frame("x")]).frames).toEqual([msg, "x"])
  })

  it("reports where framing broke and keeps the frames before it", () => {
    const body = Buffer.concat([frame("first"), frame("second"), Buffer.from("garbage"), frame("after")])
    const { frames, error } = read([body])
    expect(frames).toEqual(["first", "second"])
    expect(error).toEqual({
      offset: frame("first").length + frame("second").length,
      reason: expect.stringContaining("frame length"),
    })
  })

  it("a body that ends inside a frame is an error at that frame's start", () => {
    const body = Buffer.concat([frame("whole"), Buffer.from("10 abc")])
    expect(read([body])).toEqual({
      frames: ["whole"],
      error: { offset: frame("whole").length, reason: expect.stringContaining("ends inside") },
    })
  })

  it("tolerates line breaks between frames, refuses absurd lengths", () => {
    expect(
      read([Buffer.concat([frame("a"), Buffer.from("\r\n"), frame("b"), Buffer.from("\n")])]).frames,
    ).toEqual(["a", "b"])
    expect(read([Buffer.from("99999999 x")]).error?.reason).toMatch(/more than 6 digits/)
    expect(read([Buffer.from("70000 x")]).error?.reason).toMatch(/exceeds/)
    expect(read([Buffer.from("0 ")]).error?.reason).toMatch(/is 0/)
  })

  it("a length or a message cut by a chunk: the same frames and the same errors as whole", () => {
    const split = (s: string) => [...s].map((c) => Buffer.from(c))
    expect(read(split("3 abc12 hello world!"))).toEqual(read([Buffer.from("3 abc12 hello world!")]))
    expect(read(split("3 abc12 hello world!")).frames).toEqual(["abc", "hello world!"])
    for (const body of [
      "3 abc12",
      "3 abc12 hel",
      "3 abc1234567 x",
      "3 abc0 x",
      "3 abc70000 x",
      "3 abc5x",
      "3 abc\r\n",
    ])
      expect(read(split(body))).toEqual(read([Buffer.from(body)]))
    expect(read([Buffer.from("3 abc1"), Buffer.from("2")]).error).toEqual({
      offset: 5,
      reason: "body ends inside a frame (2 bytes of it received)",
    })
    expect(read([Buffer.from("3 abc12 he"), Buffer.from("l")]).error).toEqual({
      offset: 5,
      reason: "body ends inside a frame (6 bytes of it received)",
    })
  })

  it("property: valid frames come out exact however the body is split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", minLength: 1, maxLength: 300 }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, cuts) => {
          const body = Buffer.concat(messages.map(frame))
          const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b)
          const chunks: Array<Buffer> = []
          let last = 0
          for (const p of [...points, body.length]) {
            chunks.push(body.subarray(last, p))
            last = p
          }
          const got = read(chunks)
          expect(got.error).toBeUndefined()
          expect(got.frames).toEqual(messages.map((m) => Buffer.from(m, "utf8").toString("utf8")))
        },
      ),
      { numRuns: 300 },
    )
  })

  it("property: random and mutated bodies never throw; frames before the break are exact", () => {
    const lines = fc.array(
      fc.oneof(
        fc.constant(
          '<158>1 2026-11-28T12:00:00.123456+00:00 host heroku router - at=info method=GET path="/" dyno=web.1 connect=1ms service=2ms status=200 bytes=3\n',
        ),
        fc.constant(
          "<134>1 2026-11-28T12:00:01+00:00 host heroku web.1 - source=web.1 sample#memory_total=1.00MB\n",
        ),
        fc.string({ unit: "binary", maxLength: 120 }),
      ),
      { minLength: 1, maxLength: 12 },
    )
    fc.assert(
      fc.property(
        lines,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        (msgs, mutations) => {
          const body = Buffer.concat(msgs.map(frame))
          for (const [at, byte] of mutations) if (body.length > 0) body[at % body.length] = byte
          const parser = new DrainParser()
          parser.push(body)
          const error = parser.end()
          if (error) {
            expect(error.offset).toBeGreaterThanOrEqual(0)
            expect(error.offset).toBeLessThanOrEqual(body.length)
            // Re-parsing exactly the bytes before the break gives the same frames and no error.
            const before = new DrainParser()
            before.push(body.subarray(0, error.offset))
            expect(before.end()).toBeUndefined()
            expect(before.frames).toBe(parser.frames)
            expect(before.measurements).toEqual(parser.measurements)
          }
          expect(parser.frames).toBe(parser.ignored + parser.malformed + countLines(parser))
        },
      ),
      { numRuns: 500 },
    )
  })
})

/** Frames that yielded measurements (one frame may yield several, e.g. memory and load, or H-code). */
const countLines = (p: DrainParser) => p.frames - p.ignored - p.malformed
