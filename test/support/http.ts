/** HTTP helpers for tests: a running tally stack's base URL, drains with basic auth, re-timed fixtures. */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { HttpServer } from "effect/http"

import { fixtures } from "./shared.ts"

export { fixtures }
export const ADMIN = "test-admin-token-0123456789"

/** The base URL of the HttpServer in the current context. */
export const baseUrl = Effect.map(Effect.service(HttpServer.HttpServer), (server) => {
  const address = server.address
  if (address._tag === "UnixPathAddress") throw new Error("expected a TCP server")
  return `http://127.0.0.1:${address.port}`
})

export interface Drain {
  readonly url: string
  readonly authorization: string
  readonly owner: string
  readonly readToken: string
}

export const createApp = async (base: string, name: string): Promise<Drain> => {
  const response = await fetch(`${base}/api/v1/apps`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  })
  if (response.status !== 201) throw new Error(`create app: ${response.status} ${await response.text()}`)
  const app = (await response.json()) as { owner: string; drainUrl: string; readToken: string }
  const url = new URL(app.drainUrl)
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`
  url.username = ""
  url.password = ""
  return { url: url.toString(), authorization, owner: app.owner, readToken: app.readToken }
}

export const postDrain = (
  drain: Drain,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): Promise<Response> =>
  fetch(drain.url, {
    method: "POST",
    headers: { authorization: drain.authorization, "content-type": "application/logplex-1", ...headers },
    body: typeof body === "string" ? body : Buffer.from(body),
  })

const STAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/g

/**
 * A fixture body with every timestamp shifted so that the latest lands at `latestMs`, keeping byte
 * counts exact (a 19-character date-time is replaced by another).
 */
export const retimed = (name: string, latestMs: number): { body: Buffer; shiftMs: number } => {
  const text = readFileSync(join(fixtures, name), "latin1")
  const stamps = [...text.matchAll(STAMP)].map((m) => Date.parse(`${m[0]}Z`))
  const shiftMs = Math.floor((latestMs - Math.max(...stamps)) / 1000) * 1000
  const body = text.replace(STAMP, (s) => new Date(Date.parse(`${s}Z`) + shiftMs).toISOString().slice(0, 19))
  return { body: Buffer.from(body, "latin1"), shiftMs }
}
