/**
 * The dashboard in a real browser (playwright-core driving Debian's chromium) against the whole pipeline
 * in one process (`tally all`, alerter included): drain traffic through /logs (20 h of history, then live
 * lines every 2 s), an alert rule that fires on the live minutes. At 1400 px (a read token) and 800 px
 * (the admin token, app picker, process-type filter, UTC): every chart and table, x scales equal to the
 * chosen range, no clipped or overlapping axis labels, no overlapping markers, the firing banner and the threshold
 * line, no CSP violation, favicon, and screenshots under test-output/ checked for size and content.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll } from "vitest"
import { Bus } from "../../src/bus/Bus.ts"
import { allServices } from "../../src/cli/all.ts"
import { TallyConfig } from "../../src/config/TallyConfig.ts"
import { tickLines } from "../../src/demo/Fleet.ts"
import { Stages } from "../../src/stream/Stage.ts"
import { ADMIN, baseUrl } from "../support/http.ts"

const CHROMIUM = "/usr/bin/chromium"
const out = join(import.meta.dirname, "../../test-output")
const MIN = 60_000
const HOUR = 60 * MIN
const RANGES = {
  "2h": { ms: 2 * HOUR, stepMs: MIN },
  "24h": { ms: 24 * HOUR, stepMs: 10 * MIN },
  "72h": { ms: 72 * HOUR, stepMs: 15 * MIN },
  "7d": { ms: 7 * 24 * HOUR, stepMs: HOUR },
} as const
const CHARTS = ["chart-latency", "chart-throughput", "chart-memory", "chart-load", "chart-errors"]
/** The rule the live traffic breaches: every minute's p95 is far above 5 ms. */
const RULE = { name: "slow-web", metric: "router_p95_ms", processType: "web", threshold: 5, for: "1m" }

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

interface App {
  readonly owner: string
  readonly name: string
  readonly readToken: string
  readonly secret: string
}

const frame = (line: string) => `${Buffer.byteLength(line)} ${line}`

const admin = async <A>(base: string, method: string, path: string, body?: unknown): Promise<A> => {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}

const createApp = async (base: string, name: string): Promise<App> => {
  const a = await admin<{ owner: string; name: string; drainUrl: string; readToken: string }>(
    base,
    "POST",
    "/api/v1/apps",
    { name },
  )
  return { ...a, secret: new URL(a.drainUrl).password }
}

const drain = async (base: string, app: App, lines: Array<string>) => {
  const r = await fetch(`${base}/logs`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`tally:${app.secret}`).toString("base64")}`,
      "content-type": "application/logplex-1",
    },
    body: lines.map(frame).join(""),
  })
  if (r.status !== 204) throw new Error(`drain: ${r.status} ${await r.text()}`)
}

const read = async <A>(base: string, token: string, path: string): Promise<A> => {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}

const waitFor = async <A>(what: string, withinMs: number, probe: () => Promise<A | undefined>) => {
  const deadline = Date.now() + withinMs
  for (;;) {
    const a = await probe()
    if (a !== undefined) return a
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

let live: ReturnType<typeof setInterval> | undefined
afterAll(() => clearInterval(live))

/**
 * Once per file: an app with 20 h of history (a few batches 20, 12 and 6 hours ago, then 100 minutes of
 * the demo fleet's batches: router traffic, an H12 burst, memory into R14, events), an app without data,
 * the rule, then live traffic every 2 s until the rule fires.
 */
let setup: Promise<{ shop: App; empty: App }> | undefined
const prepare = (base: string) =>
  (setup ??= (async () => {
    const shop = await createApp(base, "browser-shop")
    const empty = await createApp(base, "browser-empty")
    await admin(base, "POST", `/api/v1/apps/${shop.owner}/alerts`, { ...RULE, minRequests: 1 })
    const now = Date.now()
    for (const hoursAgo of [20, 12, 6]) await drain(base, shop, tickLines(0, 5, now - hoursAgo * HOUR))
    const start = now - 105 * MIN
    for (let t = 0; t <= 100; t += 1) await drain(base, shop, tickLines(0, t, start + t * MIN))
    let t = 200
    live = setInterval(() => {
      t += 2
      drain(base, shop, tickLines(0, t, Date.now())).catch(() => undefined)
    }, 2_000)
    const range = `from=${new Date(now - 21 * HOUR).toISOString()}&to=${new Date(now + HOUR).toISOString()}&step=1h`
    await waitFor("rollups of every metric", 60_000, async () => {
      const all = await Promise.all(
        ["memory_total", "load_avg_1m", "router_service_ms", "router_status", "errors"].map((m) =>
          read<{ series: Array<unknown> }>(
            base,
            shop.readToken,
            `/api/v1/apps/${shop.owner}/metrics/${m}?${range}`,
          ),
        ),
      )
      return all.every((r) => r.series.length > 0) ? true : undefined
    })
    // The rule judges whole minutes after its creation: due a minute and flushAfter + 2 s after each.
    await waitFor("the rule firing, and its event", 200_000, async () => {
      const { alerts } = await read<{ alerts: Array<{ state: string }> }>(
        base,
        shop.readToken,
        `/api/v1/apps/${shop.owner}/alerts`,
      )
      const { events } = await read<{ events: Array<{ kind: string }> }>(
        base,
        shop.readToken,
        `/api/v1/apps/${shop.owner}/events?from=${new Date(now - HOUR).toISOString()}`,
      )
      return alerts[0]?.state === "firing" && events.some((e) => e.kind === "alert") ? true : undefined
    })
    return { shop, empty }
  })())

const launch = () =>
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
  })

/** A page that records CSP violations (console and securitypolicyviolation) and failed responses. */
const watchedPage = async (browser: Browser, width: number, timezoneId: string) => {
  const context = await browser.newContext({ viewport: { width, height: 1000 }, timezoneId })
  const page = await context.newPage()
  const refused: Array<string> = []
  const failed: Array<string> = []
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) refused.push(m.text())
  })
  page.on("response", (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`)
  })
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const w = window as unknown as { cspViolations?: Array<string> }
      w.cspViolations = [...(w.cspViolations ?? []), `${e.violatedDirective} ${e.blockedURI}`]
    })
  })
  return { page, refused, failed }
}

/** Waits for a load newer than the one seen before `act`. */
const reloaded = async (page: Page, act: () => Promise<unknown>) => {
  const before = await page.evaluate(() => Number(document.body.dataset.loaded ?? 0))
  await act()
  await page.waitForFunction((n) => Number(document.body.dataset.loaded ?? 0) > n, before, {
    timeout: 30_000,
  })
}

/** What the page exposes on `window` (the uPlot objects and the range on screen), as the test reads it. */
interface PageWindow {
  readonly tally: {
    readonly charts: Record<
      string,
      {
        readonly scales: Record<string, { min: number; max: number }>
        readonly series: Array<{ label?: string }>
        readonly data: Array<Array<number | null>>
      }
    >
    readonly window: { fromMs: number; toMs: number; step: string }
  }
  readonly cspViolations?: Array<string>
}

interface ChartInfo {
  readonly id: string
  readonly points: number
  readonly events: number
  readonly thresholds: number
  readonly xMin: number | null
  readonly xMax: number | null
  readonly clusters: Array<{ x: number; kinds: Array<string> }>
  /** Tick labels drawn past the canvas or their axis' band, with their boxes. */
  readonly clipped: Array<string>
  /** Pairs of tick labels of one axis whose boxes intersect. */
  readonly overlapping: Array<string>
  readonly labels: number
  /** Values of each line at the bucket still filling (must be null: drawn dashed, not as a line). */
  readonly partialValues: Array<number | null>
}

/**
 * Every chart's state from its uPlot object: scales, markers, and the box of every tick label computed
 * the way uPlot draws it (font, alignment, tick size and gap from its axis) and measured here.
 */
const charts = (page: Page): Promise<Array<ChartInfo>> =>
  page.evaluate((ids) => {
    type Axis = {
      show: boolean
      side: number
      scale: string
      font: [string, number]
      gap: number
      lineGap: number
      ticks: { show: boolean; size: number }
      _pos: number
      _size: number
      _splits: Array<number>
      _values: Array<string | null>
    }
    type U = {
      ctx: CanvasRenderingContext2D
      width: number
      axes: Array<Axis>
      scales: Record<string, { min: number | null; max: number | null }>
      series: Array<unknown>
      data: Array<Array<number | null>>
      valToPos: (v: number, scale: string, canvas: boolean) => number
      tallyClusters?: Array<{ x: number; events: Array<{ kind: string }> }>
    }
    const tally = (window as unknown as { tally: { charts: Record<string, U>; window: { fromMs: number } } })
      .tally
    return ids.map((id) => {
      const section = document.getElementById(id)!
      const u = tally.charts[id]
      const base = {
        id,
        points: Number(section.dataset.points),
        events: Number(section.dataset.events),
        thresholds: Number(section.dataset.thresholds),
      }
      if (!u)
        return {
          ...base,
          xMin: null,
          xMax: null,
          clusters: [],
          clipped: [],
          overlapping: [],
          labels: 0,
          partialValues: [],
        }
      const canvas = u.ctx.canvas
      const px = canvas.width / u.width
      const clipped: Array<string> = []
      const overlapping: Array<string> = []
      let labels = 0
      u.axes.forEach((a, i) => {
        if (!a.show) return
        const drawn: Array<{ k: number; text: string; box: [number, number, number, number] }> = []
        u.ctx.font = a.font[0]
        const tick = (a.ticks.show ? a.ticks.size : 0) + a.gap
        a._values.forEach((v, k) => {
          if (v == null || v === "") return
          const at = u.valToPos(a._splits[k]!, a.scale, true)
          String(v)
            .split("\n")
            .forEach((text, j) => {
              const w = u.ctx.measureText(text).width
              const h = a.font[1]
              let box: [number, number, number, number]
              let band: [number, number] = [0, canvas.width]
              if (a.side === 2) {
                const top = (a._pos + tick) * px + j * h * a.lineGap
                box = [at - w / 2, at + w / 2, top, top + h]
              } else if (a.side === 3) {
                const right = (a._pos - tick) * px
                box = [right - w, right, at - h / 2, at + h / 2]
                band = [(a._pos - a._size) * px - 1, a._pos * px + 1]
              } else {
                const left = (a._pos + tick) * px
                box = [left, left + w, at - h / 2, at + h / 2]
                band = [a._pos * px - 1, (a._pos + a._size) * px + 1]
              }
              labels++
              const inside =
                box[0] >= Math.max(0, band[0]) &&
                box[1] <= Math.min(canvas.width, band[1]) &&
                box[2] >= 0 &&
                box[3] <= canvas.height
              if (!inside) clipped.push(`axis ${i} "${text}" at ${box.map(Math.round).join(",")}`)
              for (const o of drawn)
                if (
                  o.k !== k &&
                  o.box[0] < box[1] &&
                  box[0] < o.box[1] &&
                  o.box[2] < box[3] &&
                  box[2] < o.box[3]
                )
                  overlapping.push(`axis ${i} "${o.text}" and "${text}"`)
              drawn.push({ k, text, box })
            })
        })
      })
      const partialAt = u.data[0]!.findIndex((x) => (x ?? 0) * 1000 > Date.now()) - 1
      const last = partialAt < 0 ? u.data[0]!.length - 1 : partialAt
      return {
        ...base,
        xMin: u.scales.x!.min,
        xMax: u.scales.x!.max,
        clusters: (u.tallyClusters ?? []).map((c) => ({ x: c.x, kinds: c.events.map((e) => e.kind) })),
        clipped,
        overlapping,
        labels,
        partialValues: section.id === "chart-errors" ? [] : u.data.slice(1).map((d) => d[last] ?? null),
      }
    })
  }, CHARTS)

/** The range a page shows must be the whole range asked: from `to` (now, up to the step) back. */
const assertRange = (info: Array<ChartInfo>, range: keyof typeof RANGES, before: number, after: number) => {
  const { ms, stepMs } = RANGES[range]
  for (const c of info) {
    if (c.xMax === null) continue
    const end = c.xMax * 1000
    assert.isTrue(
      end % stepMs === 0 &&
        end >= Math.ceil(before / stepMs) * stepMs &&
        end <= Math.ceil(after / stepMs) * stepMs,
      `${range} ${c.id}: x ends at ${c.xMax} (now, up to the step)`,
    )
    assert.strictEqual((c.xMax - c.xMin!) * 1000, ms, `${range} ${c.id}: x spans the whole range`)
    assert.deepStrictEqual(c.clipped, [], `${range} ${c.id}: no tick label clipped`)
    assert.deepStrictEqual(c.overlapping, [], `${range} ${c.id}: no tick labels overlap`)
    assert.isAbove(c.labels, 4, `${range} ${c.id}: tick labels drawn`)
    // Markers never overlap: those closer than 8 px are one marker with a count.
    for (let i = 1; i < c.clusters.length; i++)
      assert.isAtLeast(c.clusters[i]!.x - c.clusters[i - 1]!.x, 7.9, `${range} ${c.id}: markers apart`)
  }
}

/**
 * A screenshot saved under test-output/ and checked: a PNG of the viewport's width (nothing overflows
 * sideways), tall enough for the page, and not blank (decoded in a blank page: many colours, most of
 * them not the background's).
 */
const screenshot = async (browser: Browser, page: Page, file: string, width: number) => {
  mkdirSync(out, { recursive: true })
  const png = await page.screenshot({ fullPage: true })
  writeFileSync(join(out, file), png)
  assert.strictEqual(png.subarray(1, 4).toString("latin1"), "PNG")
  assert.strictEqual(png.readUInt32BE(16), width, `${file}: as wide as the viewport`)
  assert.isAbove(png.readUInt32BE(20), 900, `${file}: the page's height`)
  const blank = await browser.newPage()
  try {
    const stats = await blank.evaluate(
      async (src) => {
        const img = new Image()
        img.src = src
        await img.decode()
        const canvas = document.createElement("canvas")
        canvas.width = img.width
        canvas.height = img.height
        const ctx = canvas.getContext("2d")!
        ctx.drawImage(img, 0, 0)
        const data = ctx.getImageData(0, 0, img.width, img.height).data
        const background = data.slice(0, 3).join(",")
        const colours = new Set<string>()
        let other = 0
        let n = 0
        for (let i = 0; i < data.length; i += 4 * 7) {
          const c = `${data[i]},${data[i + 1]},${data[i + 2]}`
          colours.add(c)
          if (c !== background) other++
          n++
        }
        return { colours: colours.size, other: other / n }
      },
      `data:image/png;base64,${png.toString("base64")}`,
    )
    assert.isAbove(stats.colours, 200, `${file}: drawn (distinct colours)`)
    // Panels on a dark page: a drawn dashboard is ~0.25 non-background at 1400 px, an empty one ~0.02.
    assert.isAbove(stats.other, 0.15, `${file}: drawn (share of non-background pixels)`)
  } finally {
    await blank.close()
  }
}

layer(stack, {
  excludeTestServices: true,
  timeout: "300 seconds",
})("dashboard", (it) => {
  it.effect(
    "1400 px with a read token: app name, every chart over the whole range, alert state, tables, screenshot",
    () =>
      Effect.gen(function* () {
        if (!existsSync(CHROMIUM))
          assert.fail(`Debian's chromium is missing at ${CHROMIUM}: apt-get install -y chromium`)
        const base = yield* baseUrl
        const { shop } = yield* Effect.promise(() => prepare(base))
        const favicon = yield* Effect.promise(() => fetch(`${base}/favicon.ico`))
        assert.strictEqual(favicon.status, 200)
        assert.strictEqual(favicon.headers.get("content-type"), "image/svg+xml")
        assert.match(yield* Effect.promise(() => favicon.text()), /^<svg /)

        const browser = yield* Effect.promise(launch)
        yield* Effect.promise(async () => {
          try {
            const { page, refused, failed } = await watchedPage(browser, 1400, "UTC")
            await page.goto(`${base}/`)
            // No token yet: the form says what to paste.
            assert.match((await page.textContent("#login")) ?? "", /read token/)
            const opened = Date.now()
            await reloaded(page, async () => {
              await page.fill("#token", shop.readToken)
              await page.click("#login button[type=submit]")
            })
            assert.strictEqual(await page.textContent("#app-name"), "browser-shop")
            assert.isFalse(await page.isVisible("#app-pick"), "a read token shows its app only")
            assert.deepStrictEqual(
              await page.$$eval("#process option", (os) => os.map((o) => (o as HTMLOptionElement).value)),
              ["", "web", "worker"],
            )
            assert.deepStrictEqual(
              await page.$$eval("#ranges button", (bs) => bs.map((b) => b.textContent)),
              ["Past 2 h", "24 h", "72 h", "7 d"],
            )
            assert.match((await page.textContent("#tz-name")) ?? "", /UTC.*\(UTC\+00:00\)/)
            assert.strictEqual(
              await page.evaluate(() => localStorage.getItem("tally.token")),
              shop.readToken,
              "a read token is remembered in this browser",
            )

            // The firing banner, the threshold on the response-time chart, the alert on the timeline.
            assert.isTrue(await page.isVisible("#banner.firing"))
            assert.match((await page.textContent("#banner")) ?? "", /Firing slow-web: router_p95_ms of web/)
            let info = await charts(page)
            assertRange(info, "2h", opened, Date.now())
            assert.deepStrictEqual(
              info.map((c) => c.id),
              CHARTS,
            )
            for (const c of info) {
              assert.isAbove(c.points, 0, `${c.id} has data`)
              assert.isAbove(c.events, 0, `${c.id} has event markers`)
              // The bucket still filling is not part of any line (it is drawn dashed in a shaded band).
              for (const v of c.partialValues) assert.isNull(v, `${c.id}: the unfinished minute is no line`)
            }
            const latency = info.find((c) => c.id === "chart-latency")!
            assert.strictEqual(latency.thresholds, 1)
            assert.isTrue(
              latency.clusters.some((c) => c.kinds.includes("alert")),
              "alert transitions are markers",
            )
            const y = await page.evaluate(() => {
              const u = (window as unknown as PageWindow).tally.charts["chart-latency"]!
              return [u.scales.y!.min, u.scales.y!.max] as const
            })
            assert.isTrue(y[0] <= RULE.threshold && RULE.threshold <= y[1], `threshold within y ${y}`)
            assert.isTrue(await page.isVisible("#chart-latency.firing"))

            // Errors with Heroku's descriptions and the counts the API gives; the events list.
            const w = await page.evaluate(() => (window as unknown as PageWindow).tally.window)
            const errors = await read<{ series: Array<{ label: string; points: Array<{ sum: number }> }> }>(
              base,
              shop.readToken,
              `/api/v1/apps/${shop.owner}/metrics/errors?from=${new Date(w.fromMs).toISOString()}&to=${new Date(w.toMs).toISOString()}`,
            )
            const rows = await page.$$eval("#error-codes tbody tr", (trs) =>
              trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
            )
            const byCode = new Map(rows.map((r) => [r[0], r]))
            assert.match(byCode.get("H12")?.[1] ?? "", /^Request timeout/)
            assert.match(byCode.get("R14")?.[1] ?? "", /^Memory quota exceeded/)
            for (const code of ["H12", "R14"]) {
              const total = errors.series
                .filter((s) => s.label === code)
                .flatMap((s) => s.points)
                .reduce((n, p) => n + p.sum, 0)
              // Live R14s may land between the page's read and this one: at most a few seconds' worth.
              const shown = Number(byCode.get(code)?.[2]?.replaceAll(",", ""))
              assert.isTrue(
                shown > 0 && shown <= total && total - shown < 40,
                `${code}: ${shown} of ${total}`,
              )
            }
            const kinds = await page.$$eval("#events tbody tr", (trs) => trs.map((tr) => tr.dataset.kind))
            for (const kind of ["alert", "deploy", "release", "scale", "restart", "config", "crash"])
              assert.include(kinds, kind)
            assert.match(
              (await page.textContent('#events tr[data-kind="alert"] td:nth-child(4)')) ?? "",
              /^slow-web (firing|pending): router_p95_ms of web/,
            )
            await screenshot(browser, page, "dashboard-1400.png", 1400)
            for (const id of CHARTS) {
              const shot = await page.locator(`#${id}`).screenshot()
              writeFileSync(join(out, `dashboard-1400-${id}.png`), shot)
              assert.isAbove(shot.length, 5_000, `${id} drew`)
            }

            // Every range shows the whole range; markers do not overlap at 24 h.
            for (const range of ["24h", "72h", "7d", "2h"] as const) {
              const t0 = Date.now()
              await reloaded(page, () => page.click(`#ranges button[data-range="${range}"]`))
              info = await charts(page)
              assertRange(info, range, t0, Date.now())
              if (range === "24h") {
                const markers = info.find((c) => c.id === "chart-memory")!
                assert.isTrue(
                  markers.clusters.some((c) => c.kinds.length > 1),
                  "events minutes apart are one marker at 24 h",
                )
                await screenshot(browser, page, "dashboard-1400-24h.png", 1400)
              }
            }

            // Requests per minute whatever the step: the 24 h chart's 10-minute bucket of an hour ago is
            // the API's 1-minute counts of those 10 minutes, over 10.
            const bucket = Math.floor((Date.now() - HOUR) / (10 * MIN)) * 10 * MIN
            await reloaded(page, () => page.click('#ranges button[data-range="24h"]'))
            const shown = await page.evaluate((x) => {
              const u = (window as unknown as PageWindow).tally.charts["chart-throughput"]!
              const k = u.data[0]!.indexOf(x / 1000)
              return Object.fromEntries(u.series.slice(1).map((s, i) => [s.label, u.data[i + 1]![k]]))
            }, bucket)
            const status = await read<{ series: Array<{ label: string; points: Array<{ count: number }> }> }>(
              base,
              shop.readToken,
              `/api/v1/apps/${shop.owner}/metrics/router_status?from=${new Date(bucket).toISOString()}&to=${new Date(bucket + 10 * MIN).toISOString()}&step=1m`,
            )
            const perClass = (c: string) =>
              status.series
                .filter((s) => `${s.label[0]}xx` === c)
                .flatMap((s) => s.points)
                .reduce((n, p) => n + p.count, 0) / 10
            assert.isAbove(perClass("2xx"), 0)
            for (const c of ["2xx", "3xx", "4xx", "5xx"])
              if (perClass(c) > 0) assert.closeTo(shown[c], perClass(c), 1e-9, `${c} per minute`)

            assert.deepStrictEqual(refused, [])
            assert.deepStrictEqual(
              await page.evaluate(() => (window as unknown as PageWindow).cspViolations ?? []),
              [],
            )
            assert.deepStrictEqual(failed, [], "no request failed (favicon included)")
          } finally {
            await browser.close()
          }
        })
      }),
    290_000,
  )

  it.effect(
    "800 px with the admin token: app picker, the empty app teaches the drain, process filter, UTC toggle",
    () =>
      Effect.gen(function* () {
        const base = yield* baseUrl
        yield* Effect.promise(() => prepare(base))
        const browser = yield* Effect.promise(launch)
        yield* Effect.promise(async () => {
          try {
            // A zone 5:30 from UTC, so local and UTC times differ.
            const { page, refused, failed } = await watchedPage(browser, 800, "Asia/Kolkata")
            const requests: Array<string> = []
            page.on("request", (r) => requests.push(r.url()))
            await page.goto(`${base}/`)
            await reloaded(page, async () => {
              await page.fill("#token", ADMIN)
              await page.click("#login button[type=submit]")
            })
            assert.deepStrictEqual(
              await page.evaluate(() => [
                localStorage.getItem("tally.token"),
                sessionStorage.getItem("tally.token"),
              ]),
              [null, ADMIN],
              "the admin token is kept for this tab only",
            )
            const options = await page.$$eval("#app-select option", (os) =>
              os.map((o) => (o as HTMLOptionElement).textContent),
            )
            assert.includeMembers(options, ["browser-empty", "browser-shop"])
            assert.isTrue(await page.isVisible("#app-select"))

            // The app without data: what to do, instead of empty charts.
            await page.selectOption("#app-select", { label: "browser-empty" })
            await page.waitForSelector("#empty:not([hidden])")
            assert.strictEqual(await page.textContent("#app-name"), "browser-empty")
            const teach = (await page.textContent("#empty")) ?? ""
            assert.include(teach, "heroku drains:add '<drain URL>' -a browser-empty")
            assert.include(teach, "tally apps rotate browser-empty --drain-secret")
            assert.include(teach, "tally apps create")
            assert.isFalse(await page.isVisible("#charts"))
            await screenshot(browser, page, "dashboard-800-empty.png", 800)

            const before = Date.now()
            await reloaded(page, () => page.selectOption("#app-select", { label: "browser-shop" }))
            assert.strictEqual(await page.textContent("#app-name"), "browser-shop")
            assert.isTrue(await page.isVisible("#banner.firing"))
            const info = await charts(page)
            assertRange(info, "2h", before, Date.now())
            for (const c of info) assert.isAbove(c.points, 0, `${c.id} has data`)
            assert.isTrue(
              await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
              "nothing wider than 800 px",
            )
            await screenshot(browser, page, "dashboard-800.png", 800)

            // Process-type filter: worker dynos have memory but no router requests.
            requests.length = 0
            await reloaded(page, () => page.selectOption("#process", "worker"))
            assert.isTrue(
              requests.some((u) => u.includes("/metrics/memory_total?") && u.includes("process_type=worker")),
            )
            const worker = await charts(page)
            assert.strictEqual(worker.find((c) => c.id === "chart-latency")!.points, 0)
            assert.match(
              (await page.textContent("#chart-latency .empty")) ?? "",
              /No router requests in this range for worker/,
            )
            assert.isAbove(worker.find((c) => c.id === "chart-memory")!.points, 0)
            await reloaded(page, () => page.selectOption("#process", ""))

            // Local time (Asia/Kolkata) and UTC: the events list follows the toggle.
            const zone = await page.textContent("#tz-name")
            // The page names the zone as Intl resolves it: Chromium's ICU gives the zone's legacy canonical
            // id "Asia/Calcutta" for "Asia/Kolkata" (both IANA names of the one zone; newer ICU gives Kolkata).
            assert.match(zone ?? "", /^Asia\/(Kolkata|Calcutta) \(UTC\+05:30\)$/)
            const first = async () =>
              page.$eval("#events tbody time", (t) => [(t as HTMLTimeElement).dateTime, t.textContent ?? ""])
            const [iso, local] = await first()
            const at = new Date(iso!)
            const hhmmss = (d: Date) => d.toISOString().slice(11, 19)
            assert.include(local, hhmmss(new Date(at.getTime() + 5.5 * HOUR)), "local time shown")
            await reloaded(page, () => page.click("#tz"))
            assert.strictEqual(await page.textContent("#tz-name"), "UTC")
            const [iso2, utc] = await first()
            assert.include(utc, hhmmss(new Date(iso2!)), "UTC shown")
            assertRange(await charts(page), "2h", before, Date.now())

            assert.deepStrictEqual(refused, [])
            assert.deepStrictEqual(
              await page.evaluate(() => (window as unknown as PageWindow).cspViolations ?? []),
              [],
            )
            assert.deepStrictEqual(failed, [], "no request failed")
          } finally {
            await browser.close()
          }
        })
      }),
    120_000,
  )
})
