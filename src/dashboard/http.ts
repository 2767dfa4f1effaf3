/** The dashboard at `/`: static assets served next to the API (uPlot from its npm package). */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"

const here = import.meta.dirname
const uplot = join(dirname(createRequire(import.meta.url).resolve("uplot")), "")

const asset = (file: string, contentType: string) => {
  const body = readFileSync(file)
  return HttpServerResponse.uint8Array(body, { contentType, headers: { "cache-control": "no-cache" } })
}

export const DashboardRoutes = Layer.mergeAll(
  HttpRouter.add("GET", "/", asset(join(here, "index.html"), "text/html; charset=utf-8")),
  HttpRouter.add("GET", "/dashboard.js", asset(join(here, "dashboard.js"), "text/javascript; charset=utf-8")),
  HttpRouter.add("GET", "/dashboard.css", asset(join(here, "dashboard.css"), "text/css; charset=utf-8")),
  HttpRouter.add(
    "GET",
    "/vendor/uPlot.iife.min.js",
    asset(join(uplot, "uPlot.iife.min.js"), "text/javascript; charset=utf-8"),
  ),
  HttpRouter.add(
    "GET",
    "/vendor/uPlot.min.css",
    asset(join(uplot, "uPlot.min.css"), "text/css; charset=utf-8"),
  ),
)
