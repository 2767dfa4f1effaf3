/** The few calls of tally's HTTP API the load tool makes: create an app (admin token), read JSON (read token). */

export interface CreatedApp {
  readonly owner: string
  readonly name: string
  readonly drainUrl: string
  readonly readToken: string
}

export class ApiError extends Error {
  readonly status: number
  constructor(message: string, status: number) {
    super(message)
    this.status = status
  }
}

/** POST /api/v1/apps with the admin token; `201 {owner, name, drainUrl, readToken}`. */
export const createApp = async (base: string, adminToken: string, name: string): Promise<CreatedApp> => {
  const r = await fetch(new URL("/api/v1/apps", base), {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  })
  const text = await r.text()
  if (r.status !== 201)
    throw new ApiError(`creating app ${name}: HTTP ${r.status} ${text.slice(0, 200)}`, r.status)
  return JSON.parse(text) as CreatedApp
}

/** GET a path with a bearer token; the parsed JSON and the raw text (for change detection). */
export const getJson = async <T>(
  base: string,
  path: string,
  token: string,
): Promise<{ json: T; text: string }> => {
  const r = await fetch(new URL(path, base), { headers: { authorization: `Bearer ${token}` } })
  const text = await r.text()
  if (r.status !== 200) throw new ApiError(`GET ${path}: HTTP ${r.status} ${text.slice(0, 200)}`, r.status)
  return { json: JSON.parse(text) as T, text }
}

export interface ApiPoint {
  readonly time: string
  readonly count: number
  readonly sum: number
  readonly sumsq: number
  readonly min: number
  readonly max: number
  readonly p50?: number
  readonly p95?: number
  readonly p99?: number
}

export interface ApiSeriesAnswer {
  readonly missing: ReadonlyArray<string>
  readonly series: ReadonlyArray<{
    readonly label: string
    readonly processType?: string
    readonly points: ReadonlyArray<ApiPoint>
  }>
}

export interface ApiEvent {
  readonly time: string
  readonly kind: string
  readonly process: string
  readonly description: string
  readonly actor: string
}

/** Runs `f` over `items` with at most `limit` at once. */
export const pool = async <T, R>(
  items: ReadonlyArray<T>,
  limit: number,
  f: (t: T) => Promise<R>,
): Promise<Array<R>> => {
  const out: Array<R> = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await f(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
