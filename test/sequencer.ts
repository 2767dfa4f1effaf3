/**
 * The order the suite's files start in: the longest first, so the files that wait on real minutes (the
 * alerts' end-to-end tests, the three-node chaos run) start at once and the short ones fill the workers
 * around them. Vitest orders by the durations it cached from the last run on this machine, and, on a
 * fresh clone (CI), by file size, which started those small, long files last: they then set the suite's
 * end. Without a cached duration a file's is taken from test/durations.json (seconds, measured on this
 * project's 2-core machine; `node scripts/test-durations.ts` rewrites it from test-output/results.json);
 * a file in neither goes first (a new file's duration is unknown).
 */
import { readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { BaseSequencer, type TestSpecification } from "vitest/node"

const known = JSON.parse(readFileSync(join(import.meta.dirname, "durations.json"), "utf8")) as Record<
  string,
  number
>

export class LongestFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const root = this.ctx.config.root
    const seconds = (spec: TestSpecification) => {
      const cached = this.ctx.cache.getTestSpecificationResult(spec)
      if (cached) return cached.duration / 1000
      return known[relative(root, spec.moduleId)] ?? Number.POSITIVE_INFINITY
    }
    return [...files].sort((a, b) => {
      const groups = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder
      if (groups !== 0) return groups
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1
      return seconds(b) - seconds(a)
    })
  }
}
