/**
 * `--demo`: a simulated fleet posting real Logplex drain bodies to this process's own /logs: three apps
 * with web and worker dynos, router traffic with a log-normal latency and a realistic status mix, memory
 * that grows into an R14, load, an H12 burst, a deploy and a release, a scale-up, a restart and a config
 * change, so every chart and marker of the dashboard fills within two minutes. It prints progress.
 */
import { randomBytes } from "node:crypto"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Clock, Console, Effect, Layer, Schedule } from "effect"
import { HttpServer } from "effect/http"
import { Apps } from "../apps/Apps.ts"
import { TallyConfig } from "../config/TallyConfig.ts"

interface DemoApp {
  readonly name: string
  readonly owner: string
  readonly secret: string
  readonly readToken: string
}

const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00")
const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`

/** Standard normal (Box-Muller), for log-normal latencies. */
const normal = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random())

/** The lines one app sends in one tick (`t` seconds into the demo). */
export const tickLines = (app: number, t: number, now: number): Array<string> => {
  const lines: Array<string> = []
  const webs = t >= 60 ? 3 : 2
  const h12 = app === 0 && t >= 40 && t < 52
  for (let i = 0; i < 40 + app * 15; i++) {
    const at = now - Math.floor(Math.random() * 2000)
    const dyno = `web.${1 + (i % webs)}`
    const r = Math.random()
    const status = h12 && r < 0.35 ? 503 : r < 0.9 ? 200 : r < 0.94 ? 304 : r < 0.98 ? 404 : 500
    const service =
      status === 503
        ? 30_000
        : Math.max(1, Math.round(Math.exp(3.6 + 0.7 * normal() + (app === 1 ? 0.4 : 0))))
    const code = status === 503 ? 'at=error code=H12 desc="Request timeout" ' : "at=info "
    lines.push(
      `<158>1 ${iso(at)} host heroku router - ${code}method=${r < 0.8 ? "GET" : "POST"} path="/items/${i % 50}" host=demo-${app}.herokuapp.com request_id=${randomBytes(8).toString("hex")} fwd="203.0.113.${i % 250}" dyno=${dyno} connect=${Math.round(Math.random() * 3)}ms service=${service}ms status=${status} bytes=${200 + Math.round(Math.random() * 4000)} protocol=https\n`,
    )
  }
  for (const [d, dyno] of [...Array.from({ length: webs }, (_, k) => `web.${k + 1}`), "worker.1"].entries()) {
    const worker = dyno.startsWith("worker")
    const growth = worker && app === 0 ? Math.min(700, 180 + t * 5) : 150 + d * 12 + Math.sin(t / 10) * 8
    const quota = 512
    lines.push(
      `<134>1 ${iso(now)} host heroku ${dyno} - source=${dyno} dyno=heroku.${app}.${d} sample#memory_total=${growth.toFixed(2)}MB sample#memory_rss=${(growth * 0.92).toFixed(2)}MB sample#memory_cache=${(growth * 0.05).toFixed(2)}MB sample#memory_swap=${Math.max(0, growth - quota).toFixed(2)}MB sample#memory_pgpgin=${10_000 + t * 50}pages sample#memory_pgpgout=${8_000 + t * 40}pages sample#memory_quota=${quota.toFixed(2)}MB\n`,
      `<134>1 ${iso(now)} host heroku ${dyno} - source=${dyno} dyno=heroku.${app}.${d} sample#load_avg_1m=${(0.2 + Math.random() * (worker ? 1.5 : 0.6)).toFixed(2)} sample#load_avg_5m=${(0.3 + Math.random() * 0.4).toFixed(2)} sample#load_avg_15m=${(0.3 + Math.random() * 0.2).toFixed(2)}\n`,
    )
    if (growth > quota)
      lines.push(`<45>1 ${iso(now)} host heroku ${dyno} - Error R14 (Memory quota exceeded)\n`)
  }
  const once = (at: number, line: string) => {
    if (t === at) lines.push(line)
  }
  once(30, `<134>1 ${iso(now)} host app api - Deploy 3f9a1c2 by user ops@example.com\n`)
  once(32, `<134>1 ${iso(now)} host app api - Release v${40 + app} created by user ops@example.com\n`)
  once(
    60,
    `<134>1 ${iso(now)} host app api - Scaled to web@3:Standard-1X worker@1:Standard-2X by user ops@example.com\n`,
  )
  once(80, `<45>1 ${iso(now)} host heroku web.1 - Restarting\n`)
  once(80, `<45>1 ${iso(now)} host heroku web.1 - State changed from up to starting\n`)
  once(90, `<134>1 ${iso(now)} host app api - Set FEATURE_FLAG config vars by user ops@example.com\n`)
  if (app === 0) once(100, `<45>1 ${iso(now)} host heroku worker.1 - State changed from up to crashed\n`)
  // Ordinary app output: ignored by tally, counted.
  lines.push(`<190>1 ${iso(now)} host app web.1 - Completed 200 OK in 12ms\n`)
  return lines
}

const NAMES = ["demo-shop", "demo-api", "demo-jobs"]

/** The demo apps, created once and remembered in the data dir so a restart keeps posting to the same apps. */
const demoApps = Effect.gen(function* () {
  const apps = yield* Apps
  const settings = yield* TallyConfig
  const file = join(settings.dataDir, "demo-apps.json")
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Array<DemoApp>
  const created: Array<DemoApp> = []
  for (const name of NAMES) {
    const app = yield* apps.create(`${name}-${randomBytes(2).toString("hex")}`)
    created.push({ name: app.name, owner: app.owner, secret: app.drainSecret, readToken: app.readToken })
  }
  writeFileSync(file, JSON.stringify(created, null, 2), { mode: 0o600 })
  return created
})

export const DemoFleet = Layer.effectDiscard(
  Effect.gen(function* () {
    const server = yield* HttpServer.HttpServer
    const address = server.address
    const port = address._tag === "UnixPathAddress" ? 0 : address.port
    const fleet = yield* demoApps
    yield* Console.log(
      `demo: ${fleet.length} apps posting drains to http://127.0.0.1:${port}/logs; open the dashboard with a read token:\n${fleet.map((a) => `  ${a.name}: ${a.readToken}`).join("\n")}`,
    )
    let t = 0
    let lines = 0
    let failed = 0
    const tick = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.promise(async () => {
        await Promise.all(
          fleet.map(async (app, i) => {
            const body = tickLines(i, t, now).map(frame).join("")
            const response = await fetch(`http://127.0.0.1:${port}/logs`, {
              method: "POST",
              headers: {
                authorization: `Basic ${Buffer.from(`tally:${app.secret}`).toString("base64")}`,
                "content-type": "application/logplex-1",
                "logplex-frame-id": randomBytes(16).toString("hex"),
                "logplex-drain-token": `d.${app.owner}`,
              },
              body,
            }).catch(() => undefined)
            if (response?.status === 204) lines += body.split("\n").length - 1
            else failed++
          }),
        )
        t += 2
        if (t % 20 === 0)
          console.log(`demo: ${t} s, ${lines} lines posted${failed ? `, ${failed} batches refused` : ""}`)
      }),
    )
    yield* tick.pipe(Effect.repeat(Schedule.spaced("2 seconds")), Effect.forkScoped)
  }),
)
