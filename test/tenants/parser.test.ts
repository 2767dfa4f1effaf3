/**
 * The drain parser on tenant text (issue 24): every byte of framing and classification is linear in the
 * bytes received, whatever the chunking or the text, and it reads every line as before.
 *
 * - The hand-written message readers of Classify.ts give what the regular expressions they replaced gave
 *   (the oracle below is those expressions, copied) on adversarial text built from the patterns' pieces.
 * - logfmt gives what the version before it gave (copied below) on arbitrary text.
 * - A body gives the same measurements, refusals, counts and framing error however it is chunked.
 * - Adversarial lines (each aimed at what a backtracking pattern or a re-scanning loop is weak to) cost
 *   time linear in their length: a MiB of 60 KB lines costs about what a MiB of 1 KB lines does (a
 *   quadratic reader pays 60 times more), and a MiB fed in 1-byte chunks costs about what the whole MiB
 *   does per byte. Timings compare two runs of one process with the minimum of several tries; the
 *   absolute bounds are generous (the attacks took 16-24 s before; here they take milliseconds).
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { EventKind, Measurement } from "../../src/domain/Measurement.ts"
import { classify, logfmt } from "../../src/ingress/Classify.ts"
import { DrainParser } from "../../src/ingress/DrainParser.ts"
import { FrameReader } from "../../src/ingress/Framing.ts"
import { fixtures } from "../support/shared.ts"

const T = 1_795_867_200_000_000

// ---------------------------------------------------------------------------------------------------
// The oracle: the classifiers of API, dyno and Logplex lines as they were, with their regular expressions.

const processTypeOf = (dyno: string) => {
  const dot = dyno.indexOf(".")
  return dot < 0 ? dyno : dyno.slice(0, dot)
}
const ERROR_CODE = /^Error ([HRL]\d\d) \(([^)]*)\)/
const DROPPED = /(?:^|\s)(\d+) messages dropped|dropped (\d+) messages/
const STATE = /^State changed from (\S+) to (\S+)/
const API_EVENTS: ReadonlyArray<readonly [RegExp, EventKind]> = [
  [/^(Release v\d+)(?: created)? by (?:user )?(.+)$/, "release"],
  [/^(Rollback to v\d+) by (?:user )?(.+)$/, "release"],
  [/^(Deploy \S+) by (?:user )?(.+)$/, "deploy"],
  [/^(Scaled? to .+?) by (?:user )?(.+)$/, "scale"],
  [/^((?:Set|Unset|Remove) .+? config vars?) by (?:user )?(.+)$/, "config"],
]

/** The old dyno line classifier, but for runtime metrics (`source=` lines, read by logfmt). */
const oldDyno = (msg: string, procId: string): Array<Measurement> => {
  const base = { processType: processTypeOf(procId), dyno: procId, timeUs: T }
  const m = ERROR_CODE.exec(msg)
  if (m) return [{ type: "ERRORS", ...base, code: m[1]!, count: 1, description: m[2]! }]
  let kind: EventKind | undefined
  const state = STATE.exec(msg)
  if (state) kind = state[2] === "crashed" ? "crash" : "state"
  else if (msg.startsWith("Process exited with status") || msg.startsWith("Stopping all processes with SIG"))
    kind = "state"
  else if (msg.startsWith("Restarting") || msg.startsWith("Cycling")) kind = "restart"
  if (kind === undefined) return []
  return [{ type: "PLATFORM_EVENTS", ...base, kind, process: procId, description: msg, actor: "" }]
}

const oldLogplex = (msg: string, procId: string): Array<Measurement> => {
  const m = ERROR_CODE.exec(msg)
  const newer = m ? undefined : /^drain '[^']*' dropped (\d+) messages/.exec(msg)
  if (!m && !newer) return []
  const dropped = DROPPED.exec(msg)
  const count = dropped ? Number(dropped[1] ?? dropped[2]) : 1
  return [
    {
      type: "ERRORS",
      processType: procId === "logplex" ? "logplex" : processTypeOf(procId),
      dyno: "",
      timeUs: T,
      code: m ? m[1]! : "L10",
      count,
      description: m ? m[2]! : "output buffer overflow",
    },
  ]
}

const oldApi = (msg: string): Array<Measurement> => {
  for (const [pattern, kind] of API_EVENTS) {
    const m = pattern.exec(msg)
    if (!m) continue
    return [
      {
        type: "PLATFORM_EVENTS",
        processType: "api",
        dyno: "",
        timeUs: T,
        kind,
        process: "api",
        description: m[1]!,
        actor: m[2]!.trim(),
      },
    ]
  }
  return []
}

/** What the old classify gave for a line of `app`/`proc` that is not a router or runtime-metrics line. */
const oldClassify = (app: string, proc: string, msg: string): Array<Measurement> => {
  if (proc === "api" && (app === "app" || app === "heroku")) return oldApi(msg)
  if (app !== "heroku") return []
  if (msg.startsWith("Error L1") || msg.startsWith("drain '")) return oldLogplex(msg, proc)
  if (proc === "logplex") return []
  return oldDyno(msg, proc)
}

const oldLogfmt = (msg: string): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  const n = msg.length
  let i = 0
  while (i < n) {
    while (i < n && msg.charCodeAt(i) === 0x20) i++
    const eq = msg.indexOf("=", i)
    if (eq < 0) return out
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
    out.push([key, value])
  }
  return out
}

const classified = (app: string, proc: string, msg: string): Array<Measurement> => {
  const out: Array<Measurement> = []
  expect(classify(app, proc, msg, T, out)).toBe(out.length)
  return out
}

// ---------------------------------------------------------------------------------------------------
// Adversarial text: the pieces the patterns are made of, line breaks, every kind of space, digits.

const PIECES = [
  "Release v",
  "Rollback to v",
  "Deploy ",
  "Scale to ",
  "Scaled to ",
  "Scale",
  "Scaled",
  "Set ",
  "Unset ",
  "Remove ",
  " config var",
  " config vars",
  "s",
  " created",
  " to ",
  " by ",
  " by",
  "by ",
  "user ",
  "user",
  "12",
  "7",
  "0",
  "v",
  "x",
  "é",
  "𝄞",
  " ",
  "  ",
  "\t",
  "\n",
  "\r",
  "\u2028",
  "\u2029",
  "\u00a0",
  "\u3000",
  "\ufeff",
  "\u180e",
  "\u000b",
  "Error ",
  "H12",
  "R14",
  "L10",
  "X12",
  "H1",
  " (",
  "(",
  ")",
  "State changed from ",
  "crashed",
  "up",
  "drain '",
  "'",
  " dropped ",
  "dropped ",
  " messages",
  " messages dropped",
  "Restarting",
  "Cycling",
  "Process exited with status",
  "Stopping all processes with SIG",
  "=",
  '"',
]
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((p) => p.join(""))
/** Text that starts like a pattern, so that the rest of it is read. */
const headed = fc
  .tuple(
    fc.constantFrom(
      "Release v",
      "Rollback to v",
      "Deploy ",
      "Scale to ",
      "Scaled to ",
      "Set ",
      "Unset ",
      "Remove ",
      "Error H",
      "Error L10 (",
      "State changed from ",
      "drain '",
      "",
    ),
    text,
  )
  .map(([head, rest]) => head + rest)
const anyText = fc.oneof(
  headed,
  text,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
)

describe("the message readers read what the regular expressions they replaced read", () => {
  it.each([
    ["app", "api"],
    ["heroku", "api"],
    ["heroku", "web.1"],
    ["heroku", "logplex"],
    ["heroku", "worker.2"],
  ])("property: %s %s lines", (app, proc) => {
    fc.assert(
      fc.property(anyText, (msg) => {
        expect(classified(app, proc, msg)).toEqual(oldClassify(app, proc, msg))
      }),
      { numRuns: 4000 },
    )
  })

  it("every UTF-16 code unit, as a space, a line break or a character of a description", () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c)
      for (const [app, proc, msg] of [
        ["app", "api", `Deploy a${ch}b by x`],
        ["app", "api", `Deploy ab${ch}by x`],
        ["app", "api", `Scale to web=1${ch} by ada${ch}`],
        ["app", "api", `Set A config vars by${ch}`],
        ["heroku", "web.1", `State changed from up${ch}to crashed`],
        ["heroku", "web.1", `State changed from up to ${ch}crashed`],
        ["heroku", "logplex", `Error L10 (x):${ch}12 messages dropped`],
      ] as const)
        if (JSON.stringify(classified(app, proc, msg)) !== JSON.stringify(oldClassify(app, proc, msg)))
          expect([c.toString(16), classified(app, proc, msg)]).toEqual([
            c.toString(16),
            oldClassify(app, proc, msg),
          ])
    }
  })

  it("the legitimate lines of each kind", () => {
    for (const [app, proc, msg] of [
      ["app", "api", "Release v42 created by user ada@example.com"],
      ["app", "api", "Release v42 by ada@example.com"],
      ["heroku", "api", "Rollback to v41 by user ada@example.com"],
      ["app", "api", "Deploy 1a2b3c4 by user ada@example.com"],
      ["app", "api", "Scale to web=3, worker=1 by user ada@example.com"],
      ["app", "api", "Scaled to web@2:Standard-1X by user ada@example.com"],
      ["app", "api", "Set FOO, BAR config vars by user ada@example.com"],
      ["app", "api", "Unset FOO config var by ada@example.com"],
      ["app", "api", "Remove FOO config vars by user user"],
      ["heroku", "web.1", "Error R14 (Memory quota exceeded)"],
      ["heroku", "web.1", "State changed from up to crashed"],
      ["heroku", "web.1", "State changed from starting to up"],
      [
        "heroku",
        "logplex",
        "Error L10 (output buffer overflow): 12 messages dropped since 2015-05-09T20:19:03+00:00.",
      ],
      ["heroku", "logplex", "drain 'd.8c5a1b8e' dropped 7 messages since 2024-01-01T00:00:00+00:00."],
      ["heroku", "web.1", "Error L10 (output buffer overflow): 3 messages dropped"],
    ] as const) {
      const got = classified(app, proc, msg)
      expect(got).toHaveLength(1)
      expect(got).toEqual(oldClassify(app, proc, msg))
    }
  })
})

describe("logfmt", () => {
  const logfmtText = fc
    .array(
      fc.constantFrom("a", "key", "=", '"', " ", "  ", "v", "x=1", 'q="a b"', "sample#memory_rss", "é"),
      {
        maxLength: 20,
      },
    )
    .map((p) => p.join(""))
  it("property: the same pairs as the version before it", () => {
    fc.assert(
      fc.property(fc.oneof(logfmtText, fc.string({ maxLength: 40 })), (msg) => {
        const got: Array<[string, string]> = []
        logfmt(msg, (k, v) => got.push([k, v]))
        expect(got).toEqual(oldLogfmt(msg))
      }),
      { numRuns: 5000 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------
// Chunking.

const frame = (msg: string | Buffer) => {
  const bytes = typeof msg === "string" ? Buffer.from(msg, "utf8") : msg
  return Buffer.concat([Buffer.from(`${bytes.length} `), bytes])
}
const line = (app: string, proc: string, msg: string) =>
  `<134>1 2026-11-28T12:00:00.123456+00:00 host ${app} ${proc} - ${msg}\n`

/** Every frame of every fixture body: real lines. */
const fixtureFrames = (() => {
  const out: Array<Buffer> = []
  for (const name of readdirSync(fixtures).filter((f) => f.endsWith(".body"))) {
    const reader = new FrameReader()
    reader.push(readFileSync(join(fixtures, name)), (f) => out.push(Buffer.from(f)))
  }
  return out
})()

interface Parsed {
  readonly measurements: ReadonlyArray<Measurement>
  readonly refused: Record<string, number>
  readonly frames: number
  readonly ignored: number
  readonly malformed: number
  readonly error: unknown
}

const parseChunks = (chunks: Iterable<Uint8Array>): Parsed => {
  const p = new DrainParser()
  for (const c of chunks) if (!p.push(c)) break
  const error = p.end()
  return {
    measurements: p.measurements,
    refused: Object.fromEntries(p.refused),
    frames: p.frames,
    ignored: p.ignored,
    malformed: p.malformed,
    error,
  }
}

function* splitAt(body: Buffer, points: ReadonlyArray<number>) {
  let last = 0
  for (const p of [...points].sort((a, b) => a - b)) {
    yield body.subarray(last, p)
    last = p
  }
  yield body.subarray(last)
}

function* bytes(body: Buffer) {
  for (let i = 0; i < body.length; i++) yield body.subarray(i, i + 1)
}

describe("chunking", () => {
  const frames = fc.oneof(
    fc.constantFrom(...fixtureFrames).map(frame),
    fc
      .tuple(
        fc.constantFrom(["app", "api"], ["heroku", "web.1"], ["heroku", "logplex"], ["heroku", "router"]),
        anyText,
      )
      .map(([[app, proc], msg]) => frame(line(app!, proc!, msg))),
    fc
      .constantFrom(
        "status=99999999999999999999",
        "status=0",
        "status=503",
        "status=",
        "dyno=web.1\u0000 status=200",
        "dyno=web.1 code=H1'2 status=503",
      )
      .map((s) => frame(line("heroku", "router", `at=info method=GET path="/" ${s}`))),
    fc.string({ unit: "binary", minLength: 1, maxLength: 200 }).map(frame),
  )
  const body = fc
    .tuple(
      fc.array(frames, { minLength: 1, maxLength: 12 }),
      fc.constantFrom("", "\n", "\r\n", "garbage", "0 ", "1234567 x", "70000 x", "12", "12 abc"),
    )
    .map(([fs, tail]) => Buffer.concat([...fs, Buffer.from(tail)]))

  it("property: any split points give what the whole body gives; so do 1-byte chunks", () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 20 }), (b, cuts) => {
        const whole = parseChunks([b])
        const points = cuts.map((c) => c % (b.length + 1))
        expect(parseChunks(splitAt(b, points))).toEqual(whole)
        expect(parseChunks(bytes(b))).toEqual(whole)
      }),
      { numRuns: 400 },
    )
  })

  it("property: a framing error is where it is in the whole body, however the body is chunked", () => {
    fc.assert(
      fc.property(
        body,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (generated, mutations, cuts) => {
          const b = Buffer.from(generated)
          for (const [at, byte] of mutations) b[at % b.length] = byte
          const whole = parseChunks([b])
          expect(
            parseChunks(
              splitAt(
                b,
                cuts.map((c) => c % (b.length + 1)),
              ),
            ),
          ).toEqual(whole)
          expect(parseChunks(bytes(b))).toEqual(whole)
        },
      ),
      { numRuns: 400 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------
// Linear time.

/**
 * Adversarial messages of about `size` bytes, each aimed at a weakness of a pattern or a loop. A line
 * break that should stay in the message is a CR: the syslog reader drops one trailing LF.
 */
const ATTACKS: ReadonlyArray<
  readonly [name: string, app: string, proc: string, make: (size: number) => string]
> = [
  ["Scale to + ' by'×N + line break", "app", "api", (n) => `Scale to${" by".repeat(n / 3)}\r`],
  ["Scale to + ' by'×N", "app", "api", (n) => `Scale to${" by".repeat(n / 3)}`],
  ["Set + ' config var'×N + line break", "app", "api", (n) => `Set x${" config var".repeat(n / 11)}\r`],
  [
    "Set + ' config vars by'×N + line break",
    "heroku",
    "api",
    (n) => `Set x${" config vars by".repeat(n / 15)}\r`,
  ],
  ["Release v + digits", "app", "api", (n) => `Release v${"1".repeat(n)} by x\r`],
  ["Deploy + long word", "app", "api", (n) => `Deploy ${"x".repeat(n)} b`],
  ["State changed from + long word", "heroku", "web.1", (n) => `State changed from ${"x".repeat(n)}`],
  ["State changed from + ' to'×N", "heroku", "web.1", (n) => `State changed from a${" to".repeat(n / 3)}`],
  ["Error H12 ( without )", "heroku", "web.1", (n) => `Error H12 (${"x".repeat(n)}`],
  ["Error L10 + ' 1'×N", "heroku", "logplex", (n) => `Error L10 (x)${" 1".repeat(n / 2)}`],
  ["Error L10 + digits", "heroku", "logplex", (n) => `Error L10 (x) ${"1".repeat(n)}`],
  ["Error L10 + 'dropped '×N", "heroku", "logplex", (n) => `Error L10 (x) ${"dropped 1 ".repeat(n / 10)}`],
  ["drain ' without '", "heroku", "logplex", (n) => `drain '${"x".repeat(n)}`],
  [
    "source= + bare words then =",
    "heroku",
    "web.1",
    (n) => `source=web.1 ${"a ".repeat(n / 2)}sample#memory_rss=1MB`,
  ],
  [
    "source= + quoted values without spaces",
    "heroku",
    "web.1",
    (n) => `source=web.1 ${'a="x"'.repeat(n / 5)}`,
  ],
  ["source= + '='×N", "heroku", "web.1", (n) => `source=web.1 ${"=".repeat(n)}`],
  ["source= + spaces", "heroku", "web.1", (n) => `source=web.1${" ".repeat(n)}x`],
  ["router + bare words then =", "heroku", "router", (n) => `${"a ".repeat(n / 2)}status=200`],
  ["router + quoted values without spaces", "heroku", "router", (n) => `at=info ${'a="x"'.repeat(n / 5)}`],
  ["router + '='×N", "heroku", "router", (n) => `at=${"=".repeat(n)}`],
  ["router + quotes", "heroku", "router", (n) => `at=info ${'a="'.repeat(n / 3)}`],
  [
    "event with multibyte text",
    "heroku",
    "web.1",
    (n) => `State changed from a to b${"é€\u0001".repeat(n / 6)}`,
  ],
]

/** A body of ~`total` bytes of frames holding messages of ~`size` bytes. */
const attackBody = (app: string, proc: string, make: (n: number) => string, size: number, total: number) => {
  const f = frame(line(app, proc, make(size)).slice(0, -1))
  return Buffer.concat(Array.from({ length: Math.max(1, Math.round(total / f.length)) }, () => f))
}
/** Bodies whose frame is one syslog header with no spaces, or structured data of many brackets. */
const headerBody = (kind: "no-spaces" | "brackets" | "escapes", size: number, total: number) => {
  const msg =
    kind === "no-spaces"
      ? `<134>${"1".repeat(size)}`
      : kind === "brackets"
        ? `<134>1 2026-11-28T12:00:00Z host heroku web.1 - ${"[".repeat(size)}`
        : `<134>1 2026-11-28T12:00:00Z host heroku web.1 - [${"\\]".repeat(size / 2)}`
  const f = frame(msg)
  return Buffer.concat(Array.from({ length: Math.max(1, Math.round(total / f.length)) }, () => f))
}

/** The least of `tries` CPU times of `f`, in ms (the least is the run the machine disturbed least). */
const cost = (f: () => void, tries = 5) => {
  let best = Number.POSITIVE_INFINITY
  for (let k = 0; k < tries; k++) {
    const start = performance.now()
    f()
    best = Math.min(best, performance.now() - start)
  }
  return best
}

const MiB = 1 << 20
const SMALL = 1_000
const LARGE = 60_000

describe("linear time on adversarial text", () => {
  it.each(ATTACKS)("%s: a MiB of 60 KB lines costs about a MiB of 1 KB lines", (_name, app, proc, make) => {
    const small = attackBody(app, proc, make, SMALL, MiB)
    const large = attackBody(app, proc, make, LARGE, MiB)
    // The attack line is a line the parser reads to its end (not one dropped early as malformed).
    expect(parseChunks([large]).malformed).toBe(0)
    const tSmall = cost(() => parseChunks([small]))
    const tLarge = cost(() => parseChunks([large]))
    // Linear: about 1 (fewer frames, less per-frame work); quadratic: 60. Bounded at 4, plus slack for
    // timer noise on runs of a few ms.
    expect(tLarge).toBeLessThan(4 * tSmall + 20)
    expect(tLarge).toBeLessThan(2000)
  })

  it.each(["no-spaces", "brackets", "escapes"] as const)("syslog header with %s", (kind) => {
    const tSmall = cost(() => parseChunks([headerBody(kind, SMALL, MiB)]))
    const tLarge = cost(() => parseChunks([headerBody(kind, LARGE, MiB)]))
    expect(tLarge).toBeLessThan(4 * tSmall + 20)
  })

  it("a MiB of the worst lines in 1-byte chunks and in random chunks: within seconds, where it took 30 s", () => {
    // Every attack line, 60 KB each, to ~1 MiB.
    const body = Buffer.concat(ATTACKS.map(([, app, proc, make]) => attackBody(app, proc, make, LARGE, 1)))
    const whole = parseChunks([body])
    expect(whole.frames).toBe(ATTACKS.length)
    expect(whole.error).toBeUndefined()
    const started = performance.now()
    const byByte = parseChunks(bytes(body))
    const tBytes = performance.now() - started
    expect(byByte).toEqual(whole)
    // ~0.3 s here on a loaded machine, most of it making the 1.3 million chunks.
    expect(tBytes).toBeLessThan(4000)
    // Random chunks of 1 to 2,000 bytes.
    let x = 12345
    const points: Array<number> = []
    for (let p = 0; p < body.length; ) {
      x = (x * 1103515245 + 12345) >>> 0
      p += 1 + (x % 2000)
      if (p < body.length) points.push(p)
    }
    const t0 = performance.now()
    expect(parseChunks(splitAt(body, points))).toEqual(whole)
    expect(performance.now() - t0).toBeLessThan(2000)
  })

  it("1-byte chunks: a MiB of 60 KB frames costs about a MiB of 1 KB frames", () => {
    const make = (size: number) => attackBody("app", "web.1", (n) => "x".repeat(n), size, MiB)
    const small = make(SMALL)
    const large = make(LARGE)
    const tSmall = cost(() => parseChunks(bytes(small)), 3)
    const tLarge = cost(() => parseChunks(bytes(large)), 3)
    // Re-reading what was carried (the old framing) makes this 60: each byte cost the frame's length.
    expect(tLarge).toBeLessThan(4 * tSmall + 20)
    expect(tLarge).toBeLessThan(4000)
  })
})
