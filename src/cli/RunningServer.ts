/**
 * Shell commands while a server holds the data dir (DataDir.ts): they go through its HTTP API, at the URL
 * its owner.json names, with the admin token (TALLY_ADMIN_TOKEN, else the one kept in the data dir),
 * instead of opening the dir beside it.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Console, Effect, Option, Redacted } from "effect"
import type { Settings } from "../config/TallyConfig.ts"
import { DataDirError, inUseMessage, type Owner, readOwner } from "./DataDir.ts"

/** Commands whose process serves the HTTP API. */
const SERVING = new Set(["all", "ingress", "api"])

/** How long a shell command waits for a server that holds the dir but does not listen yet (PGlite opening). */
const START_WAIT_MS = 120_000

/** The URL of the server holding `dir`, waiting while it starts; fails when the holder serves no API. */
const urlOf = (settings: Settings, held: Owner | undefined, what: string) =>
  Effect.gen(function* () {
    const dir = settings.dataDir
    let owner = held
    const deadline = Date.now() + START_WAIT_MS
    let said = false
    while (true) {
      if (owner?.url) return { owner, url: owner.url }
      if (owner === undefined || !SERVING.has(owner.command) || Date.now() > deadline)
        return yield* new DataDirError({
          reason: "InUse",
          message:
            owner && !SERVING.has(owner.command)
              ? `the data dir ${dir} is in use by pid ${owner.pid} (tally ${owner.command}, which serves no API); stop it to ${what}, or set TALLY_DATA_DIR`
              : inUseMessage(dir, owner),
        })
      if (!said) {
        yield* Console.error(`waiting for tally (pid ${owner.pid}) to start serving, to ${what}`)
        said = true
      }
      yield* Effect.sleep("250 millis")
      owner = readOwner(dir) ?? owner
    }
  })

/** TALLY_ADMIN_TOKEN, else the token kept in the data dir (what a server started without one generated). */
const adminToken = (settings: Settings): string | undefined => {
  if (Option.isSome(settings.adminToken)) return Redacted.value(settings.adminToken.value)
  const file = join(settings.dataDir, "admin-token")
  return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined
}

export interface Answer {
  readonly status: number
  readonly body: { readonly message?: string; readonly [key: string]: unknown }
  readonly owner: Owner
}

/**
 * POSTs `body` to `path` on the server holding the data dir, with the admin token (or, with `method`, GETs
 * or DELETEs it; `body` is then not sent). An answer of any status is returned (the caller says what it
 * means); no token, no server, or no answer fail with one line.
 */
export const postToServer = (
  settings: Settings,
  held: Owner | undefined,
  what: string,
  path: string,
  body: unknown,
  method: "POST" | "GET" | "DELETE" = "POST",
) =>
  Effect.gen(function* () {
    const { owner, url } = yield* urlOf(settings, held, what)
    const token = adminToken(settings)
    const server = `the running tally (pid ${owner.pid}, ${url})`
    if (token === undefined)
      return yield* new DataDirError({
        reason: "Unusable",
        message: `${server} holds the data dir; set TALLY_ADMIN_TOKEN to its admin token to ${what}`,
      })
    const response = yield* Effect.tryPromise({
      try: async () => {
        const r = await fetch(new URL(path, url), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(method === "POST" ? { "content-type": "application/json" } : {}),
          },
          ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(60_000),
        })
        const text = await r.text()
        let json: Answer["body"] = {}
        try {
          if (text !== "") json = JSON.parse(text) as Answer["body"]
        } catch {
          json = { message: text.slice(0, 200) }
        }
        return { status: r.status, body: json }
      },
      catch: (e) =>
        new DataDirError({
          reason: "Unusable",
          message: `${server} holds the data dir but did not answer: ${(e as Error).message}`,
        }),
    })
    if (response.status === 401)
      return yield* new DataDirError({
        reason: "Unusable",
        message: `${server} refused the admin token; set TALLY_ADMIN_TOKEN to the one it was started with`,
      })
    return { ...response, owner } satisfies Answer
  })
