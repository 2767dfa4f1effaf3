/**
 * What becomes a Kafka key or a database column must be clean: a process type, a dyno name and a label
 * (error code) are checked for their characters and length, and a line that breaks the rules is refused
 * with a counted reason (the rest of the body is kept). Free text of events (descriptions, actors) is
 * stored as text: control characters (a NUL byte would make PostgreSQL refuse the row) are replaced and
 * over-long text is cut.
 */
import type { Measurement, PlatformEvent } from "../domain/Measurement.ts"

export type Refusal = "process_type" | "dyno" | "label"

/** Letters, digits, `_` and `-`: what a Procfile process type can be (`web`, `worker_2`, `release`). */
const PROCESS_TYPE = /^[A-Za-z0-9_-]{1,64}$/
/** A dyno name (`web.1`, `run.1234`, `heroku.1.abc`), or none (router lines without one). */
const DYNO = /^[A-Za-z0-9_.-]{0,128}$/
/** An error code (`H12`, `R14`, `L10`), or none. */
const LABEL = /^[A-Za-z0-9_]{0,16}$/

export const MAX_TEXT = 2048

export const refusalOf = (m: Measurement): Refusal | undefined => {
  if (!PROCESS_TYPE.test(m.processType)) return "process_type"
  if (!DYNO.test(m.dyno)) return "dyno"
  if (m.type === "ERRORS" && !LABEL.test(m.code)) return "label"
  if (m.type === "ROUTER_REQUESTS" && !LABEL.test(m.code)) return "label"
  if (m.type === "PLATFORM_EVENTS" && !DYNO.test(m.process)) return "dyno"
  return undefined
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g

/** Text that PostgreSQL stores as given: no control characters (tab and newlines kept), at most MAX_TEXT. */
export const cleanText = (text: string): string => {
  const cut = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text
  return cut.replace(CONTROL, "\uFFFD")
}

export const cleanEvent = (e: PlatformEvent): PlatformEvent => {
  const description = cleanText(e.description)
  const actor = cleanText(e.actor)
  return description === e.description && actor === e.actor ? e : { ...e, description, actor }
}
