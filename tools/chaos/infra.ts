/**
 * What a chaos run sets up, breaks and tears down outside tally's processes: fresh Postgres shard
 * databases (created and dropped here; some made to refuse connections), the Postgres server itself
 * (restarted), the run's Kafka topics (created with `tally topics ensure`, deleted with the run's
 * consumer groups at the end), the broker or the three-node cluster (scripts/kafka.sh), the partition
 * leaders, a probe producer whose acknowledged records are read back after a node is killed under it,
 * the embedded tally's size-limited volume (a tmpfs mount, filled up and freed), and the dead-letter
 * topics read back for the verdict.
 */
import { execFile } from "node:child_process"
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statfsSync,
  writeSync,
} from "node:fs"
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

/** A connection to the server's admin database; tried for up to `withinMs` (the server may be restarting). */
const withAdmin = async <A>(f: (client: pg.Client) => Promise<A>, withinMs = 60_000): Promise<A> => {
  const until = Date.now() + withinMs
  let client: pg.Client
  for (;;) {
    client = new pg.Client({ connectionString: pgServer(), connectionTimeoutMillis: 10_000 })
    try {
      await client.connect()
      break
    } catch (e) {
      await client.end().catch(() => undefined)
      if (Date.now() > until) throw e
      await new Promise((r) => setTimeout(r, 500))
    }
  }
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

/** The project's single broker (scripts/kafka.sh start). */
export const BROKERS = ["127.0.0.1:9092"]
/** The three-node cluster (scripts/kafka.sh cluster start): node N on 19091 + N. */
export const CLUSTER_BROKERS = ["127.0.0.1:19092", "127.0.0.1:19093", "127.0.0.1:19094"]
/**
 * Each broker's PROXIED listener (its port + 100) advertises its port + 200, where the harness runs a
 * proxy to the listener: a client bootstrapped at port + 200 reaches every broker through the proxies.
 */
export const proxiedPort = (broker: string) => Number(broker.split(":")[1]) + 200
export const proxiedListener = (broker: string) => Number(broker.split(":")[1]) + 100

const admin = (brokers: ReadonlyArray<string> = BROKERS) =>
  new Admin({ clientId: "tally-chaos", bootstrapBrokers: [...brokers], retries: 5, retryDelay: 500 })

const run = (file: string, args: ReadonlyArray<string>, timeoutMs = 180_000) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0
      resolve({ code, output: `${stdout}${stderr}`.trim() })
    })
  })

/** Runs `bash scripts/kafka.sh stop|start|status`; resolves with its exit code and stderr. */
export const kafkaScript = (root: string, command: "stop" | "start" | "status") =>
  run("bash", [join(root, "scripts/kafka.sh"), command])

/** Runs `bash scripts/kafka.sh cluster …` (start [N], kill N, stop [N], status). */
export const clusterScript = (root: string, ...args: ReadonlyArray<string>) =>
  run("bash", [join(root, "scripts/kafka.sh"), "cluster", ...args])

/** Whether something listens on 127.0.0.1:port. */
export const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    import("node:net").then(({ connect }) => {
      const s = connect(port, "127.0.0.1")
      s.once("connect", () => {
        s.destroy()
        resolve(true)
      })
      s.once("error", () => resolve(false))
    })
  })

/** Partition leaders of these topics: the node leading each partition, and how many each node leads. */
export const leaders = async (
  brokers: ReadonlyArray<string>,
  topics: ReadonlyArray<string>,
): Promise<{ byNode: Map<number, number>; of: (topic: string, partition: number) => number | undefined }> => {
  const client = admin(brokers)
  try {
    const metadata = await client.metadata({ topics: [...topics], forceUpdate: true })
    const byNode = new Map<number, number>()
    for (const t of metadata.topics.values())
      for (const p of t.partitions) if (p.leader >= 0) byNode.set(p.leader, (byNode.get(p.leader) ?? 0) + 1)
    return { byNode, of: (topic, partition) => metadata.topics.get(topic)?.partitions[partition]?.leader }
  } finally {
    await client.close().catch(() => undefined)
  }
}

/** Partitions of these topics whose in-sync replicas are fewer than their replicas (under-replicated). */
export const underReplicated = async (brokers: ReadonlyArray<string>, topics: ReadonlyArray<string>) => {
  const client = admin(brokers)
  try {
    const metadata = await client.metadata({ topics: [...topics], forceUpdate: true })
    let n = 0
    for (const t of metadata.topics.values())
      for (const p of t.partitions) if (p.isr.length < p.replicas.length || p.leader < 0) n++
    return n
  } finally {
    await client.close().catch(() => undefined)
  }
}

/** The local Postgres cluster (`pg_lsclusters`) serving the shards' port, for pg_ctlcluster. */
const pgCluster = async (port: number): Promise<{ version: string; name: string } | undefined> => {
  const r = await run("pg_lsclusters", ["-h"], 10_000)
  if (r.code !== 0) return undefined
  for (const line of r.output.split("\n")) {
    const [version, name, p] = line.trim().split(/\s+/)
    if (version && name && Number(p) === port) return { version, name }
  }
  return undefined
}

/**
 * Restarts the Postgres server (every shard at once): `pg_ctlcluster --skip-systemctl-redirect V NAME
 * restart -m fast` (TALLY_CHAOS_PG_RESTART overrides the command), then waits until it takes connections.
 */
export const restartPostgres = async (): Promise<{ ok: boolean; detail: string; downMs: number }> => {
  const port = Number(new URL(pgServer()).port || 5432)
  const t0 = Date.now()
  let r: { code: number; output: string }
  let what: string
  const custom = process.env.TALLY_CHAOS_PG_RESTART
  if (custom) {
    what = custom
    r = await run("sh", ["-c", custom], 120_000)
  } else {
    const c = await pgCluster(port)
    if (!c)
      return { ok: false, detail: `no local Postgres cluster on port ${port} (pg_lsclusters)`, downMs: 0 }
    what = `pg_ctlcluster --skip-systemctl-redirect ${c.version} ${c.name} restart -m fast`
    r = await run(
      "pg_ctlcluster",
      ["--skip-systemctl-redirect", c.version, c.name, "restart", "-m", "fast"],
      120_000,
    )
  }
  if (r.code !== 0)
    return { ok: false, detail: `${what} failed (${r.code}): ${r.output.slice(0, 200)}`, downMs: 0 }
  for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((x) => setTimeout(x, 200)))
    try {
      await withAdmin((c) => c.query("select 1"), 0)
      return { ok: true, detail: what, downMs: Date.now() - t0 }
    } catch {
      // still starting
    }
  return { ok: false, detail: `${what}: no connection within 60 s`, downMs: Date.now() - t0 }
}

/** The run's own scratch topic, where the harness checks that the broker takes idempotent produces. */
export const probeTopic = (prefix: string) => `${prefix}chaos-probe`

export const createProbeTopic = async (prefix: string, brokers: ReadonlyArray<string> = BROKERS) => {
  const client = admin(brokers)
  try {
    const three = brokers.length >= 3
    await client.createTopics({
      topics: [probeTopic(prefix)],
      partitions: three ? 3 : 1,
      replicas: three ? 3 : 1,
      ...(three ? { configs: [{ name: "min.insync.replicas", value: "2" }] } : {}),
    })
  } finally {
    await client.close().catch(() => undefined)
  }
}

/**
 * Whether the broker works, not only answers: an idempotent produce to the probe topic within
 * `withinMs` (a broker whose controller did not start answers on its port and never gives producer ids).
 */
export const brokerWorks = async (
  prefix: string,
  withinMs = 15_000,
  brokers: ReadonlyArray<string> = BROKERS,
): Promise<string | undefined> => {
  const until = Date.now() + withinMs
  let last = "no try"
  while (Date.now() < until) {
    const producer = new Producer({
      clientId: "tally-chaos-probe",
      bootstrapBrokers: [...brokers],
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
export const deleteRunTopics = async (
  prefix: string,
  brokers: ReadonlyArray<string> = BROKERS,
): Promise<{ topics: number; groups: number }> => {
  const client = admin(brokers)
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
export const readDeadLetters = async (
  prefix: string,
  brokers: ReadonlyArray<string> = BROKERS,
): Promise<DeadLetters> => {
  const topics = RolledUpTypes.map((t) => deadTopic(t, prefix))
  const client = admin(brokers)
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
      bootstrapBrokers: [...brokers],
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

/**
 * A producer of numbered records to one partition of the probe topic (idempotent, acks from all in-sync
 * replicas, one send at a time), to kill that partition's leader while a send is in flight and then check
 * that every acknowledged record is still there.
 */
export class ProbeWriter {
  private readonly producer: Producer
  private readonly topic: string
  readonly partition: number
  private seq = 0
  private running = false
  private loop: Promise<void> | undefined
  /** Sequence numbers of the records acknowledged. */
  readonly acknowledged: Array<number> = []
  failedSends = 0
  /** Resolves the next time a send is in flight (set while one is). */
  inFlight = false

  constructor(prefix: string, brokers: ReadonlyArray<string>, partition: number) {
    this.topic = probeTopic(prefix)
    this.partition = partition
    this.producer = new Producer({
      clientId: "tally-chaos-probe-writer",
      bootstrapBrokers: [...brokers],
      idempotent: true,
      retries: 10,
      retryDelay: 500,
      timeout: 10_000,
      requestTimeout: 15_000,
    })
  }

  /** Sends batches of 20 records one after the other until stopped. */
  start(): void {
    this.running = true
    this.loop = (async () => {
      while (this.running) {
        const batch = Array.from({ length: 20 }, () => this.seq++)
        this.inFlight = true
        try {
          await this.producer.send({
            messages: batch.map((n) => ({
              topic: this.topic,
              partition: this.partition,
              key: Buffer.from("probe"),
              value: Buffer.from(String(n)),
            })),
          })
          this.acknowledged.push(...batch)
        } catch {
          this.failedSends++
          await new Promise((r) => setTimeout(r, 200))
        } finally {
          this.inFlight = false
        }
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
  }

  /** Resolves once a send is in flight (within `withinMs`); false if none was. */
  async waitInFlight(withinMs = 5000): Promise<boolean> {
    for (const until = Date.now() + withinMs; Date.now() < until; await new Promise((r) => setImmediate(r)))
      if (this.inFlight) return true
    return false
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
    await this.producer.close(true).catch(() => undefined)
  }

  /** Reads the partition from its start: the sequence numbers found. */
  async readBack(brokers: ReadonlyArray<string>, groupId: string, withinMs = 30_000): Promise<Set<number>> {
    const found = new Set<number>()
    const client = admin(brokers)
    let end = 0n
    try {
      const offsets = await client.listOffsets({
        topics: [{ name: this.topic, partitions: [{ partitionIndex: this.partition, timestamp: -1n }] }],
      })
      end = offsets[0]?.partitions[0]?.offset ?? 0n
    } finally {
      await client.close().catch(() => undefined)
    }
    if (end === 0n) return found
    const consumer = new Consumer({
      clientId: "tally-chaos-probe-reader",
      groupId,
      bootstrapBrokers: [...brokers],
      autocommit: false,
    })
    try {
      const stream = await consumer.consume({ topics: [this.topic], mode: "earliest", maxWaitTime: 500 })
      const deadline = setTimeout(() => stream.close().catch(() => undefined), withinMs)
      for await (const m of stream) {
        if (m.partition === this.partition) {
          found.add(Number(m.value.toString()))
          if (m.offset + 1n >= end) break
        }
      }
      clearTimeout(deadline)
      await stream.close().catch(() => undefined)
    } finally {
      await consumer.close(true).catch(() => undefined)
    }
    return found
  }
}

/** The embedded tally's volume: a tmpfs of `sizeMb` at `dir` (root, or sudo without a password). */
export const mountVolume = async (dir: string, sizeMb: number): Promise<string | undefined> => {
  mkdirSync(dir, { recursive: true })
  await unmountVolume(dir)
  const args = ["-t", "tmpfs", "-o", `size=${sizeMb}m,mode=0700`, "tmpfs", dir]
  let r = await run("mount", args, 30_000)
  if (r.code !== 0 && process.getuid?.() !== 0) r = await run("sudo", ["-n", "mount", ...args], 30_000)
  return r.code === 0
    ? undefined
    : `cannot mount a ${sizeMb} MB tmpfs at ${dir} (needs root or sudo without a password): ${r.output.slice(0, 200)}`
}

export const unmountVolume = async (dir: string) => {
  const mounted = (await run("mountpoint", ["-q", dir], 10_000)).code === 0
  if (!mounted) return
  let r = await run("umount", ["-l", dir], 30_000)
  if (r.code !== 0 && process.getuid?.() !== 0) r = await run("sudo", ["-n", "umount", "-l", dir], 30_000)
}

const FILLER = ".chaos-filler"

/** Fills the volume at `dir` until the file system says it is full; returns the bytes it took. */
export const fillVolume = async (dir: string): Promise<number> => {
  const file = join(dir, FILLER)
  const before = statfsSync(dir)
  const free = Number(before.bavail * before.bsize)
  // fallocate takes the blocks at once (tmpfs and ext4 both support it); the rest byte by byte-ish.
  const r = await run("fallocate", ["-l", String(free), file], 60_000)
  if (r.code !== 0) await run("sh", ["-c", `head -c ${free} /dev/zero >> '${file}'`], 120_000)
  const fd = openSync(file, "a")
  try {
    for (let size = 65_536; size >= 1; ) {
      try {
        writeSync(fd, Buffer.alloc(size))
      } catch {
        size = Math.floor(size / 2)
      }
    }
  } finally {
    closeSync(fd)
  }
  const after = statfsSync(dir)
  return free - Number(after.bavail * after.bsize)
}

/** Frees what fillVolume took. */
export const freeVolume = (dir: string) => {
  if (existsSync(join(dir, FILLER))) rmSync(join(dir, FILLER), { force: true })
}

/** Bytes free on the volume at `dir`, and bytes used by what is not the filler. */
export const volumeUse = (dir: string) => {
  const s = statfsSync(dir)
  return {
    free: Number(s.bavail * s.bsize),
    size: Number(s.blocks * s.bsize),
    entries: existsSync(dir) ? readdirSync(dir).length : 0,
  }
}
