/**
 * `npm run bench -- tenants` (issue 24): does one flooding app hurt the others? One `tally all` on
 * embedded defaults (what `npm start` runs), a fleet of victim apps each sending its share, and one app
 * sending `--factor` (10) times a victim's share. Each run is a pair of phases of `--seconds` (60):
 *
 *   quiet: the victims alone;   flood: the victims, the same load, and the flooding app beside them.
 *
 * Judged on the victims only: their POST p99 in the flood phase against their quiet p99 (goal: within
 * 2×), every victim body answered 204, every victim rollup exact. `--runs` (3) pairs, the median ratio
 * and its spread. `--victim-rate` is lines/s per victim app (default 1,000, 9 victims: 9,000 lines/s
 * quiet, 19,000 with the flood: inside what one process holds); `--victim-rate 4000` offers the flood
 * beyond it, where backpressure decides who is refused (the flooder first, see Backpressure.ts).
 *
 *   npm run bench -- tenants [--runs 3] [--seconds 60] [--victims 9] [--victim-rate 1000] [--factor 10]
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import {
  createFleetApps,
  Generator,
  type LiveApp,
  type LoadReport,
  makeFleet,
  Oracle,
  runLoad,
  verify,
  verifyApps,
} from "../tools/load/index.ts"
import { awaitHealthy, freePort } from "./cluster.ts"
import { childNodeOptions, startEnv } from "./embedded.ts"
import { start, stop } from "./peers/procs.ts"
import { ms, ProcessSampler } from "./ramp.ts"
import { fmt, loadNote, writeSection } from "./report.ts"

const root = join(import.meta.dirname, "..")
const GOAL = 2

interface Group {
  readonly generator: Generator
  readonly oracle: Oracle
  readonly apps: ReadonlyArray<LiveApp>
}

const group = async (url: string, adminToken: string, apps: number, name: string, seed: number) => {
  const fleet = makeFleet({ apps, seed, namePrefix: `${name}-${Date.now().toString(36)}` })
  return {
    generator: new Generator(fleet),
    oracle: new Oracle(fleet),
    apps: await createFleetApps(url, adminToken, fleet),
  } satisfies Group
}

const load = (g: Group, rate: number, seconds: number) =>
  runLoad(
    g.generator,
    g.oracle,
    g.apps.map((a) => a.target),
    { rate, seconds, connections: 32, linesPerBody: 200, tries: 3 },
  )

interface Phase {
  readonly victims: LoadReport
  readonly flooder?: LoadReport
  readonly exact: { readonly exact: number; readonly total: number; readonly ok: boolean }
  readonly loadAverage: number
  readonly cores: number
}

const phase = async (
  url: string,
  victims: Group,
  flooder: Group | undefined,
  o: { victimRate: number; factor: number; seconds: number; victims: number },
  sampler: ProcessSampler,
): Promise<Phase> => {
  const loadAverage = loadavg()[0]!
  const [v, f] = await Promise.all([
    load(victims, o.victimRate * o.victims, o.seconds),
    flooder ? load(flooder, o.victimRate * o.factor, o.seconds) : Promise.resolve(undefined),
  ])
  const verdict = await verify(url, verifyApps(victims.oracle, victims.apps), {
    sinceMs: v.endMs,
    settleSeconds: 120,
    stableSeconds: 20,
  })
  const use = sampler.between(v.startMs, v.offerEndMs)[0]
  return {
    victims: v,
    ...(f ? { flooder: f } : {}),
    exact: { exact: verdict.rollups.exact, total: verdict.rollups.total, ok: verdict.exact },
    loadAverage,
    cores: use?.cores ?? 0,
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const run = async () => {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      runs: { type: "string", default: "3" },
      seconds: { type: "string", default: "60" },
      victims: { type: "string", default: "9" },
      "victim-rate": { type: "string", default: "1000" },
      factor: { type: "string", default: "10" },
    },
    strict: false,
    allowPositionals: true,
  })
  const o = {
    runs: Number(values.runs),
    seconds: Number(values.seconds),
    victims: Number(values.victims),
    victimRate: Number(values["victim-rate"]),
    factor: Number(values.factor),
  }
  const say = (line: string) => console.log(line)
  const stamp = Date.now().toString(36)
  const runDir = join(root, "test-output", `bench-tenants-${stamp}`)
  mkdirSync(runDir, { recursive: true })
  const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-tenants-"))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const adminToken = `tly_bench_${randomBytes(12).toString("hex")}`
  const started = Date.now()
  const loadStart = loadavg()[0]!
  const child = start(
    process.execPath,
    [join(root, "src/main.ts"), "all"],
    {
      ...startEnv(),
      ...process.env,
      TALLY_KAFKA_BROKERS: "",
      TALLY_PG_SHARDS: "",
      TALLY_DATA_DIR: dataDir,
      TALLY_PORT: String(port),
      TALLY_ADMIN_TOKEN: adminToken,
      TALLY_LOG_LEVEL: "Warn",
      ...childNodeOptions(process.env.BENCH_NODE_OPTIONS),
    },
    join(runDir, "tally-all.log"),
  )
  const sampler = new ProcessSampler([{ name: "tally all", pids: () => [child.pid!] }], 5_000)
  const pairs: Array<{ quiet: Phase; flood: Phase }> = []
  try {
    await awaitHealthy("tally all", port, 180_000, () => child.exitCode === null && child.signalCode === null)
    // A warm-up, not judged: a cold process is slower in its first seconds at any rate.
    const warm = await group(url, adminToken, o.victims, "warm", 1)
    await load(warm, o.victimRate * o.victims, 20)
    for (let r = 0; r < o.runs; r++) {
      const victims = await group(url, adminToken, o.victims, `victim${r}`, 10 + r)
      const flooder = await group(url, adminToken, 1, `flood${r}`, 100 + r)
      say(`run ${r + 1}: quiet, ${o.victims} victims × ${fmt(o.victimRate)} lines/s for ${o.seconds} s`)
      const quiet = await phase(url, victims, undefined, o, sampler)
      say(`  victims p50 ${ms(quiet.victims.latencyMs.p50)} / p99 ${ms(quiet.victims.latencyMs.p99)} ms`)
      say(`run ${r + 1}: flood, the same plus one app at ${o.factor}× a victim's rate`)
      const flood = await phase(url, victims, flooder, o, sampler)
      say(
        `  victims p50 ${ms(flood.victims.latencyMs.p50)} / p99 ${ms(flood.victims.latencyMs.p99)} ms, statuses ${JSON.stringify(flood.victims.statuses)}; flooder ${JSON.stringify(flood.flooder?.statuses)}`,
      )
      pairs.push({ quiet, flood })
    }
  } finally {
    sampler.stop()
    const code = await stop(child, 60_000)
    say(`tally all stopped (exit ${code})`)
    rmSync(dataDir, { recursive: true, force: true })
  }
  writeFileSync(join(runDir, "result.json"), JSON.stringify({ options: o, pairs }, null, 2))
  const ratios = pairs.map((p) => p.flood.victims.latencyMs.p99 / p.quiet.victims.latencyMs.p99)
  const m = median(ratios)
  const victimsOk = pairs.every(
    (p) =>
      p.quiet.exact.ok &&
      p.flood.exact.ok &&
      p.flood.victims.droppedBodies === 0 &&
      Object.keys(p.flood.victims.statuses).every((s) => s === "204"),
  )
  const row = (name: string, p: Phase, quietP99?: number) => {
    const v = p.victims
    const f = p.flooder
    const statuses = (r: LoadReport) =>
      Object.entries(r.statuses)
        .map(([k, n]) => `${k}×${fmt(n)}`)
        .join(" ")
    return `| ${name} | ${ms(v.latencyMs.p50)} / ${ms(v.latencyMs.p99)} ms${quietP99 ? ` (${(v.latencyMs.p99 / quietP99).toFixed(2)}×)` : ""} | ${statuses(v)} | ${fmt(v.acceptedLines / Math.max(1, (v.offerEndMs - v.startMs) / 1000))} | ${f ? `${fmt(f.acceptedLines / Math.max(1, (f.offerEndMs - f.startMs) / 1000))} lines/s, ${statuses(f)}, p99 ${ms(f.latencyMs.p99)} ms` : "-"} | ${fmt(p.exact.exact)}/${fmt(p.exact.total)} | ${(100 * p.cores).toFixed(0)}% | ${p.loadAverage.toFixed(1)} |`
  }
  writeSection(
    `tenants-${o.victimRate}`,
    `## Tenants: one app floods at ${o.factor}× a victim's share (issue 24)

${loadNote(loadStart)} \`npm run bench -- tenants --victim-rate ${o.victimRate}\` (bench/tenants.ts). One \`tally all\` on
embedded defaults; ${o.victims} victim apps at ${fmt(o.victimRate)} lines/s each (${fmt(o.victims * o.victimRate)} lines/s), bodies of 200
lines, 32 connections per load, Logplex retries; then the same with one more app at ${fmt(o.factor * o.victimRate)} lines/s
(${o.factor}× a victim). ${o.runs} pairs of ${o.seconds}-second phases (quiet, then flood), new apps for each pair; every
victim rollup verified after each phase. Goal: the victims' POST p99 under the flood within ${GOAL}× their quiet
p99, every victim body 204, every victim rollup exact.

- victims' p99 under the flood / quiet: ${ratios.map((x) => `${x.toFixed(2)}×`).join(", ")} — median **${m.toFixed(2)}×** (spread ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×) — ${m <= GOAL ? "met" : "not met"}
- every victim body 204 and every victim rollup exact: ${victimsOk ? "yes" : "no"}

| phase | victims' POST p50 / p99 | victims' statuses | victims accepted lines/s | flooder | victim rollups exact | CPU of tally (% of a core) | load avg |
|---|--:|---|--:|---|--:|--:|--:|
${pairs.flatMap((p, i) => [row(`quiet ${i + 1}`, p.quiet), row(`flood ${i + 1}`, p.flood, p.quiet.victims.latencyMs.p99)]).join("\n")}

${Math.round((Date.now() - started) / 60_000)} min in all.`,
  )
}
