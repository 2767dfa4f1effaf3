/**
 * Retried batches count once (DESIGN.md semantics 10), first line of defence: this ingress process
 * remembers the Frame-Ids it has acknowledged (per app and drain, for 15 minutes, at most 200k). A retry
 * that reaches it again is answered 204 without producing; a retry racing its first delivery waits for it.
 * Retries that reach another ingress process are discarded downstream (by the aggregator, on delivery).
 */

/**
 * Logplex sends 32 hex characters; other senders may differ, so anything of 1-64 characters that can be
 * a key and a record field is taken. Logplex drops a batch answered with a 4xx (but 429) for good: only
 * what is truly malformed is refused.
 */
const FRAME_ID = /^[A-Za-z0-9._-]{1,64}$/
/** Logplex's drain tokens are `d.` and a UUID. */
const DRAIN_TOKEN = /^d\.[A-Za-z0-9._-]{1,62}$/

/** Why the Logplex headers of a batch cannot be used, or undefined when they can (absent or empty ones can). */
export const badHeaders = (
  frameId: string | undefined,
  drainToken: string | undefined,
): string | undefined => {
  if (frameId && !FRAME_ID.test(frameId))
    return "Logplex-Frame-Id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'"
  if (drainToken && !DRAIN_TOKEN.test(drainToken))
    return "Logplex-Drain-Token must be 'd.' and 1-62 characters of A-Z, a-z, 0-9, '.', '_' or '-'"
  return undefined
}

/**
 * The key a batch is remembered by: the app (from the drain's credentials), the drain and the Frame-Id,
 * so an app sending another app's drain token and Frame-Ids only ever meets its own batches.
 */
export const batchKey = (owner: string, drainToken: string | undefined, frameId: string): string =>
  `${owner}\u0000${drainToken ?? ""}\u0000${frameId}`

const TTL_MS = 15 * 60 * 1000
const MAX = 200_000

type Entry =
  | { readonly at: number; readonly state: "done" }
  | { readonly at: number; readonly state: "inflight"; readonly settled: Promise<boolean> }

export class FrameIds {
  private readonly entries = new Map<string, Entry>()

  /**
   * Claims a batch: "new" (go ahead, then call `finish`), "duplicate" (acknowledged before), or a promise
   * of the first delivery's outcome while it is in flight.
   */
  claim(key: string, now: number): "new" | "duplicate" | Promise<boolean> {
    const entry = this.entries.get(key)
    if (entry && now - entry.at < TTL_MS) return entry.state === "done" ? "duplicate" : entry.settled
    this.entries.delete(key)
    let resolve!: (ok: boolean) => void
    const settled = new Promise<boolean>((r) => {
      resolve = r
    })
    this.entries.set(key, { at: now, state: "inflight", settled })
    this.resolvers.set(key, resolve)
    this.evict(now)
    return "new"
  }

  /** Ends a claimed batch: acknowledged (remembered) or failed (forgotten, so a retry produces it). */
  finish(key: string, acknowledged: boolean, now: number): void {
    this.resolvers.get(key)?.(acknowledged)
    this.resolvers.delete(key)
    this.entries.delete(key)
    if (acknowledged) this.entries.set(key, { at: now, state: "done" })
  }

  get size(): number {
    return this.entries.size
  }

  private readonly resolvers = new Map<string, (ok: boolean) => void>()

  private evict(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= MAX && now - entry.at < TTL_MS) break
      if (entry.state === "inflight") continue
      this.entries.delete(key)
    }
  }
}
