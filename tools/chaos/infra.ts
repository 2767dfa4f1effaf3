/**
 * What a chaos run sets up, breaks and tears down outside tally's processes: fresh Postgres shard
 * databases (created and dropped here; one of them made to refuse connections), the run's Kafka topics
 * (created with `tally topics ensure`, deleted with the run's consumer groups at the end), the broker
 * itself (scripts/kafka.sh stop / start), and the dead-letter topics read back for the verdict.
 */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { Admin, Consumer, Producer } from "@platformatic/kafka"
import pg from "pg"
import { deadTopic } from "../../src/bus/Topics.ts"
import { RolledUpTypes } from "../../src/domain/MeasurementType.ts"
import { DeadLetter } from "../../src/proto/Wire.ts"

export const pgServer = () => process.env.TALLY_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

export const databaseUrl = (server: string, database: string, port?: number) => {
  const url = new URL(server)
  url.pathname = `/${database}`
  if (port !== undefined) url.port = String(port)
  return url.toString()
}

const withAdmin = async <A>(f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: pgServer(), connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

export const createDatabases = (names: ReadonlyArray<string>) =>
  withAdmin(async (admin) => {
    for (const db of names) {
      await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`)
      await admin.query(`CREATE DATABASE "${db}"`)
    }
  })

export const dropDatabases = (names: ReadonlyArray<string>) =>
  withAdmin(async (admin) => {
    for (const db of names) {
      await admin.query(`ALTER DATABASE "${db}" ALLOW_CONNECTIONS true`).catch(() => undefined)
      await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`)
    }
  })

/** The database refuses new connections and its backends are terminated; returns how many were. */
export const refuseConnections = (db: string) =>
  withAdmin(async (admin) => {
    await admin.query(`ALTER DATABASE "${db}" ALLOW_CONNECTIONS false`)
    const r = await admin.query(
      "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [db],
    )
    return Number(r.rows[0]?.n ?? 0)
  })

export const allowConnections = (db: string) =>
  withAdmin((admin) => admin.query(`ALTER DATABASE "${db}" ALLOW_CONNECTIONS true`).then(() => undefined))

/** Connections open now on each of these databases. */
export const connectionCounts = (names: ReadonlyArray<string>) =>
  withAdmin(async (admin) => {
    const r = await admin.query<{ datname: string; n: string }>(
      "SELECT datname, count(*) AS n FROM pg_stat_activity WHERE datname = ANY($1) GROUP BY datname",
      [names],
    )
    return Object.fromEntries(names.map((n) => [n, Number(r.rows.find((x) => x.datname === n)?.n ?? 0)]))
  })

export const BROKERS = ["127.0.0.1:9092"]

const admin = () =>
  new Admin({ clientId: "tally-chaos", bootstrapBrokers: BROKERS, retries: 5, retryDelay: 500 })

/** Runs `bash scripts/kafka.sh stop|start|status`; resolves with its exit code and stderr. */
export const kafkaScript = (root: string, command: "stop" | "start" | "status") =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      "bash",
      [join(root, "scripts/kafka.sh"), command],
      { timeout: 180_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0
        resolve({ code, output: `${stdout}${stderr}`.trim() })
      },
    )
  })

/** The run's own scratch topic, where the harness checks that the broker takes idempotent produces. */
export const probeTopic = (prefix: string) => `${prefix}chaos-probe`

export const createProbeTopic = async (prefix: string) => {
  const client = admin()
  try {
    await client.createTopics({ topics: [probeTopic(prefix)], partitions: 1, replicas: 1 })
  } finally {
    await client.close().catch(() => undefined)
  }
}

/**
 * Whether the broker works, not only answers: an idempotent produce to the probe topic within
 * `withinMs` (a broker whose controller did not start answers on its port and never gives producer ids).
 */
export const brokerWorks = async (prefix: string, withinMs = 15_000): Promise<string | undefined> => {
  const until = Date.now() + withinMs
  let last = "no try"
  while (Date.now() < until) {
    const producer = new Producer({
      clientId: "tally-chaos-probe",
      bootstrapBrokers: BROKERS,
      idempotent: true,
      retries: 1,
      retryDelay: 500,
    })
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        producer.send({ messages: [{ topic: probeTopic(prefix), value: Buffer.from("probe") }] }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("no answer within 10 s")), 10_000)
        }),
      ])
      return undefined
    } catch (e) {
      last = (e as Error).message
    } finally {
      clearTimeout(timer)
      await producer.close(true).catch(() => undefined)
    }
    await new Promise((r) => setTimeout(r, 1000))
  }
  return last
}

/** Every topic and consumer group of the run (they carry its prefix) is deleted. */
export const deleteRunTopics = async (prefix: string): Promise<{ topics: number; groups: number }> => {
  const client = admin()
  try {
    const topics = (await client.listTopics()).filter((t) => t.startsWith(prefix))
    if (topics.length > 0) await client.deleteTopics({ topics })
    const groups = [...(await client.listGroups()).keys()].filter((g) => g.startsWith(prefix))
    if (groups.length > 0) await client.deleteGroups({ groups }).catch(() => undefined)
    return { topics: topics.length, groups: groups.length }
  } finally {
    await client.close().catch(() => undefined)
  }
}

export interface DeadLetterRow {
  readonly topic: string
  readonly key: string
  readonly reason: string
  readonly stage: string
}

export interface DeadLetters {
  /** Records in each DEAD topic (end offset minus start offset, every partition). */
  readonly counts: Record<string, number>
  readonly total: number
  /** Up to 20 of them, decoded (when there are any). */
  readonly sample: ReadonlyArray<DeadLetterRow>
}

/** Reads the run's DEAD.<TYPE>_SUMMARY.1 topics: how many records each holds, and a few of them. */
export const readDeadLetters = async (prefix: string): Promise<DeadLetters> => {
  const topics = RolledUpTypes.map((t) => deadTopic(t, prefix))
  const client = admin()
  const counts: Record<string, number> = {}
  try {
    const metadata = await client.metadata({ topics })
    const request = (timestamp: bigint) =>
      topics.map((name) => ({
        name,
        partitions: Array.from({ length: metadata.topics.get(name)?.partitionsCount ?? 0 }, (_, i) => ({
          partitionIndex: i,
          timestamp,
        })),
      }))
    const [ends, starts] = await Promise.all([
      client.listOffsets({ topics: request(-1n) }),
      client.listOffsets({ topics: request(-2n) }),
    ])
    for (const t of ends) {
      const start = starts.find((s) => s.name === t.name)
      counts[t.name] = t.partitions.reduce(
        (a, p) =>
          a +
          Number(p.offset) -
          Number(start?.partitions.find((s) => s.partitionIndex === p.partitionIndex)?.offset ?? 0n),
        0,
      )
    }
  } finally {
    await client.close().catch(() => undefined)
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  const sample: Array<DeadLetterRow> = []
  if (total > 0) {
    const consumer = new Consumer({
      clientId: "tally-chaos-dead",
      groupId: `${prefix}chaos-dead-reader`,
      bootstrapBrokers: BROKERS,
      autocommit: false,
    })
    try {
      const stream = await consumer.consume({
        topics: topics.filter((t) => (counts[t] ?? 0) > 0),
        mode: "earliest",
        maxWaitTime: 500,
      })
      const deadline = setTimeout(() => stream.close().catch(() => undefined), 15_000)
      for await (const m of stream) {
        const d = DeadLetter.decode(m.value)
        sample.push({ topic: m.topic, key: d.key, reason: d.reason, stage: d.stage })
        if (sample.length >= Math.min(20, total)) break
      }
      clearTimeout(deadline)
      await stream.close().catch(() => undefined)
    } catch {
      // The counts are the verdict; the sample only illustrates it.
    } finally {
      await consumer.close(true).catch(() => undefined)
    }
  }
  return { counts, total, sample }
}
