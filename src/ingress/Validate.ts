/**
 * What becomes a Kafka key or a database column must be clean: a process type, a dyno name and a label
 * (error code) are checked for their characters and length, a router status must be an integer in
 * 100-599, and a line that breaks the rules is refused with a counted reason (the rest of the body is
 * kept). Free text of events (descriptions, actors) is stored as text: control characters (a NUL byte
 * would make PostgreSQL refuse the row) are replaced and over-long text is cut, by UTF-8 bytes, so that
 * the row always fits the events table's primary key (owner, time, kind, process, description): a btree
 * entry holds at most 2704 bytes, and an event is acknowledged before it is written.
 */
import type { Measurement, PlatformEvent } from "../domain/Measurement.ts"

export type Refusal = "process_type" | "dyno" | "label" | "status"

/** Letters, digits, `_` and `-`: what a Procfile process type can be (`web`, `worker_2`, `release`). */
const PROCESS_TYPE = /^[A-Za-z0-9_-]{1,64}$/
/** A dyno name (`web.1`, `run.1234`, `heroku.1.abc`), or none (router lines without one). */
const DYNO = /^[A-Za-z0-9_.-]{0,128}$/
/** An error code (`H12`, `R14`, `L10`), or none. */
const LABEL = /^[A-Za-z0-9_]{0,16}$/

/** An event's description, in UTF-8 bytes (part of the events table's primary key). */
export const MAX_DESCRIPTION = 1024
/** An event's actor, in UTF-8 bytes. */
export const MAX_ACTOR = 256

export const refusalOf = (m: Measurement): Refusal | undefined => {
  if (!PROCESS_TYPE.test(m.processType)) return "process_type"
  if (!DYNO.test(m.dyno)) return "dyno"
  if (m.type === "ERRORS" && !LABEL.test(m.code)) return "label"
  if (m.type === "ROUTER_REQUESTS") {
    if (!LABEL.test(m.code)) return "label"
    // 0: the line has no status; Classify.ts gives -1 for one that is not an integer in 100-599.
    if (m.status !== 0 && !(m.status >= 100 && m.status <= 599)) return "status"
  }
  if (m.type === "PLATFORM_EVENTS" && !DYNO.test(m.process)) return "dyno"
  return undefined
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g

/**
 * `text` cut to at most `maxBytes` bytes of UTF-8, at a character boundary (a surrogate pair is one
 * 4-byte character; a lone surrogate is written as U+FFFD, 3 bytes).
 */
export const cutUtf8 = (text: string, maxBytes: number): string => {
  // Every UTF-16 unit is at most 3 bytes of UTF-8: short text needs no count.
  if (text.length * 3 <= maxBytes) return text
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    let size: number
    if (c < 0x80) size = 1
    else if (c < 0x800) size = 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (bytes + 4 > maxBytes) return text.slice(0, i)
        bytes += 4
        i++
        continue
      }
      size = 3
    } else size = 3
    if (bytes + size > maxBytes) return text.slice(0, i)
    bytes += size
  }
  return text
}

/**
 * Text that PostgreSQL stores as given: no control characters (tab and newlines kept; the others become
 * U+FFFD, 3 bytes for 1, hence the second cut), at most `maxBytes` of UTF-8.
 */
export const cleanText = (text: string, maxBytes: number): string =>
  cutUtf8(cutUtf8(text, maxBytes).replace(CONTROL, "\uFFFD"), maxBytes)

export const cleanEvent = (e: PlatformEvent): PlatformEvent => {
  const description = cleanText(e.description, MAX_DESCRIPTION)
  const actor = cleanText(e.actor, MAX_ACTOR)
  return description === e.description && actor === e.actor ? e : { ...e, description, actor }
}
