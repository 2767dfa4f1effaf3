/**
 * The dashboard at `/`: static assets served next to the API (uPlot from its npm package), each with a
 * strict Content-Security-Policy — scripts, styles and fetches from this origin only, nothing inline, no
 * framing (the page holds a read token) — and, on every response of the HTTP surface (SecurityHeaders),
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`.
 * uPlot styles its elements through the CSSOM (element.style), which a CSP without 'unsafe-inline' allows.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"

const here = import.meta.dirname
const uplot = join(dirname(createRequire(import.meta.url).resolve("uplot")), "")

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ")

const asset = (file: string, contentType: string) => {
  const body = readFileSync(file)
  return HttpServerResponse.uint8Array(body, {
    contentType,
    headers: { "cache-control": "no-cache", "content-security-policy": CONTENT_SECURITY_POLICY },
  })
}

/** Headers of every response the router makes (the API's, the dashboard's, errors it answers). */
export const SecurityHeaders = HttpRouter.middleware(
  (httpEffect) =>
    Effect.map(
      httpEffect,
      HttpServerResponse.setHeaders({
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
      }),
    ),
  { global: true },
)

export const DashboardRoutes = Layer.mergeAll(
  HttpRouter.add("GET", "/", asset(join(here, "index.html"), "text/html; charset=utf-8")),
  HttpRouter.add("GET", "/dashboard.js", asset(join(here, "dashboard.js"), "text/javascript; charset=utf-8")),
  HttpRouter.add("GET", "/dashboard.css", asset(join(here, "dashboard.css"), "text/css; charset=utf-8")),
  // Browsers ask for /favicon.ico on their own: the same SVG (Chromium and Firefox take SVG there).
  HttpRouter.add("GET", "/favicon.svg", asset(join(here, "favicon.svg"), "image/svg+xml")),
  HttpRouter.add("GET", "/favicon.ico", asset(join(here, "favicon.svg"), "image/svg+xml")),
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
