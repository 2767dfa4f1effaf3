/**
 * The shape of src/ as its import lines draw it (issue 26): no import circles between source files, and
 * `stream/` a library of generic stream combinators, importing no stage's room (the aggregation pieces
 * moved out of it to aggregator/, domain/ and proto/) and, but for the files listed in
 * STREAM_MAY_STILL_IMPORT, nothing from bus/, store/ or config/. That list can only shrink: an entry a
 * file no longer needs fails the test until it is taken out. And bus/ a contract with its backends in
 * folders of their own (bus/kafka/, bus/embedded/, bus/memory/): the contract's files import no backend
 * but the one that builds the Bus layer from settings, and outside bus/ only the entry points (cli/) and
 * the harness (testing/) compose a backend, but for BACKEND_MAY_STILL_BE_IMPORTED (which only shrinks too).
 *
 * The imports are read with a regex over the text (static `import`/`export ... from "..."`, bare
 * `import "..."`, and `import("...")` with a literal), comments left out; only relative specifiers are
 * followed, to the .ts files of src/.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const ROOT = resolve(import.meta.dirname, "../..")
const SRC = join(ROOT, "src")

/**
 * The stream/ files that still import bus/ or config/ today, and the rooms each may import from. Another
 * part of issue 26 takes these arrows away (the stage runner to a folder of its own, the Bus out of
 * Flow and OffsetCommitter); remove an entry, or a room of it, as soon as the file no longer needs it.
 * Never add one.
 */
const STREAM_MAY_STILL_IMPORT: Readonly<Record<string, ReadonlyArray<string>>> = {
  "src/stream/Stage.ts": ["bus", "config"],
  "src/stream/Flow.ts": ["bus"],
  "src/stream/OffsetCommitter.ts": ["bus"],
}
/** The rooms stream/ must not import from, but for the list above. */
const STREAM_FORBIDDEN_ROOMS = ["bus", "store", "config"]

/**
 * Where the aggregation data structures went when they left stream/ (issue 26); stream/ never imports
 * them back, and no file of these names comes back into stream/. (stream/Steps.ts was imported by
 * nothing and was deleted.)
 */
const MOVED_OUT_OF_STREAM = [
  "src/aggregator/Accumulators.ts",
  "src/aggregator/CommitPoint.ts",
  "src/aggregator/EventTimeWindows.ts",
  "src/domain/DigestTable.ts",
  "src/domain/Sketch.ts",
  "src/proto/ProtoBytes.ts",
]
const OLD_STREAM_FILES = [
  "Accumulators",
  "CommitPoint",
  "EventTimeWindows",
  "DigestTable",
  "ProtoBytes",
  "Steps",
]

/** The Bus's backends, each a folder of bus/; what is directly in bus/ is the contract they share. */
const BUS_BACKENDS = ["src/bus/kafka/", "src/bus/embedded/", "src/bus/memory/"]

/** The contract's one file that may import the backends: it builds the Bus layer from settings. */
const BUS_LAYER_FROM_SETTINGS = "src/bus/Bus.ts"

/** The rooms outside bus/ that compose a backend into layers: the entry points and the harness. */
const ROOMS_THAT_COMPOSE_BACKENDS = ["cli", "testing"]

/**
 * The files outside bus/, cli/ and testing/ that still import a backend directly, and what each may
 * import. Remove an entry as soon as the file no longer needs it (the test fails until it is taken out);
 * never add one.
 */
const BACKEND_MAY_STILL_BE_IMPORTED: Readonly<Record<string, ReadonlyArray<string>>> = {
  // The metrics catalogue lists the embedded log's own gauges.
  "src/observability/Catalogue.ts": ["src/bus/embedded/LogMetrics.ts"],
}

const backendOf = (file: string) => BUS_BACKENDS.find((folder) => file.startsWith(folder))

/** A file directly in src/bus/ (the contract), not in one of its folders. */
const isBusContract = (file: string) =>
  file.startsWith("src/bus/") && !file.slice("src/bus/".length).includes("/")

/** Blanks out comments, keeping strings (a `//` inside a string such as a URL is not a comment). */
const withoutComments = (text: string): string =>
  text.replace(
    /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (m) => (m.startsWith("/") ? " " : m),
  )

const SPECIFIERS = [
  // import ... from "x", import type ... from "x", export ... from "x" (over several lines too)
  /(?:^|[\s;}])(?:import|export)\s[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
  // import "x"
  /(?:^|[\s;}])import\s*["']([^"']+)["']/g,
  // import("x")
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
]

/** The relative specifiers a source text imports. */
const specifiersOf = (text: string): Array<string> => {
  const code = withoutComments(text)
  const out = new Set<string>()
  for (const re of SPECIFIERS) for (const m of code.matchAll(re)) out.add(m[1]!)
  return [...out].filter((s) => s.startsWith("."))
}

/** Every .ts source file of src/ (declaration files left out), as a path from the project root. */
const sourceFiles = (): Array<string> =>
  (readdirSync(SRC, { recursive: true }) as Array<string>)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => relative(ROOT, join(SRC, f)).split("\\").join("/"))
    .sort()

/** file -> the src/ .ts files it imports. */
const importGraph = (): Map<string, Array<string>> => {
  const files = sourceFiles()
  const known = new Set(files)
  const graph = new Map<string, Array<string>>()
  for (const file of files) {
    const targets = specifiersOf(readFileSync(join(ROOT, file), "utf8"))
      .map((s) =>
        relative(ROOT, resolve(ROOT, dirname(file), s))
          .split("\\")
          .join("/"),
      )
      .flatMap((t) => [t, `${t}.ts`, `${t}/index.ts`].filter((c) => known.has(c)).slice(0, 1))
    graph.set(file, [...new Set(targets)].sort())
  }
  return graph
}

/**
 * The circles of a graph: a depth-first search that reports each edge back to a file still on its path,
 * as the path from that file round to it again (every file of a circle is on at least one of them).
 */
const circlesOf = (graph: ReadonlyMap<string, ReadonlyArray<string>>): Array<Array<string>> => {
  const done = new Set<string>()
  const onPath = new Map<string, number>()
  const path: Array<string> = []
  const circles: Array<Array<string>> = []
  const visit = (file: string) => {
    onPath.set(file, path.length)
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      const at = onPath.get(next)
      if (at !== undefined) circles.push([...path.slice(at), next])
      else if (!done.has(next)) visit(next)
    }
    path.pop()
    onPath.delete(file)
    done.add(file)
  }
  for (const file of [...graph.keys()].sort()) if (!done.has(file)) visit(file)
  return circles
}

const roomOf = (file: string) => file.split("/")[1]!

describe("the imports of src/", () => {
  const graph = importGraph()

  it("are read: every room of src/ is seen, with the arrows known to be there", () => {
    expect(graph.size).toBeGreaterThan(100)
    // One of each form the reader follows: a plain import, `import type`, a bare import, import().
    expect(graph.get("src/aggregator/Rollup.ts")).toContain("src/aggregator/Accumulators.ts")
    expect(graph.get("src/store/SqlStore.ts")).toContain("src/store/StoreApi.ts")
    expect(graph.get("src/proto/Wire.ts")).toContain("src/proto/numbers.ts")
    expect(graph.get(BUS_LAYER_FROM_SETTINGS)).toContain("src/bus/kafka/kafka.ts")
    expect(specifiersOf('const m = await import("./x.ts") // import "./y.ts"\n/* from "./z.ts" */')).toEqual([
      "./x.ts",
    ])
    expect(specifiersOf('import {\n  a,\n  type B,\n} from "../a/B.ts"\nexport { c } from "./c.ts"')).toEqual(
      ["../a/B.ts", "./c.ts"],
    )
  })

  it("find a circle where there is one", () => {
    const circles = circlesOf(
      new Map([
        ["a", ["b"]],
        ["b", ["c"]],
        ["c", ["a", "d"]],
        ["d", []],
      ]),
    )
    expect(circles).toEqual([["a", "b", "c", "a"]])
    expect(
      circlesOf(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([])
  })

  it("draw no circle between source files", () => {
    const circles = circlesOf(graph).map((c) => c.join(" -> "))
    expect(circles, `import circles in src/:\n${circles.join("\n")}`).toEqual([])
  })

  it("keep the aggregation pieces out of stream/: it imports neither them nor aggregator/", () => {
    for (const file of MOVED_OUT_OF_STREAM)
      expect(existsSync(join(ROOT, file)), `${file} is missing`).toBe(true)
    const back = [...graph]
      .filter(([file]) => roomOf(file) === "stream")
      .flatMap(([file, targets]) =>
        targets
          .filter((t) => MOVED_OUT_OF_STREAM.includes(t) || roomOf(t) === "aggregator")
          .map((t) => `${file} imports ${t}`),
      )
    expect(back, `stream/ holds generic combinators only:\n${back.join("\n")}`).toEqual([])
    const returned = OLD_STREAM_FILES.map((name) => `src/stream/${name}.ts`).filter((f) => graph.has(f))
    expect(returned, `aggregation structures back in stream/: ${returned.join(", ")}`).toEqual([])
  })

  it("let stream/ import bus/, store/ or config/ only where STREAM_MAY_STILL_IMPORT allows it, and that list only shrinks", () => {
    const used = new Map<string, Set<string>>()
    const refused: Array<string> = []
    for (const [file, targets] of graph) {
      if (roomOf(file) !== "stream") continue
      for (const target of targets) {
        const room = roomOf(target)
        if (!STREAM_FORBIDDEN_ROOMS.includes(room)) continue
        if (STREAM_MAY_STILL_IMPORT[file]?.includes(room))
          used.set(file, (used.get(file) ?? new Set()).add(room))
        else refused.push(`${file} imports ${target}`)
      }
    }
    expect(
      refused,
      `stream/ may not import ${STREAM_FORBIDDEN_ROOMS.join("/, ")}/ (issue 26); take what these need as parameters or move them out of stream/:\n${refused.join("\n")}`,
    ).toEqual([])
    const stale = Object.entries(STREAM_MAY_STILL_IMPORT).flatMap(([file, rooms]) =>
      rooms.filter((room) => !used.get(file)?.has(room)).map((room) => `${file}: ${room}/`),
    )
    expect(
      stale,
      `these no longer import what STREAM_MAY_STILL_IMPORT allows them: take them out of the list:\n${stale.join("\n")}`,
    ).toEqual([])
  })

  it("keep bus/'s contract free of its backends, but for the file that builds the Bus layer from settings", () => {
    for (const folder of BUS_BACKENDS)
      expect(
        [...graph.keys()].some((file) => file.startsWith(folder)),
        `${folder} holds no source file`,
      ).toBe(true)
    const fromContract = [...graph]
      .filter(([file]) => isBusContract(file))
      .flatMap(([file, targets]) =>
        targets.filter((t) => backendOf(t) !== undefined).map((t) => ({ file, target: t })),
      )
    const refused = fromContract
      .filter(({ file }) => file !== BUS_LAYER_FROM_SETTINGS)
      .map(({ file, target }) => `${file} imports ${target}`)
    expect(
      refused,
      `bus/'s contract imports no backend (issue 26); only ${BUS_LAYER_FROM_SETTINGS} chooses one:\n${refused.join("\n")}`,
    ).toEqual([])
    expect(
      fromContract.some(({ file }) => file === BUS_LAYER_FROM_SETTINGS),
      `${BUS_LAYER_FROM_SETTINGS} no longer imports a backend: name the file that builds the Bus layer in BUS_LAYER_FROM_SETTINGS`,
    ).toBe(true)
  })

  it("let only cli/, testing/ and BACKEND_MAY_STILL_BE_IMPORTED import a Bus backend from outside bus/, and that list only shrinks", () => {
    const used = new Map<string, Set<string>>()
    const refused: Array<string> = []
    for (const [file, targets] of graph) {
      const room = roomOf(file)
      if (room === "bus" || ROOMS_THAT_COMPOSE_BACKENDS.includes(room)) continue
      for (const target of targets) {
        if (backendOf(target) === undefined) continue
        if (BACKEND_MAY_STILL_BE_IMPORTED[file]?.includes(target))
          used.set(file, (used.get(file) ?? new Set()).add(target))
        else refused.push(`${file} imports ${target}`)
      }
    }
    expect(
      refused,
      `outside bus/, only ${ROOMS_THAT_COMPOSE_BACKENDS.join("/ and ")}/ compose a backend (issue 26); take the Bus (src/bus/Bus.ts) instead:\n${refused.join("\n")}`,
    ).toEqual([])
    const stale = Object.entries(BACKEND_MAY_STILL_BE_IMPORTED).flatMap(([file, targets]) =>
      targets.filter((t) => !used.get(file)?.has(t)).map((t) => `${file}: ${t}`),
    )
    expect(
      stale,
      `these no longer import what BACKEND_MAY_STILL_BE_IMPORTED allows them: take them out of the list:\n${stale.join("\n")}`,
    ).toEqual([])
  })
})
