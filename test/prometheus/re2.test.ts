/**
 * Re2.ts: Prometheus' label regular expressions (RE2 syntax, fully anchored) matched in linear time.
 * The oracle for the syntax both engines share is JavaScript's own RegExp, anchored as Prometheus
 * anchors (`^(?:re)$`); RE2's differences and refusals are spelled out; the patterns that make a
 * backtracking engine take exponential time are bounded.
 */
import { describe, expect, it } from "vitest"
import { compileRe2, MAX_PROGRAM, Re2Error } from "../../src/query/Re2.ts"

const PATTERNS = [
  "tally_.*",
  "tally_router_(status|service_ms)_(count|p9[59])",
  "5..",
  "2..|3..",
  "[a-z][a-z0-9-]{0,62}",
  "(web|worker)(-[0-9]+)?",
  "[^0-9]+",
  "\\d{3}",
  "\\w+\\.\\d",
  "a*b+c?",
  "(ab|a)*",
  "x{2,4}",
  "",
  ".*-.*",
  "(?:H|R|L)1[0-9]",
  "[[:alpha:]]+",
  "\\bweb\\b",
  "[\\d-]+",
  "(?i)shop",
]
const TEXTS = [
  "",
  "a",
  "ab",
  "aab",
  "abc",
  "tally_router_status_count",
  "tally_router_service_ms_p95",
  "tally_router_service_ms_p50",
  "xtally_memory",
  "200",
  "503",
  "5031",
  "304",
  "web",
  "worker-12",
  "web-",
  "shop",
  "SHOP",
  "my-app-3",
  "3app",
  "xx",
  "xxxxx",
  "H12",
  "R14",
  "L10",
  "web.1",
  "---",
  "abcABC",
]

/** JavaScript's RegExp as Prometheus anchors; `(?i)` at the start as the `i` flag (JS has no inline flags). */
const oracle = (pattern: string) => {
  const insensitive = pattern.startsWith("(?i)")
  const body = (insensitive ? pattern.slice(4) : pattern).replace("[[:alpha:]]", "[A-Za-z]")
  return new RegExp(`^(?:${body})$`, insensitive ? "i" : "")
}

describe("Re2: matching", () => {
  it("agrees with an anchored JavaScript RegExp on the syntax both share", () => {
    let compared = 0
    for (const p of PATTERNS) {
      const re = compileRe2(p)
      const js = oracle(p)
      for (const t of TEXTS) {
        expect(re.test(t), `${p} on ${JSON.stringify(t)}`).toBe(js.test(t))
        compared++
      }
    }
    expect(compared).toBe(PATTERNS.length * TEXTS.length)
  })

  it("follows Go's RE2 where it differs: dot and newlines, flags, octal and hex escapes, \\Q…\\E", () => {
    expect(compileRe2("a.c").test("a\nc")).toBe(false)
    expect(compileRe2("(?s)a.c").test("a\nc")).toBe(true)
    expect(compileRe2("(?i:web)-1").test("WEB-1")).toBe(true)
    expect(compileRe2("(?i:web)-a").test("WEB-A")).toBe(false)
    expect(compileRe2("\\x41\\x{42}\\103").test("ABC")).toBe(true)
    expect(compileRe2("\\Qa.b\\E").test("a.b")).toBe(true)
    expect(compileRe2("\\Qa.b\\E").test("axb")).toBe(false)
    expect(compileRe2("(?P<code>H1[0-9])").test("H12")).toBe(true)
    expect(compileRe2("x{").test("x{")).toBe(true)
    expect(compileRe2("\\pL+").test("héllo")).toBe(true)
    expect(compileRe2("\\p{Greek}").test("λ")).toBe(true)
  })

  it("refuses what RE2 refuses, naming the reason", () => {
    for (const [pattern, reason] of [
      ["(?<=a)b", /error parsing regexp/],
      ["a(?=b)", /invalid or unsupported Perl syntax/],
      ["(a)\\1", /invalid escape sequence/],
      ["a**", /invalid nested repetition operator/],
      ["a++", /invalid nested repetition operator/],
      ["*a", /missing argument to repetition operator/],
      ["(a", /missing closing \)/],
      ["a)", /unexpected \)/],
      ["[z-a]", /invalid character class range/],
      ["[a", /missing closing \]/],
      ["x{1001}", /invalid repeat count/],
      ["x{3,2}", /invalid repeat count/],
    ] as const) {
      expect(() => compileRe2(pattern), pattern).toThrow(Re2Error)
      expect(() => compileRe2(pattern), pattern).toThrow(reason)
    }
    expect(() => compileRe2("(((a{100}){100}){100})")).toThrow(
      new RegExp(`more than ${MAX_PROGRAM} instructions`),
    )
  })
})

describe("Re2: linear time", () => {
  it("patterns that take a backtracking engine exponential time answer at once", () => {
    const started = performance.now()
    expect(compileRe2("(a|aa)*c").test("a".repeat(5_000))).toBe(false)
    expect(compileRe2("(a*)*b").test("a".repeat(5_000))).toBe(false)
    expect(compileRe2("(x+x+)+y").test("x".repeat(5_000))).toBe(false)
    expect(compileRe2("(.*a){20}").test("a".repeat(5_000))).toBe(true)
    // Tens of seconds or more for a backtracking engine on any one of these; here well under one.
    expect(performance.now() - started).toBeLessThan(5_000)
  })
})
