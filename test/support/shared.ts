/**
 * Where the shared drain fixtures are: `../shared/fixtures` beside the repository (as on the
 * developers' machines and in CI), or TALLY_SHARED_DIR. Missing fixtures fail loudly, never skip.
 */
import { existsSync } from "node:fs"
import { join, resolve } from "node:path"

const candidate = process.env.TALLY_SHARED_DIR ?? resolve(import.meta.dirname, "../../../shared")

export const fixtures = join(candidate, "fixtures")

if (!existsSync(join(fixtures, "expected.json")))
  throw new Error(
    `the drain fixtures are missing: expected ${fixtures}/expected.json (set TALLY_SHARED_DIR to the shared/ folder)`,
  )
