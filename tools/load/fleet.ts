/**
 * The simulated fleet: N apps, each with several process types (web, worker, clock, sometimes a fourth)
 * and several dynos, the hosts, paths and client addresses its router lines use, and every rollup series
 * its lines can touch, interned up front (see SeriesTable). Seeded: the same options give the same fleet.
 */
import { LOAD_METRICS, MEMORY_METRICS, SeriesTable } from "./metrics.ts"
import { Random } from "./random.ts"

/** Router status codes the generator uses, and the router/dyno/Logplex error codes. */
export const STATUSES = [200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 422, 499, 500, 503] as const
export const ROUTER_CODES = ["H10", "H12", "H13", "H14", "H18", "H27"] as const
export const DYNO_CODES = ["R10", "R14", "R15"] as const

/** The series of the router lines that land in one process type (a web process type, or `router`). */
export interface RouterSeries {
  readonly status: ReadonlyMap<number, number>
  readonly service: number
  readonly connect: number
  readonly bytes: number
  readonly errors: ReadonlyMap<string, number>
}

export interface Dyno {
  /** `web.2` */
  readonly name: string
  readonly processType: string
  /** `source=web.2 dyno=heroku.<n>.<uuid> `, the start of its runtime-metric lines. */
  readonly sourcePrefix: string
  readonly memorySlots: ReadonlyArray<number>
  readonly loadSlots: ReadonlyArray<number>
  readonly errorSlots: ReadonlyMap<string, number>
  readonly router: RouterSeries | undefined
  /** ` dyno=web.2 connect=` prerendered. */
  readonly dynoBytes: Buffer
  readonly quotaMb: number
  /** Simulation state: memory in hundredths of MB, cumulative page counts, load in hundredths. */
  memoryCents: number
  pgpgin: number
  pgpgout: number
  loadCents: number
}

export interface SimApp {
  readonly index: number
  /** Name used when the app is created (unique per run). */
  readonly name: string
  /** `myapp-3.herokuapp.com` */
  readonly host: string
  /** `d.<uuid>`, the Logplex-Drain-Token header. */
  readonly drainToken: string
  /** A Shield (log-shuttle) app: old header form, no Frame-Id or Drain-Token. */
  readonly shield: boolean
  readonly series: SeriesTable
  readonly dynos: ReadonlyArray<Dyno>
  readonly web: ReadonlyArray<Dyno>
  /** Router lines with an empty `dyno=` (H10, H14) land in process type `router`. */
  readonly routerless: RouterSeries
  /** errors{L10} of process type `logplex`. */
  readonly l10Slot: number
  /** Prerendered parts of router lines: `method=GET path="/x" host=<host>`, `fwd="…"`, the request id's prefix. */
  readonly requests: ReadonlyArray<string>
  readonly fwd: ReadonlyArray<string>
  readonly requestIdPrefix: string
  readonly requestBytes: ReadonlyArray<Buffer>
  readonly fwdBytes: ReadonlyArray<Buffer>
  /** ` request_id=<prefix>` */
  readonly requestIdBytes: Buffer
  /** What follows the timestamp in its router lines: ` host heroku router - ` (Shield: ` d.<token> heroku router - - `). */
  readonly routerHead: Buffer
  /** Log-normal service time parameters (ms). */
  readonly serviceMu: number
  readonly serviceSigma: number
  releases: number
  requestCounter: number
  /** Last platform-event time (ms) used, to keep events distinct. */
  lastEventMs: number
}

export interface FleetOptions {
  readonly apps: number
  readonly seed?: number
  /** How many of the apps (the last ones) send as Shield spaces do. Default 0. */
  readonly shieldApps?: number
  /** Prefix of app names (default `load`); a random suffix keeps runs apart. */
  readonly namePrefix?: string
}

const routerSeries = (series: SeriesTable, processType: string): RouterSeries => ({
  status: new Map(STATUSES.map((s) => [s, series.id(processType, "router_status", String(s))])),
  service: series.id(processType, "router_service_ms"),
  connect: series.id(processType, "router_connect_ms"),
  bytes: series.id(processType, "router_bytes"),
  errors: new Map(ROUTER_CODES.map((c) => [c, series.id(processType, "errors", c)])),
})

const PATHS = [
  "/",
  "/login",
  "/cart",
  "/api/v1/items",
  "/api/v1/orders",
  "/health",
  "/search",
  "/assets/app.js",
]
const METHODS = ["GET", "GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH"]

const makeApp = (index: number, rng: Random, shield: boolean, prefix: string): SimApp => {
  const series = new SeriesTable()
  const suffix = rng.hex(6)
  const types: Array<[string, number, number]> = [
    ["web", 2 + (index % 3), 512],
    ["worker", 1 + (index % 2), 1024],
  ]
  if (index % 2 === 0) types.push(["clock", 1, 512])
  if (index % 4 === 3) types.push(["urgent_worker", 2, 2560])
  const dynos: Array<Dyno> = []
  for (const [processType, count, quotaMb] of types)
    for (let d = 1; d <= count; d++) {
      const name = `${processType}.${d}`
      dynos.push({
        name,
        processType,
        sourcePrefix: `source=${name} dyno=heroku.${rng.int(10_000_000, 399_999_999)}.${rng.uuid()} `,
        memorySlots: MEMORY_METRICS.map((m) => series.id(processType, m)),
        loadSlots: LOAD_METRICS.map((m) => series.id(processType, m)),
        errorSlots: new Map(["R10", "R14", "R15"].map((c) => [c, series.id(processType, "errors", c)])),
        router: processType === "web" ? routerSeries(series, "web") : undefined,
        dynoBytes: Buffer.from(` dyno=${name} connect=`, "latin1"),
        quotaMb,
        memoryCents: rng.int(quotaMb * 20, quotaMb * 60),
        pgpgin: rng.int(10_000, 90_000),
        pgpgout: rng.int(5_000, 50_000),
        loadCents: rng.int(0, 80),
      })
    }
  const host = `${prefix}-${index}-${suffix}.herokuapp.com`
  const drainToken = `d.${rng.uuid()}`
  const requests = Array.from({ length: 48 }, (_, i) => {
    const path = PATHS[i % PATHS.length]!
    const tail = i < PATHS.length ? "" : path === "/" ? String(i) : `/${i}`
    return `method=${METHODS[i % METHODS.length]} path="${path}${tail}" host=${host}`
  })
  const fwd = Array.from({ length: 32 }, (_, i) =>
    i % 4 === 0
      ? `fwd="198.51.100.${rng.int(1, 254)},203.0.113.${rng.int(1, 254)}"`
      : `fwd="203.0.113.${rng.int(1, 254)}"`,
  )
  const requestIdPrefix = `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-a${rng.hex(3)}-`
  return {
    index,
    name: `${prefix}-${index}-${suffix}`,
    host,
    drainToken,
    shield,
    series,
    dynos,
    web: dynos.filter((d) => d.processType === "web"),
    routerless: routerSeries(series, "router"),
    l10Slot: series.id("logplex", "errors", "L10"),
    requests,
    fwd,
    requestIdPrefix,
    requestBytes: requests.map((r) => Buffer.from(r, "latin1")),
    fwdBytes: fwd.map((f) => Buffer.from(` ${f}`, "latin1")),
    requestIdBytes: Buffer.from(` request_id=${requestIdPrefix}`, "latin1"),
    routerHead: Buffer.from(
      shield ? ` ${drainToken} heroku router - - ` : " host heroku router - ",
      "latin1",
    ),
    serviceMu: 3 + (index % 4) * 0.35,
    serviceSigma: 0.7 + (index % 3) * 0.1,
    releases: rng.int(10, 300),
    requestCounter: 0,
    lastEventMs: 0,
  }
}

export interface Fleet {
  readonly apps: ReadonlyArray<SimApp>
  readonly seed: number
}

export const makeFleet = (options: FleetOptions): Fleet => {
  const seed = options.seed ?? 1
  const rng = new Random(seed ^ 0x5eed)
  const shieldFrom = options.apps - (options.shieldApps ?? 0)
  const prefix = options.namePrefix ?? "load"
  return {
    seed,
    apps: Array.from({ length: options.apps }, (_, i) => makeApp(i, rng, i >= shieldFrom, prefix)),
  }
}
