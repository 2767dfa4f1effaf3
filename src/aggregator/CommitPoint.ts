/**
 * What a windowed consumer commits per partition, and how it resumes. The offset is the smallest
 * first-seen offset among open windows; the metadata carries the stream time and the offset processing
 * had reached (`upto`). On restart, records before `upto` whose window had closed by that stream time
 * were already emitted in a final snapshot: they are skipped, not counted again and not counted late.
 */

export interface Resume {
  /** Stream time at commit, in ms (-Infinity when nothing had been seen). */
  readonly streamTimeMs: number
  /** The next offset processing had reached when it committed. */
  readonly upto: number
  /** Start of the oldest open window (for operators), or null. */
  readonly oldestOpenMs: number | null
}

const VERSION = 1

export const encodeResume = (r: Resume): string =>
  JSON.stringify({
    v: VERSION,
    st: Number.isFinite(r.streamTimeMs) ? r.streamTimeMs : null,
    upto: r.upto,
    oldest: r.oldestOpenMs === null ? null : new Date(r.oldestOpenMs).toISOString(),
  })

/** Reads metadata written by `encodeResume`; anything else (or nothing) resumes from scratch. */
export const decodeResume = (metadata: string | undefined): Resume | undefined => {
  if (!metadata) return undefined
  try {
    const m = JSON.parse(metadata) as {
      v?: number
      st?: number | null
      upto?: number
      oldest?: string | null
    }
    if (m.v !== VERSION || typeof m.upto !== "number") return undefined
    return {
      streamTimeMs: typeof m.st === "number" ? m.st : Number.NEGATIVE_INFINITY,
      upto: m.upto,
      oldestOpenMs: m.oldest ? Date.parse(m.oldest) : null,
    }
  } catch {
    return undefined
  }
}
