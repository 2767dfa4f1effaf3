/**
 * Retried batches count once (DESIGN.md semantics 10), first line of defence: this ingress process
 * remembers the Frame-Ids it has acknowledged (per app and drain, for 15 minutes, at most
 * TALLY_APP_MAX_FRAME_IDS of one app and ~200k in all). A retry that reaches it again is answered 204
 * without producing; a retry racing its first delivery waits for it. Retries that reach another ingress
 * process, or whose first delivery this one did not remember (its app was at its budget), are discarded
 * downstream: the aggregator keeps every (record key, drain batch) it saw until the batch's windows have
 * closed, with no budget (aggregator/Rollup.ts, firstDelivery), so they count once all the same.
 */
import { hash } from "node:crypto"
import { DigestTable } from "../domain/DigestTable.ts"

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

/** A batch is remembered for 15 minutes after its acknowledgement, in generations of 30 seconds. */
const TTL_MS = 15 * 60 * 1000
const GENERATION_MS = 30_000
const MAX = 200_000

/** The words of a batch key (16 latin1 characters). */
const words = (key: string, out: Uint32Array): Uint32Array => {
  for (let w = 0; w < 4; w++) {
    const c = 4 * w
    out[w] =
      ((key.charCodeAt(c) << 24) |
        (key.charCodeAt(c + 1) << 16) |
        (key.charCodeAt(c + 2) << 8) |
        key.charCodeAt(c + 3)) >>>
      0
  }
  return out
}

/** Acknowledged batches of one generation: their keys, and how many each app has among them. */
interface Generation {
  readonly startMs: number
  readonly table: DigestTable
  readonly apps: Map<string, number>
}

/**
 * At 50,000 lines/s this remembers up to 200,000 batches, outside the JavaScript heap: an acknowledged
 * batch is a 16-byte DigestTable entry (its key's 128 bits) in the generation of the 30 seconds it was
 * acknowledged in, and a generation is dropped whole once 15 minutes have passed since its end (or, past
 * 200,000 batches, the oldest first). In-flight ones (a few hundred at most) are kept apart with their
 * waiters.
 *
 * Per app: each generation counts its batches by app, and the apps' sums are kept, so dropping a
 * generation costs one step per app in it. An app with `maxPerApp` batches remembered has its further
 * ones acknowledged but not remembered (`finish` says so): an app sending endless new Frame-Ids fills
 * only its own budget, and the 200,000 over all apps (the process's bound) is reached only by many apps.
 */
export class FrameIds {
  /** Acknowledged batches by the 30 seconds they were acknowledged in, oldest first. */
  private generations: Array<Generation> = []
  private remembered = 0
  /** Remembered batches by app (apps with none have no entry). */
  private readonly byApp = new Map<string, number>()
  private readonly inflight = new Map<string, { settled: Promise<boolean>; resolve: (ok: boolean) => void }>()
  private readonly key = new Uint32Array(4)
  readonly maxPerApp: number

  constructor(maxPerApp = Number.POSITIVE_INFINITY) {
    this.maxPerApp = maxPerApp
  }

  /**
   * Claims a batch: "new" (go ahead, then call `finish`), "duplicate" (acknowledged before), or a promise
   * of the first delivery's outcome while it is in flight.
   */
  claim(key: string, now: number): "new" | "duplicate" | Promise<boolean> {
    const running = this.inflight.get(key)
    if (running) return running.settled
    this.expire(now)
    if (this.acknowledged(key)) return "duplicate"
    let resolve!: (ok: boolean) => void
    const settled = new Promise<boolean>((r) => {
      resolve = r
    })
    this.inflight.set(key, { settled, resolve })
    return "new"
  }

  /**
   * Ends a claimed batch of `owner`: acknowledged (remembered) or failed (forgotten, so a retry produces
   * it). False when it was acknowledged but not remembered: its app has `maxPerApp` batches remembered.
   */
  finish(key: string, acknowledged: boolean, now: number, owner: string): boolean {
    const running = this.inflight.get(key)
    this.inflight.delete(key)
    running?.resolve(acknowledged)
    if (!acknowledged) return true
    this.expire(now)
    if (this.acknowledged(key)) return true
    const held = this.byApp.get(owner) ?? 0
    if (held >= this.maxPerApp) return false
    const startMs = now - (now % GENERATION_MS)
    let last = this.generations[this.generations.length - 1]
    if (last === undefined || last.startMs < startMs) {
      last = { startMs, table: new DigestTable("map"), apps: new Map() }
      this.generations.push(last)
    }
    const k = this.key // the key's words, as `acknowledged` left them
    last.table.insert(1, k[0]!, k[1]!, k[2]!, k[3]!)
    last.apps.set(owner, (last.apps.get(owner) ?? 0) + 1)
    this.byApp.set(owner, held + 1)
    this.remembered++
    while (this.remembered > MAX && this.generations.length > 1) this.drop()
    return true
  }

  get size(): number {
    return this.remembered + this.inflight.size
  }

  /** Batches of `owner` remembered. */
  rememberedOf(owner: string): number {
    return this.byApp.get(owner) ?? 0
  }

  private acknowledged(key: string): boolean {
    const k = words(key, this.key)
    for (const { table } of this.generations) {
      const slot = table.find(1, k[0]!, k[1]!)
      if (slot >= 0 && table.valueHigh(slot) === k[2] && table.valueLow(slot) === k[3]) return true
    }
    return false
  }

  /** Drops the generations that ended more than 15 minutes ago. */
  private expire(now: number): void {
    while (this.generations.length > 0 && now - (this.generations[0]!.startMs + GENERATION_MS) >= TTL_MS)
      this.drop()
  }

  private drop(): void {
    const gone = this.generations.shift()!
    this.remembered -= gone.table.size
    for (const [owner, n] of gone.apps) {
      const left = this.byApp.get(owner)! - n
      if (left > 0) this.byApp.set(owner, left)
      else this.byApp.delete(owner)
    }
  }
}
