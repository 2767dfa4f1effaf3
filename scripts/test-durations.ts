/**
 * Rewrites test/durations.json (each test file's seconds, longest first) from the last full run's
 * test-output/results.json: the order test/sequencer.ts starts the files in on a fresh clone.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"

const root = join(import.meta.dirname, "..")
const results = JSON.parse(readFileSync(join(root, "test-output/results.json"), "utf8")) as {
  testResults: ReadonlyArray<{ name: string; startTime: number; endTime: number }>
}
const durations = results.testResults
  .map((t) => [relative(root, t.name), Math.round((t.endTime - t.startTime) / 100) / 10] as const)
  .sort((a, b) => b[1] - a[1])
writeFileSync(
  join(root, "test/durations.json"),
  `${JSON.stringify(Object.fromEntries(durations), null, 2)}\n`,
)
console.log(`test/durations.json: ${durations.length} files`)
