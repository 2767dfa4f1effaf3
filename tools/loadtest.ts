/**
 * npm run loadtest -- --url http://127.0.0.1:8080 --admin-token T --rate R --seconds S --apps N
 *   [--connections C] [--lines-per-body L] [--tries K] [--poison-every M] [--shield-apps N]
 *   [--settle-seconds 90] [--stable-seconds 30] [--seed S] [--json]
 * Creates N apps, posts Logplex drain bodies at R lines/s for S seconds, then compares every 1-minute
 * rollup and event the API serves with the oracle. Exit 0 only when every determinate rollup matches
 * (1: differences, 2: bad usage or tally unreachable).
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { formatSummary, toJson } from "./load/report.ts"
import { loadtest } from "./load/run.ts"

const USAGE = `usage: npm run loadtest -- --url URL --rate R --seconds S --apps N [--admin-token T]
  [--connections C] [--lines-per-body L] [--tries K] [--poison-every M] [--shield-apps N]
  [--settle-seconds S] [--stable-seconds S] [--seed S] [--json]
The admin token comes from --admin-token, TALLY_ADMIN_TOKEN, or $TALLY_DATA_DIR/admin-token (./.tally).`

const usage = (message: string): never => {
  console.error(`loadtest: ${message}\n${USAGE}`)
  process.exit(2)
}

const OPTIONS = {
  url: { type: "string", default: `http://127.0.0.1:${process.env.TALLY_PORT || "8080"}` },
  "admin-token": { type: "string" },
  rate: { type: "string", default: "1000" },
  seconds: { type: "string", default: "30" },
  apps: { type: "string", default: "5" },
  connections: { type: "string", default: "64" },
  "lines-per-body": { type: "string", default: "200" },
  tries: { type: "string", default: "3" },
  "poison-every": { type: "string", default: "0" },
  "shield-apps": { type: "string", default: "0" },
  "settle-seconds": { type: "string", default: "90" },
  "stable-seconds": { type: "string", default: "30" },
  seed: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const

const parsed = (() => {
  try {
    return parseArgs({ options: OPTIONS, strict: true })
  } catch (e) {
    return usage((e as Error).message)
  }
})()
const { values } = parsed
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

const int = (name: keyof typeof values, min: number): number => {
  const raw = values[name]
  const v = Number(raw)
  if (typeof raw !== "string" || !Number.isInteger(v) || v < min)
    return usage(`--${name} must be an integer ≥ ${min}; got ${raw}`)
  return v
}

const adminToken = (): string => {
  const given = values["admin-token"] ?? process.env.TALLY_ADMIN_TOKEN
  if (given) return given
  const file = join(process.env.TALLY_DATA_DIR || ".tally", "admin-token")
  if (existsSync(file)) return readFileSync(file, "utf8").trim()
  return usage(`no admin token: pass --admin-token, set TALLY_ADMIN_TOKEN, or run where ${file} exists`)
}

const options = {
  url: values.url,
  adminToken: adminToken(),
  rate: int("rate", 1),
  seconds: int("seconds", 1),
  apps: int("apps", 1),
  connections: int("connections", 1),
  linesPerBody: int("lines-per-body", 1),
  tries: int("tries", 1),
  poisonEvery: int("poison-every", 0),
  shieldApps: int("shield-apps", 0),
  settleSeconds: int("settle-seconds", 0),
  stableSeconds: int("stable-seconds", 0),
  ...(values.seed === undefined ? {} : { seed: int("seed", 0) }),
}
const json = values.json
const log = (line: string) => {
  if (!json) console.error(line)
}

try {
  log(
    `loadtest: ${options.apps} apps, ${options.rate} lines/s for ${options.seconds} s against ${options.url}`,
  )
  const summary = await loadtest({
    ...options,
    onSecond: (s) => {
      if (s.second % 5 === 4)
        log(
          `  ${s.second + 1} s: offered ${Math.round(s.offered)}/s, accepted ${s.accepted}/s${s.overflowed ? `, overflow ${s.overflowed}` : ""}`,
        )
    },
    onVerifyStart: () => log("load done; verifying every 1-minute rollup…"),
    onPoll: (c, elapsed) =>
      log(
        `  ${(elapsed / 1000).toFixed(0)} s after the load: ${c.exactRollups}/${c.rollups} exact, ${c.differences.length} differences`,
      ),
  })
  if (json) console.log(JSON.stringify(toJson(summary)))
  else console.log(formatSummary(summary))
  process.exit(summary.verdict.exact ? 0 : 1)
} catch (e) {
  const cause = (e as Error & { cause?: Error }).cause
  console.error(
    `loadtest: ${(e as Error).message}${cause ? ` (${cause.message})` : ""} — is tally running at ${options.url}?`,
  )
  process.exit(2)
}
