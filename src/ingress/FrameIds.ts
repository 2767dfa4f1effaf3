/**
 * Retried batches count once (DESIGN.md semantics 10), first line of defence: this ingress process
 * remembers the Frame-Ids it has acknowledged (per drain, for 15 minutes, at most 200k). A retry that
 * reaches it again is answered 204 without producing; a retry racing its first delivery waits for it.
 * Retries that reach another ingress process are discarded downstream (by the aggregator, on delivery).
 */

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
