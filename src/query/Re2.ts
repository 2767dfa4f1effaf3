/**
 * Regular expressions as Prometheus matches label values: RE2 syntax (Go's regexp), fully anchored
 * (Prometheus 2.42 compiles `^(?:<re>)$`), matched in time linear in the text — a Thompson NFA
 * simulated over the text once, never backtracking — so no pattern a token holder sends (`(a*)*b`,
 * `(x+x+)+y`) can hold the process: matching costs at most (text length × program size) steps, and a
 * program is at most MAX_PROGRAM instructions.
 *
 * Syntax: literals and escapes (`\.`, `\t`, `\x41`, `\x{263a}`, `\Q...\E`), `.`, classes (`[a-z]`,
 * `[^0-9]`, `[[:alpha:]]`, `\d \D \s \S \w \W`, `\pL`, `\p{Greek}`, `\PL`), groups (`(...)`, `(?:...)`,
 * `(?P<name>...)`), flags (`(?i)`, `(?s)`, `(?m)`, `(?U)`, `(?i:...)`), alternation, `* + ? {n} {n,}
 * {n,m}` (lazy forms too: the same language), anchors `^ $ \A \z \b \B`. What RE2 refuses
 * (backreferences, look-around, possessive quantifiers, nested repetition like `a**`) is refused here
 * with a message. `.` does not match `\n` unless `(?s)`, as in Go.
 */

/** A pattern Prometheus (RE2) would not accept, or one too large to run. */
export class Re2Error extends Error {}

/** Repetition counts above this are refused, as RE2 does. */
const MAX_REPEAT = 1000
/** Instructions of one compiled pattern at most (a bound on the work per character). */
export const MAX_PROGRAM = 20_000

type Pred = (cp: number) => boolean
type AssertKind = "bol" | "eol" | "begin" | "end" | "word" | "notword"

type Node =
  | { readonly t: "empty" }
  | { readonly t: "char"; readonly pred: Pred }
  | { readonly t: "cat"; readonly items: ReadonlyArray<Node> }
  | { readonly t: "alt"; readonly items: ReadonlyArray<Node> }
  | { readonly t: "repeat"; readonly node: Node; readonly min: number; readonly max: number }
  | { readonly t: "assert"; readonly kind: AssertKind }

interface Flags {
  readonly i: boolean
  readonly s: boolean
  readonly m: boolean
}

const isWord = (cp: number) =>
  (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95

const range =
  (lo: number, hi: number): Pred =>
  (cp) =>
    cp >= lo && cp <= hi
const anyOf =
  (...preds: ReadonlyArray<Pred>): Pred =>
  (cp) => {
    for (const p of preds) if (p(cp)) return true
    return false
  }
const not =
  (p: Pred): Pred =>
  (cp) =>
    !p(cp)

const DIGIT = range(48, 57)
/** Go's \s: [\t\n\f\r ]. */
const SPACE: Pred = (cp) => cp === 9 || cp === 10 || cp === 12 || cp === 13 || cp === 32

const POSIX: Readonly<Record<string, Pred>> = {
  alnum: anyOf(range(48, 57), range(65, 90), range(97, 122)),
  alpha: anyOf(range(65, 90), range(97, 122)),
  ascii: range(0, 127),
  blank: (cp) => cp === 9 || cp === 32,
  cntrl: (cp) => cp <= 31 || cp === 127,
  digit: DIGIT,
  graph: range(33, 126),
  lower: range(97, 122),
  print: range(32, 126),
  punct: anyOf(range(33, 47), range(58, 64), range(91, 96), range(123, 126)),
  space: (cp) => (cp >= 9 && cp <= 13) || cp === 32,
  upper: range(65, 90),
  word: isWord,
  xdigit: anyOf(range(48, 57), range(65, 70), range(97, 102)),
}

/** A Unicode class (\pL, \p{Greek}) through JS's own property escapes, one code point at a time. */
const unicodeClass = (name: string): Pred => {
  for (const source of [`^\\p{${name}}$`, `^\\p{Script=${name}}$`]) {
    try {
      const re = new RegExp(source, "u")
      return (cp) => re.test(String.fromCodePoint(cp))
    } catch {
      // not this form
    }
  }
  throw new Re2Error(`invalid character class range: \\p{${name}}`)
}

/** The case variants of a code point (simple folding), itself first. */
const caseVariants = (cp: number): ReadonlyArray<number> => {
  const s = String.fromCodePoint(cp)
  const out = [cp]
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const c = v.codePointAt(0)!
    if (v.length === String.fromCodePoint(c).length && !out.includes(c)) out.push(c)
  }
  return out
}

const foldCase =
  (p: Pred): Pred =>
  (cp) => {
    for (const v of caseVariants(cp)) if (p(v)) return true
    return false
  }

class Parser {
  private pos = 0
  private readonly cps: ReadonlyArray<number>
  readonly source: string
  constructor(source: string) {
    this.source = source
    this.cps = Array.from(source, (c) => c.codePointAt(0)!)
  }

  private fail(what: string): never {
    throw new Re2Error(`error parsing regexp: ${what}: \`${this.source}\``)
  }
  private peek(offset = 0) {
    return this.cps[this.pos + offset]
  }
  private eat(c: string) {
    if (this.peek() === c.codePointAt(0)) {
      this.pos++
      return true
    }
    return false
  }
  private lookingAt(text: string) {
    const cps = Array.from(text, (c) => c.codePointAt(0)!)
    return cps.every((c, i) => this.peek(i) === c)
  }

  parse(): Node {
    const node = this.alternation({ i: false, s: false, m: false })
    if (this.pos < this.cps.length) this.fail("unexpected )")
    return node
  }

  private alternation(flags: Flags): Node {
    const items = [this.concat(flags)]
    while (this.eat("|")) items.push(this.concat(flags))
    return items.length === 1 ? items[0]! : { t: "alt", items }
  }

  private concat(initial: Flags): Node {
    let flags = initial
    const items: Array<Node> = []
    for (;;) {
      const c = this.peek()
      if (c === undefined || c === 0x7c /* | */ || c === 0x29 /* ) */) break
      // A flag group without a body changes the flags of the rest of this group.
      if (
        this.lookingAt("(?") &&
        !this.lookingAt("(?:") &&
        !this.lookingAt("(?P<") &&
        !this.lookingAt("(?<")
      ) {
        const save = this.pos
        this.pos += 2
        const changed = this.flagsUntil(flags)
        if (changed.end === ")") {
          flags = changed.flags
          continue
        }
        // `(?i:...)`: a group with its own flags.
        const inner = this.alternation(changed.flags)
        if (!this.eat(")")) {
          this.pos = save
          this.fail("missing closing )")
        }
        items.push(this.quantified(inner))
        continue
      }
      items.push(this.quantified(this.atom(flags)))
    }
    if (items.length === 0) return { t: "empty" }
    return items.length === 1 ? items[0]! : { t: "cat", items }
  }

  /** Reads flags after `(?` up to `)` or `:`; returns the new flags and which ended them. */
  private flagsUntil(flags: Flags): { flags: Flags; end: ")" | ":" } {
    let { i, s, m } = flags
    let negate = false
    let any = false
    for (;;) {
      const c = this.peek()
      if (c === undefined) this.fail("missing closing )")
      this.pos++
      const ch = String.fromCodePoint(c)
      if (ch === ")" || ch === ":") {
        if (negate && !any) this.fail("missing argument to repetition operator")
        return { flags: { i, s, m }, end: ch }
      }
      if (ch === "-") {
        if (negate) this.fail("invalid or unsupported Perl syntax")
        negate = true
        any = false
        continue
      }
      if (ch === "i") i = !negate
      else if (ch === "s") s = !negate
      else if (ch === "m") m = !negate
      else if (ch === "U") {
        // Ungreedy: the same language, so the same match/no-match.
      } else this.fail(`invalid or unsupported Perl syntax: \`(?${ch}\``)
      any = true
    }
  }

  private quantified(atom: Node): Node {
    let node = atom
    let quantified = false
    for (;;) {
      const c = this.peek()
      let min: number
      let max: number
      if (c === 0x2a /* * */) {
        min = 0
        max = Number.POSITIVE_INFINITY
        this.pos++
      } else if (c === 0x2b /* + */) {
        min = 1
        max = Number.POSITIVE_INFINITY
        this.pos++
      } else if (c === 0x3f /* ? */) {
        min = 0
        max = 1
        this.pos++
      } else if (c === 0x7b /* { */) {
        const counts = this.counts()
        if (counts === undefined)
          return node // a literal `{`, read as an atom next
        ;({ min, max } = counts)
      } else return node
      if (quantified) this.fail("invalid nested repetition operator")
      if (atom.t === "empty") this.fail("missing argument to repetition operator")
      if (min > MAX_REPEAT || (max !== Number.POSITIVE_INFINITY && max > MAX_REPEAT))
        this.fail("invalid repeat count")
      this.eat("?") // lazy: the same language
      if (this.peek() === 0x2b /* + */) this.fail("invalid nested repetition operator")
      node = { t: "repeat", node, min, max }
      quantified = true
    }
  }

  /** `{n}`, `{n,}` or `{n,m}` at the position; undefined (nothing consumed) when it is not one. */
  private counts(): { min: number; max: number } | undefined {
    const start = this.pos
    this.pos++
    const number = () => {
      let digits = ""
      while (this.peek() !== undefined && this.peek()! >= 48 && this.peek()! <= 57)
        digits += String.fromCodePoint(this.cps[this.pos++]!)
      return digits === "" ? undefined : Number(digits.length > 6 ? "9999999" : digits)
    }
    const min = number()
    if (min === undefined) {
      this.pos = start
      return undefined
    }
    let max = min
    if (this.eat(",")) max = number() ?? Number.POSITIVE_INFINITY
    if (!this.eat("}")) {
      this.pos = start
      return undefined
    }
    if (max < min) this.fail("invalid repeat count")
    return { min, max }
  }

  private char(flags: Flags, pred: Pred): Node {
    return { t: "char", pred: flags.i ? foldCase(pred) : pred }
  }

  private literal(flags: Flags, cp: number): Node {
    return this.char(flags, (c) => c === cp)
  }

  private atom(flags: Flags): Node {
    const c = this.peek()!
    this.pos++
    switch (c) {
      case 0x28 /* ( */:
        {
          if (this.eat("?")) {
            if (this.eat(":")) return this.closeGroup(this.alternation(flags))
            if (this.lookingAt("P<") || this.lookingAt("<")) {
              this.eat("P")
              this.eat("<")
              let name = ""
              while (this.peek() !== undefined && this.peek() !== 0x3e /* > */)
                name += String.fromCodePoint(this.cps[this.pos++]!)
              if (!this.eat(">") || !/^[A-Za-z0-9_]+$/.test(name)) this.fail("invalid named capture")
              return this.closeGroup(this.alternation(flags))
            }
            this.fail("invalid or unsupported Perl syntax")
          }
          return this.closeGroup(this.alternation(flags))
        }
      case 0x29 /* ) */:
        return this.fail("unexpected )")
      case 0x2e /* . */:
        return { t: "char", pred: flags.s ? () => true : (cp) => cp !== 10 }
      case 0x5e /* ^ */:
        return { t: "assert", kind: flags.m ? "bol" : "begin" }
      case 0x24 /* $ */:
        return { t: "assert", kind: flags.m ? "eol" : "end" }
      case 0x5b /* [ */:
        return this.char(flags, this.klass())
      case 0x5c /* \ */:
        return this.escape(flags)
      case 0x2a /* * */:
      case 0x2b /* + */:
      case 0x3f /* ? */:
        return this.fail("missing argument to repetition operator")
      default:
        return this.literal(flags, c)
    }
  }

  private closeGroup(node: Node): Node {
    if (!this.eat(")")) this.fail("missing closing )")
    return node
  }

  /** After a backslash, outside a class. */
  private escape(flags: Flags): Node {
    const c = this.peek()
    if (c === undefined) this.fail("trailing backslash at end of expression")
    const ch = String.fromCodePoint(c)
    if (ch === "A") {
      this.pos++
      return { t: "assert", kind: "begin" }
    }
    if (ch === "z") {
      this.pos++
      return { t: "assert", kind: "end" }
    }
    if (ch === "b" || ch === "B") {
      this.pos++
      return { t: "assert", kind: ch === "b" ? "word" : "notword" }
    }
    if (ch === "Q") {
      this.pos++
      const items: Array<Node> = []
      while (this.peek() !== undefined && !this.lookingAt("\\E"))
        items.push(this.literal(flags, this.cps[this.pos++]!))
      this.eat("\\")
      this.eat("E")
      return items.length === 0 ? { t: "empty" } : { t: "cat", items }
    }
    return this.char(flags, this.classEscape())
  }

  /** An escape that stands for a set of characters (in or out of a class); the backslash is read. */
  private classEscape(): Pred {
    const c = this.cps[this.pos++]
    if (c === undefined) this.fail("trailing backslash at end of expression")
    const ch = String.fromCodePoint(c)
    switch (ch) {
      case "d":
        return DIGIT
      case "D":
        return not(DIGIT)
      case "s":
        return SPACE
      case "S":
        return not(SPACE)
      case "w":
        return isWord
      case "W":
        return not(isWord)
      case "p":
      case "P": {
        let name: string
        if (this.eat("{")) {
          name = ""
          while (this.peek() !== undefined && this.peek() !== 0x7d /* } */)
            name += String.fromCodePoint(this.cps[this.pos++]!)
          if (!this.eat("}")) this.fail("invalid character class range")
        } else {
          const n = this.cps[this.pos++]
          if (n === undefined) this.fail("invalid character class range")
          name = String.fromCodePoint(n)
        }
        const negated = name.startsWith("^")
        const pred = unicodeClass(negated ? name.slice(1) : name)
        return (ch === "P") !== negated ? not(pred) : pred
      }
      default: {
        const cp = this.escapedCodePoint(ch)
        return (x) => x === cp
      }
    }
  }

  /** The code point a single-character escape stands for (`\n`, `\x41`, `\.`, `\101`). */
  private escapedCodePoint(ch: string): number {
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 }
    if (Object.hasOwn(simple, ch)) return simple[ch]!
    if (ch === "x") {
      let hex = ""
      if (this.eat("{")) {
        while (this.peek() !== undefined && this.peek() !== 0x7d)
          hex += String.fromCodePoint(this.cps[this.pos++]!)
        if (!this.eat("}")) this.fail("invalid escape sequence")
      } else
        for (let k = 0; k < 2; k++) {
          const n = this.cps[this.pos++]
          if (n === undefined) this.fail("invalid escape sequence")
          hex += String.fromCodePoint(n)
        }
      if (!/^[0-9A-Fa-f]{1,8}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff)
        this.fail("invalid escape sequence")
      return Number.parseInt(hex, 16)
    }
    if (ch >= "0" && ch <= "7") {
      // Octal: \0, \012, \123 (RE2 takes up to three digits; \1-\9 alone would be backreferences).
      let oct = ch
      while (oct.length < 3 && this.peek() !== undefined && this.peek()! >= 48 && this.peek()! <= 55)
        oct += String.fromCodePoint(this.cps[this.pos++]!)
      if (ch !== "0" && oct.length === 1) this.fail("invalid escape sequence")
      return Number.parseInt(oct, 8)
    }
    // Any punctuation may be escaped; letters and digits other than the above may not.
    if (/^[\p{L}\p{N}]$/u.test(ch)) this.fail(`invalid escape sequence: \`\\${ch}\``)
    return ch.codePointAt(0)!
  }

  /** After `[`: a class up to its `]`. */
  private klass(): Pred {
    const negated = this.eat("^")
    const parts: Array<Pred> = []
    let first = true
    for (;;) {
      const c = this.peek()
      if (c === undefined) this.fail("missing closing ]")
      if (c === 0x5d /* ] */ && !first) {
        this.pos++
        break
      }
      first = false
      if (this.lookingAt("[:")) {
        const end = this.source.indexOf(":]", this.offsetOf(this.pos))
        if (end >= 0) {
          let name = this.source.slice(this.offsetOf(this.pos) + 2, end)
          const neg = name.startsWith("^")
          if (neg) name = name.slice(1)
          const pred = Object.hasOwn(POSIX, name) ? POSIX[name] : undefined
          if (pred === undefined) this.fail("invalid character class range")
          parts.push(neg ? not(pred) : pred)
          this.pos += Array.from(this.source.slice(this.offsetOf(this.pos), end + 2)).length
          continue
        }
      }
      const lo = this.classAtom()
      if (typeof lo === "function") {
        parts.push(lo)
        continue
      }
      if (this.peek() === 0x2d /* - */ && this.peek(1) !== undefined && this.peek(1) !== 0x5d) {
        this.pos++
        const hi = this.classAtom()
        if (typeof hi === "function" || hi < lo) this.fail("invalid character class range")
        parts.push(range(lo, hi))
      } else parts.push((x) => x === lo)
    }
    const pred = anyOf(...parts)
    return negated ? not(pred) : pred
  }

  /** One code point of a class, or a set (`\d`, `\pL`). */
  private classAtom(): number | Pred {
    const c = this.cps[this.pos++]!
    if (c !== 0x5c /* \ */) return c
    const ch = this.peek()
    if (ch === undefined) this.fail("trailing backslash at end of expression")
    if ("dDsSwWpP".includes(String.fromCodePoint(ch))) return this.classEscape()
    this.pos++
    return this.escapedCodePoint(String.fromCodePoint(ch))
  }

  /** The string offset (UTF-16) of code point index `i`. */
  private offsetOf(i: number): number {
    let offset = 0
    for (let k = 0; k < i; k++) offset += this.cps[k]! > 0xffff ? 2 : 1
    return offset
  }
}

// The program: a Thompson NFA as instructions.
const Op = { Char: 0, Split: 1, Jmp: 2, Assert: 3, Match: 4 } as const
interface Inst {
  op: (typeof Op)[keyof typeof Op]
  pred?: Pred
  kind?: AssertKind
  x: number
  y: number
}

const compile = (root: Node): ReadonlyArray<Inst> => {
  const prog: Array<Inst> = []
  const emit = (inst: Inst) => {
    if (prog.length >= MAX_PROGRAM)
      throw new Re2Error(
        `regexp too large: more than ${MAX_PROGRAM} instructions once repetitions are expanded`,
      )
    prog.push(inst)
    return prog.length - 1
  }
  const gen = (n: Node): void => {
    switch (n.t) {
      case "empty":
        return
      case "char":
        emit({ op: Op.Char, pred: n.pred, x: prog.length + 1, y: 0 })
        return
      case "assert":
        emit({ op: Op.Assert, kind: n.kind, x: prog.length + 1, y: 0 })
        return
      case "cat":
        for (const item of n.items) gen(item)
        return
      case "alt": {
        // split L1, next; L1: a; jmp end; next: split L2, ... ; last
        const jumps: Array<number> = []
        for (let k = 0; k < n.items.length - 1; k++) {
          const split = emit({ op: Op.Split, x: prog.length + 1, y: 0 })
          gen(n.items[k]!)
          jumps.push(emit({ op: Op.Jmp, x: 0, y: 0 }))
          prog[split]!.y = prog.length
        }
        gen(n.items[n.items.length - 1]!)
        for (const j of jumps) prog[j]!.x = prog.length
        return
      }
      case "repeat": {
        for (let k = 0; k < n.min; k++) gen(n.node)
        if (n.max === Number.POSITIVE_INFINITY) {
          // L: split body, end; body; jmp L
          const split = emit({ op: Op.Split, x: prog.length + 1, y: 0 })
          gen(n.node)
          emit({ op: Op.Jmp, x: split, y: 0 })
          prog[split]!.y = prog.length
        } else {
          const splits: Array<number> = []
          for (let k = n.min; k < n.max; k++) {
            splits.push(emit({ op: Op.Split, x: prog.length + 1, y: 0 }))
            gen(n.node)
          }
          for (const s of splits) prog[s]!.y = prog.length
        }
        return
      }
    }
  }
  gen(root)
  emit({ op: Op.Match, x: 0, y: 0 })
  return prog
}

/** A compiled pattern: `test(text)` is true when the whole text matches (Prometheus' anchoring). */
export interface Re2 {
  readonly source: string
  readonly test: (text: string) => boolean
}

/** Compiles `source` as Prometheus does (`^(?:source)$`); throws Re2Error with RE2's wording when invalid. */
export const compileRe2 = (source: string): Re2 => {
  const prog = compile(new Parser(source).parse())
  const size = prog.length
  // Thread lists by generation stamp: a state is added once per position (what makes it linear).
  const onList = new Int32Array(size).fill(-1)
  let stamp = 0
  const test = (text: string): boolean => {
    const cps = Array.from(text, (c) => c.codePointAt(0)!)
    let current: Array<number> = []
    let next: Array<number> = []
    const stack: Array<number> = []
    /** Adds `pc` and what it reaches without reading (splits, jumps, assertions true at `at`). */
    const add = (list: Array<number>, start: number, at: number) => {
      stack.push(start)
      while (stack.length > 0) {
        const pc = stack.pop()!
        if (onList[pc] === stamp) continue
        onList[pc] = stamp
        const inst = prog[pc]!
        switch (inst.op) {
          case Op.Jmp:
            stack.push(inst.x)
            break
          case Op.Split:
            stack.push(inst.y, inst.x)
            break
          case Op.Assert:
            if (holds(inst.kind!, cps, at)) stack.push(inst.x)
            break
          default:
            list.push(pc)
        }
      }
    }
    stamp++
    add(current, 0, 0)
    for (let at = 0; at < cps.length; at++) {
      if (current.length === 0) return false
      stamp++
      const cp = cps[at]!
      for (const pc of current) {
        const inst = prog[pc]!
        if (inst.op === Op.Char && inst.pred!(cp)) add(next, inst.x, at + 1)
      }
      ;[current, next] = [next, current]
      next.length = 0
    }
    for (const pc of current) if (prog[pc]!.op === Op.Match) return true
    return false
  }
  // Stamps are per compiled pattern and grow by one per position: wrap long before 2^31.
  const guarded = (text: string) => {
    if (stamp > 1_000_000_000) {
      onList.fill(-1)
      stamp = 0
    }
    return test(text)
  }
  return { source, test: guarded }
}

const holds = (kind: AssertKind, cps: ReadonlyArray<number>, at: number): boolean => {
  switch (kind) {
    case "begin":
      return at === 0
    case "end":
      return at === cps.length
    case "bol":
      return at === 0 || cps[at - 1] === 10
    case "eol":
      return at === cps.length || cps[at] === 10
    case "word":
    case "notword": {
      const before = at > 0 && isWord(cps[at - 1]!)
      const after = at < cps.length && isWord(cps[at]!)
      return (before !== after) === (kind === "word")
    }
  }
}
