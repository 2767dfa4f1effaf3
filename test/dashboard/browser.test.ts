/**
 * The dashboard in a real browser (playwright-core driving Debian's chromium): drain traffic in through
 * /logs, the whole pipeline in one process, then every chart must have drawn data and event markers.
 * A screenshot is saved under test-output/.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { chromium } from "playwright-core"
import { Bus } from "../../src/bus/Bus.ts"
import { allServices } from "../../src/cli/all.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { tickLines } from "../../src/demo/Fleet.ts"
import { Stages } from "../../src/stream/Stage.ts"
import { ADMIN, baseUrl } from "../support/http.ts"

const CHROMIUM = "/usr/bin/chromium"
const out = join(import.meta.dirname, "../../test-output")
const stack = allServices(false).pipe(
  Layer.provideMerge(Bus.layerMemory),
  Layer.provideMerge(Stages.layer),
  Layer.provideMerge(
    TallyConfig.layerWith({
      port: 0,
      dataDir: mkdtempSync(join(tmpdir(), "tally-browser-")),
      flushAfter: Duration.millis(500),
      adminToken: Option.some(Redacted.make(ADMIN)),
    }),
  ),
)

const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`

layer(stack, {
  excludeTestServices: true,
  timeout: "120 seconds",
})("dashboard", (it) => {
  it.effect(
    "after drain traffic every chart draws data with event markers (screenshot in test-output/)",
    () =>
      Effect.gen(function* () {
        if (!existsSync(CHROMIUM))
          assert.fail(`Debian's chromium is missing at ${CHROMIUM}: apt-get install -y chromium`)
        const base = yield* baseUrl
        const admin = ADMIN
        const app = yield* Effect.promise(async () => {
          const r = await fetch(`${base}/api/v1/apps`, {
            method: "POST",
            headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
            body: JSON.stringify({ name: "browser-shop" }),
          })
          return (await r.json()) as { drainUrl: string; readToken: string; owner: string }
        })
        const secret = new URL(app.drainUrl).password
        // A fleet's worth of drain batches: router traffic, memory into an R14, load, an H12 burst, events.
        // 100 minutes of it, one batch a minute of event time, so the 2 h charts have shape.
        const now = Date.now() - 105 * 60_000
        for (let t = 0; t <= 100; t += 1) {
          const body = tickLines(0, t, now + t * 60_000)
            .map(frame)
            .join("")
          const r = yield* Effect.promise(() =>
            fetch(`${base}/logs`, {
              method: "POST",
              headers: {
                authorization: `Basic ${Buffer.from(`tally:${secret}`).toString("base64")}`,
                "content-type": "application/logplex-1",
              },
              body,
            }),
          )
          assert.strictEqual(r.status, 204)
        }
        // Wait until the rollups are stored (flushAfter 500 ms, sink linger 500 ms).
        const ready = async () => {
          const q = (m: string) =>
            fetch(
              `${base}/api/v1/apps/${app.owner}/metrics/${m}?from=${new Date(Math.floor(now / 3_600_000) * 3_600_000 - 3_600_000).toISOString().replace(".000", "")}&to=${new Date(Math.ceil((Date.now() + 60_000) / 3_600_000) * 3_600_000).toISOString().replace(".000", "")}&step=1m`,
              { headers: { authorization: `Bearer ${app.readToken}` } },
            ).then((r) => r.json() as Promise<{ series: Array<unknown> }>)
          const all = await Promise.all(
            ["memory_total", "load_avg_1m", "router_service_ms", "router_status", "errors"].map(q),
          )
          return all.every((r) => r.series.length > 0)
        }
        const deadline = Date.now() + 60_000
        while (!(yield* Effect.promise(ready)) && Date.now() < deadline)
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 500)))

        const browser = yield* Effect.promise(() =>
          chromium.launch({
            executablePath: CHROMIUM,
            args: [
              "--headless",
              "--no-sandbox",
              "--disable-gpu",
              "--disable-background-networking",
              "--disable-component-update",
              "--no-first-run",
            ],
          }),
        )
        const result = yield* Effect.promise(async () => {
          try {
            const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } })
            // The page works under its Content-Security-Policy: nothing it does is refused.
            const refused: Array<string> = []
            page.on("console", (m) => {
              if (/Content Security Policy/i.test(m.text())) refused.push(m.text())
            })
            await page.goto(`${base}/`)
            await page.fill("#token", app.readToken)
            await page.click("#login button")
            await page.waitForSelector("body[data-loaded=true]", { timeout: 30_000 })
            const charts = await page.$$eval(".chart", (els) =>
              els.map((e) => ({
                id: e.id,
                points: Number((e as HTMLElement).dataset.points),
                events: Number((e as HTMLElement).dataset.events),
                canvas: e.querySelector("canvas") !== null,
              })),
            )
            mkdirSync(out, { recursive: true })
            await page.screenshot({ path: join(out, "dashboard.png"), fullPage: true })
            return { charts, refused }
          } finally {
            await browser.close()
          }
        })
        assert.deepStrictEqual(result.refused, [])
        assert.deepStrictEqual(
          result.charts.map((c) => c.id),
          ["chart-memory", "chart-load", "chart-latency", "chart-throughput", "chart-errors"],
        )
        for (const c of result.charts) {
          assert.isTrue(c.canvas, `${c.id} drew a canvas`)
          assert.isAbove(c.points, 0, `${c.id} has data`)
          assert.isAbove(c.events, 0, `${c.id} has event markers`)
        }
      }),
    110_000,
  )
})
