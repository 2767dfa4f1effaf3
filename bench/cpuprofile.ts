/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): the sampled time of each thread split into idle,
 * garbage collection and code, and the code's self time by where it lives — a package under
 * node_modules, a file of src/, Node's internals, or native code — with the functions that take most.
 *   node bench/cpuprofile.ts DIR_OR_FILE...   prints the summary of each profile
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
  readonly startTime: number
  readonly endTime: number
}

export interface Place {
  readonly place: string
  readonly ms: number
  readonly functions: ReadonlyArray<{ readonly name: string; readonly ms: number }>
}

export interface ProfileSummary {
  readonly file: string
  readonly wallMs: number
  readonly idleMs: number
  readonly gcMs: number
  /** Sampled time in code (neither idle nor GC). */
  readonly busyMs: number
  readonly places: ReadonlyArray<Place>
}

/** Where a frame lives: a package, a src/ file, Node's internals, or a V8 pseudo-frame. */
export const placeOf = (frame: CallFrame): string => {
  const url = frame.url
  if (url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)"
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (pkg) return pkg[1]!
  const src = /\/((?:src|bench|tools)\/.+)$/.exec(url)
  if (src) return src[1]!
  if (url.startsWith("node:")) {
    const m = /^node:(?:internal\/)?([^/]+)/.exec(url)
    return `node:${m?.[1] ?? url}`
  }
  return url
}

/**
 * The summary of one profile; with `window` (µs of the monotonic clock, as `process.hrtime.bigint() / 1000n`
 * reads it in any process of the machine), only the samples taken within it.
 */
export const summarise = (
  file: string,
  top = 8,
  window?: { readonly fromUs: number; readonly toUs: number },
): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let at = profile.startTime
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (window && (at < window.fromUs || at > window.toUs)) continue
    if (at < first) first = at
    if (at > last) last = at
    self.set(id, (self.get(id) ?? 0) + delta)
  }
  let idle = 0
  let gc = 0
  const places = new Map<string, { ms: number; functions: Map<string, number> }>()
  for (const [id, us] of self) {
    const node = byId.get(id)
    if (!node) continue
    const ms = us / 1000
    const f = node.callFrame
    if (f.functionName === "(idle)") {
      idle += ms
      continue
    }
    if (f.functionName === "(garbage collector)") gc += ms
    const place = placeOf(f)
    let p = places.get(place)
    if (!p) places.set(place, (p = { ms: 0, functions: new Map() }))
    p.ms += ms
    const name = `${f.functionName || "(anonymous)"}${f.url ? `:${f.lineNumber + 1}` : ""}`
    p.functions.set(name, (p.functions.get(name) ?? 0) + ms)
  }
  const wallMs = window ? Math.max(0, last - first) / 1000 : (profile.endTime - profile.startTime) / 1000
  const sorted = [...places]
    .map(([place, p]) => ({
      place,
      ms: p.ms,
      functions: [...p.functions]
        .map(([name, ms]) => ({ name, ms }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 3),
    }))
    .sort((a, b) => b.ms - a.ms)
  const busy = sorted.reduce((a, p) => a + p.ms, 0) - gc
  return { file, wallMs, idleMs: idle, gcMs: gc, busyMs: busy, places: sorted.slice(0, top) }
}

/** Every `.cpuprofile` under `dir` (not recursive). */
export const profilesIn = (dir: string): Array<string> => {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(dir, f))
  } catch {
    return []
  }
}

const pct = (part: number, whole: number) => `${whole > 0 ? ((100 * part) / whole).toFixed(0) : 0}%`

/** A few lines: busy/GC/idle, then the top places by self time (% of the sampled non-idle time). */
export const formatSummary = (s: ProfileSummary, places = 5): string => {
  const sampled = s.busyMs + s.gcMs
  const lines = [
    `${(s.wallMs / 1000).toFixed(0)} s profiled: code ${pct(s.busyMs, s.wallMs)}, GC ${pct(s.gcMs, s.wallMs)}, idle ${pct(s.idleMs, s.wallMs)} of the thread`,
  ]
  for (const p of s.places.slice(0, places))
    lines.push(
      `  ${pct(p.ms, sampled).padStart(4)} ${p.place}: ${p.functions.map((f) => `${f.name} ${pct(f.ms, sampled)}`).join(", ")}`,
    )
  return lines.join("\n")
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const arg of process.argv.slice(2)) {
    const files = statSync(arg).isDirectory() ? profilesIn(arg) : [arg]
    for (const f of files) console.log(`${f}\n${formatSummary(summarise(f), 10)}\n`)
  }
}
