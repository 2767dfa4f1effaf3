/**
 * The Grafana dashboards in deploy/grafana: every PromQL expression of both dashboards (and their
 * template variables) evaluated by a real Prometheus 2.42 against a running `tally all --demo` — the
 * apps' dashboard through remote read with the admin token, the operations dashboard on the scraped
 * /metrics — answers without an error or a warning, and with data where the demo fleet writes it
 * (every panel of both). The provisioning files point at the dashboards' data source.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, type Proc, stop, tally, waitHealthy } from "../e2e/support.ts"
import { ADMIN } from "../support/http.ts"
import { type Prometheus, startPrometheus } from "../support/prometheus.ts"

const grafana = join(import.meta.dirname, "../../deploy/grafana")

interface Target {
  readonly expr: string
}
interface Panel {
  readonly title: string
  readonly datasource: { readonly uid: string }
  readonly targets: ReadonlyArray<Target>
}
interface Dashboard {
  readonly uid: string
  readonly title: string
  readonly panels: ReadonlyArray<Panel>
  readonly templating: {
    readonly list: ReadonlyArray<{ readonly name: string; readonly query: { readonly query: string } }>
  }
}

const dashboards: ReadonlyArray<Dashboard> = readdirSync(join(grafana, "dashboards"))
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(grafana, "dashboards", f), "utf8")) as Dashboard)

/** What Grafana puts in place of the variables: "All" (`.*`), and a rate interval for 1 s scrapes. */
const expand = (expr: string) =>
  expr.replaceAll("$app", ".*").replaceAll("$process_type", ".*").replaceAll("$__rate_interval", "30s")

let server: Proc
let prom: Prometheus

beforeAll(async () => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  server = tally(["all", "--demo"], {
    TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), "tally-grafana-")),
    TALLY_PORT: String(port),
    TALLY_ADMIN_TOKEN: ADMIN,
    TALLY_FLUSH_AFTER: "1s",
  })
  await waitHealthy(base, server, 150_000)
  prom = await startPrometheus({
    remoteRead: [{ url: `${base}/api/v1/read`, token: ADMIN }],
    scrape: [{ job: "tally", targets: [`127.0.0.1:${port}`] }],
  })
}, 300_000)

afterAll(async () => {
  await prom?.stop()
  if (server) await stop(server)
})

/** Evaluates `expr` over the last 10 minutes until it has data (or `withinMs` passed); the last answer. */
const evaluate = async (expr: string, withinMs: number) => {
  const deadline = Date.now() + withinMs
  for (;;) {
    const now = Date.now()
    const answer = await prom.queryRange(expr, now - 10 * 60_000, now, 15)
    if (answer.status !== "success" || (answer.warnings ?? []).length > 0) return answer
    if (answer.data.result.some((s) => (s.values ?? []).length > 0) || Date.now() > deadline) return answer
    await new Promise((r) => setTimeout(r, 500))
  }
}

describe("deploy/grafana", () => {
  it("provisions the data source the dashboards use, and loads the dashboards' folder", () => {
    const datasource = readFileSync(join(grafana, "provisioning/datasources/tally.yml"), "utf8")
    expect(datasource).toMatch(/uid: tally-prometheus/)
    expect(readFileSync(join(grafana, "provisioning/dashboards/tally.yml"), "utf8")).toMatch(/type: file/)
    expect(dashboards.map((d) => d.uid)).toEqual(["tally-apps", "tally-operations"])
    for (const d of dashboards)
      for (const p of d.panels) {
        expect(p.datasource.uid, `${d.title}: ${p.title}`).toBe("tally-prometheus")
        expect(p.targets.length).toBeGreaterThan(0)
      }
  })

  it("the apps dashboard's variables list the demo fleet's apps and process types (series API over remote read)", async () => {
    const apps = dashboards.find((d) => d.uid === "tally-apps")!
    for (const v of apps.templating.list) {
      // label_values(<selector>, <label>): Grafana asks /api/v1/series for the selector.
      const m = /^label_values\((.+), (\w+)\)$/.exec(v.query.query)
      expect(m, v.query.query).not.toBeNull()
      const deadline = Date.now() + 150_000
      let values: Array<string> = []
      for (;;) {
        const listed = await prom.series(expand(m![1]!), Date.now() - 3600_000, Date.now())
        expect(listed.status).toBe("success")
        values = [...new Set(listed.data.map((s) => s[m![2]!]!))]
        if (values.length >= (v.name === "app" ? 3 : 1) || Date.now() > deadline) break
        await new Promise((r) => setTimeout(r, 500))
      }
      expect(values.length, v.name).toBeGreaterThanOrEqual(v.name === "app" ? 3 : 1)
    }
  }, 200_000)

  for (const d of dashboards)
    it(`every expression of "${d.title}" evaluates without error, with data from the demo fleet`, async () => {
      const empty: Array<string> = []
      for (const p of d.panels)
        for (const t of p.targets) {
          const expr = expand(t.expr)
          const answer = await evaluate(expr, 150_000)
          expect(answer.status, `${p.title}: ${expr}: ${answer.error}`).toBe("success")
          expect(answer.warnings ?? [], `${p.title}: ${expr}`).toEqual([])
          if (!answer.data.result.some((s) => (s.values ?? []).length > 0)) empty.push(`${p.title}: ${expr}`)
        }
      expect(empty).toEqual([])
    }, 600_000)
})
