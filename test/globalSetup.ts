/**
 * Starts or finds what the suite needs, once per `npm test`: a Kafka broker and a PostgreSQL server.
 * It fails with one clear message naming what is missing; it never lets a test skip.
 *   TALLY_KAFKA_BROKERS  use these brokers instead of starting scripts/kafka.sh
 *   TALLY_PG_URL         the server where test shard databases are created (default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Admin } from "@platformatic/kafka"
import pg from "pg"
import type { TestProject } from "vitest/node"
import { catalogue } from "../src/bus/Topics.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: Array<string>
    pgUrl: string
    kafkaScript: string
  }
}

const fail = (what: string, detail: string): never => {
  throw new Error(`\n\n  tally tests cannot run: ${what} is missing.\n  ${detail.split("\n").join("\n  ")}\n`)
}

const admin = (brokers: Array<string>) =>
  new Admin({ clientId: "tally-test-setup", bootstrapBrokers: brokers, retries: 10, retryDelay: 500 })

const kafkaAnswers = async (brokers: Array<string>) => {
  const client = admin(brokers)
  try {
    await client.metadata({ topics: [], forceUpdate: true })
  } finally {
    await client.close().catch(() => undefined)
  }
}

/**
 * Test runs on this machine register here while they run: several engineers share the broker, and
 * the topics of a run that is still going must never be pruned by another run's setup.
 */
const runs = join(tmpdir(), "tally-test-runs")
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}
const otherRuns = () =>
  readdirSync(runs)
    .map(Number)
    .filter((pid) => pid !== process.pid && Number.isInteger(pid) && alive(pid))

const pruneTestTopics = async (brokers: Array<string>) => {
  if (otherRuns().length > 0) {
    console.log("test setup: another test run is using the broker; old test topics are left for later")
    return
  }
  const keep = new Set(catalogue(1).map((t) => t.name))
  const client = admin(brokers)
  try {
    const stale = (await client.listTopics()).filter((t) => !keep.has(t) && !t.startsWith("__"))
    for (let i = 0; i < stale.length; i += 100) await client.deleteTopics({ topics: stale.slice(i, i + 100) })
    if (stale.length > 0) console.log(`test setup: deleted ${stale.length} topics left by earlier runs`)
  } catch (e) {
    console.log(`test setup: could not prune old test topics (${(e as Error).message}); going on`)
  } finally {
    await client.close().catch(() => undefined)
  }
}

/** The Debian programs the suite drives for real (`.ci/run` installs them), checked before anything starts. */
const PROGRAMS: ReadonlyArray<readonly [string, string]> = [
  ["/usr/bin/chromium", "Debian's chromium (test/dashboard): apt-get install -y chromium"],
  ["/usr/bin/prometheus", "Prometheus 2.42 (test/prometheus): apt-get install -y prometheus"],
  ["/usr/bin/promtool", "promtool (test/prometheus): apt-get install -y prometheus"],
  [
    "/usr/bin/prometheus-alertmanager",
    "Alertmanager 0.25 (test/alerts): apt-get install -y prometheus-alertmanager",
  ],
]

export default async function setup(project: TestProject) {
  const absent = PROGRAMS.filter(([path]) => !existsSync(path))
  if (absent.length > 0)
    fail(
      absent.map(([path]) => path).join(", "),
      `${absent.map(([, what]) => what).join("\n")}\n(.ci/run installs every one of them.)`,
    )
  mkdirSync(runs, { recursive: true })
  writeFileSync(join(runs, String(process.pid)), "")
  const script = join(root, "scripts/kafka.sh")
  const configured = process.env.TALLY_KAFKA_BROKERS?.split(",")
    .map((s) => s.trim())
    .filter(Boolean)
  const brokers = configured?.length ? configured : ["127.0.0.1:9092"]
  if (!configured?.length) {
    try {
      execFileSync("bash", [script, "start"], { stdio: ["ignore", "inherit", "inherit"] })
    } catch (e) {
      fail(
        "Kafka",
        `scripts/kafka.sh start failed (${(e as Error).message}).\nIt needs Java 17 and Maven (to fetch Apache Kafka's jars from Maven Central).`,
      )
    }
  }
  try {
    await kafkaAnswers(brokers)
  } catch (e) {
    fail("Kafka", `no broker answers at ${brokers.join(",")}: ${(e as Error).message}`)
  }
  // On the project's own broker, topics left by earlier runs (test prefixes) are deleted, so its data
  // dir and start time stay small. A broker named by TALLY_KAFKA_BROKERS is never touched.
  if (!configured?.length) await pruneTestTopics(brokers)

  const pgUrl = process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
    await client.query("select 1")
  } catch (e) {
    fail(
      "PostgreSQL",
      `cannot connect to ${pgUrl}: ${(e as Error).message}\nStart it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set TALLY_PG_URL.`,
    )
  } finally {
    await client.end().catch(() => undefined)
  }

  project.provide("kafkaBrokers", brokers)
  project.provide("pgUrl", pgUrl)
  project.provide("kafkaScript", script)
  return () => rmSync(join(runs, String(process.pid)), { force: true })
}
