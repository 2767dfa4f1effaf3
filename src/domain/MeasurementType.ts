/** The measurement types of DESIGN.md, each with a raw topic; all but PLATFORM_EVENTS are rolled up. */
export const MeasurementTypes = [
  "DYNO_MEMORY",
  "DYNO_LOAD",
  "ROUTER_REQUESTS",
  "ERRORS",
  "PLATFORM_EVENTS",
] as const
export type MeasurementType = (typeof MeasurementTypes)[number]

/** The types that are rolled up per minute and have summary and retry topics. */
export const RolledUpTypes = ["DYNO_MEMORY", "DYNO_LOAD", "ROUTER_REQUESTS", "ERRORS"] as const
export type RolledUpType = (typeof RolledUpTypes)[number]

export const isRolledUp = (type: MeasurementType): type is RolledUpType => type !== "PLATFORM_EVENTS"
