/**
 * Retried batches count once (DESIGN.md semantics 10), first line of defence: this ingress process
 * remembers the Frame-Ids it has acknowledged (per app and drain, for 15 minutes, at most 200k). A retry
 * that reaches it again is answered 204 without producing; a retry racing its first delivery waits for it.
 * Retries that reach another ingress process are discarded downstream (by the aggregator, on delivery).
 */
import { hash } from "node:crypto"

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
 * so an app sending another app's drain token and Frame-Ids only ever meets its own batches. Held as the
 * first 128 bits of their SHA-256, a flat 16-character string: at 50,000 lines/s the 200,000 keys as text
 * (~110 characters each) were 11 MB of the live heap. A collision would need 2^64 work, so two batches
 * never share a key by chance or by design.
 */
export const batchKey = (owner: string, drainToken: string | undefined, frameId: string): string =>
  hash("sha256", `${owner}\u0000${drainToken ?? ""}\u0000${frameId}`, "buffer").toString("latin1", 0, 16)

const TTL_MS = 15 * 60 * 1000
const MAX = 200_000

/**
 * At 50,000 lines/s this remembers up to 200,000 batches, so an acknowledged one is a Map entry of a
 * 16-character string and a small integer (its time in seconds from `epochMs`), no object; in-flight ones
 * (a few hundred at most) are kept apart with their waiters.
 */
export class FrameIds {
  /** Acknowledged batches, oldest first: key -> seconds since `epochMs`. */
  private readonly done = new Map<string, number>()
  private readonly inflight = new Map<string, { settled: Promise<boolean>; resolve: (ok: boolean) => void }>()
  private epochMs: number | undefined

  /**
   * Claims a batch: "new" (go ahead, then call `finish`), "duplicate" (acknowledged before), or a promise
   * of the first delivery's outcome while it is in flight.
   */
  claim(key: string, now: number): "new" | "duplicate" | Promise<boolean> {
    const running = this.inflight.get(key)
    if (running) return running.settled
    const at = this.done.get(key)
    if (at !== undefined && now - this.ms(at) < TTL_MS) return "duplicate"
    this.done.delete(key)
    let resolve!: (ok: boolean) => void
    const settled = new Promise<boolean>((r) => {
      resolve = r
    })
    this.inflight.set(key, { settled, resolve })
    this.evict(now)
    return "new"
  }

  /** Ends a claimed batch: acknowledged (remembered) or failed (forgotten, so a retry produces it). */
  finish(key: string, acknowledged: boolean, now: number): void {
    const running = this.inflight.get(key)
    this.inflight.delete(key)
    running?.resolve(acknowledged)
    if (acknowledged) {
      this.epochMs ??= now
      this.done.delete(key)
      this.done.set(key, Math.floor((now - this.epochMs) / 1000))
    }
  }

  get size(): number {
    return this.done.size + this.inflight.size
  }

  /** The time remembered as `seconds` (rounded down: an entry is forgotten up to a second before TTL_MS). */
  private ms(seconds: number): number {
    return (this.epochMs ?? 0) + seconds * 1000
  }

  private evict(now: number): void {
    for (const [key, at] of this.done) {
      if (this.done.size + this.inflight.size <= MAX && now - this.ms(at) < TTL_MS) break
      this.done.delete(key)
    }
  }
}
