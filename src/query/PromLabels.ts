/**
 * tally's rollups as Prometheus series (DESIGN.md "Reading tally from Prometheus and Grafana"): the name
 * `tally_<metric>_<stat>` for every API metric and stat, labels `app`, `owner`, `process_type`, plus
 * `status` for router_status and `code` for errors; and label matchers with Prometheus' semantics — a
 * label a series does not have has the value "", and regular expressions are RE2, fully anchored
 * (Re2.ts, linear in the text).
 */
import { METRICS } from "../domain/Metrics.ts"
import { compileRe2, Re2Error } from "./Re2.ts"

/** The stats of every metric; the sketched ones (router times) add p50, p95 and p99. */
export const PLAIN_STATS = ["count", "sum", "min", "max", "mean"] as const
export const SKETCH_STATS = ["p50", "p95", "p99"] as const
export type Stat = (typeof PLAIN_STATS)[number] | (typeof SKETCH_STATS)[number]

/** The label a metric's rollup label is shown as: a status code, an error code; none for the others. */
export const LABEL_NAME: Readonly<Record<string, "status" | "code">> = {
  router_status: "status",
  errors: "code",
}

export interface SeriesName {
  readonly name: string
  readonly metric: string
  readonly stat: Stat
}

/** Every series name tally serves, in catalogue order. */
export const SERIES_NAMES: ReadonlyArray<SeriesName> = Object.entries(METRICS).flatMap(([metric, info]) =>
  [...PLAIN_STATS, ...(info.sketched ? SKETCH_STATS : [])].map((stat) => ({
    name: `tally_${metric}_${stat}`,
    metric,
    stat,
  })),
)

/** The label names a tally series can have (besides those, a series' value of any label is ""). */
export const LABEL_NAMES = ["__name__", "app", "code", "owner", "process_type", "status"] as const
export type LabelName = (typeof LABEL_NAMES)[number]

export type MatchType = "=" | "!=" | "=~" | "!~"

export interface Matcher {
  readonly name: string
  readonly type: MatchType
  readonly value: string
  /** True when a series whose label `name` is `v` ("" when it has none) is selected. */
  readonly test: (v: string) => boolean
}

/** A Prometheus label matcher; a message when its regular expression is not one Prometheus accepts. */
export const toMatcher = (name: string, type: MatchType, value: string): Matcher | string => {
  switch (type) {
    case "=":
      return { name, type, value, test: (v) => v === value }
    case "!=":
      return { name, type, value, test: (v) => v !== value }
    case "=~":
    case "!~": {
      let re: ReturnType<typeof compileRe2>
      try {
        re = compileRe2(value)
      } catch (e) {
        if (e instanceof Re2Error) return `matcher ${name}${type}${JSON.stringify(value)}: ${e.message}`
        throw e
      }
      // The values a matcher meets repeat (app names, process types, status codes): each is matched once.
      const seen = new Map<string, boolean>()
      const matches = (v: string) => {
        let hit = seen.get(v)
        if (hit === undefined) {
          hit = re.test(v)
          if (seen.size < 100_000) seen.set(v, hit)
        }
        return hit
      }
      return { name, type, value, test: type === "=~" ? matches : (v) => !matches(v) }
    }
  }
}

/** The matchers on `label` (all true: selected). */
export const selects = (matchers: ReadonlyArray<Matcher>, label: string, value: string) => {
  for (const m of matchers) if (m.name === label && !m.test(value)) return false
  return true
}

/** True when some matcher names a label no tally series has and would select only a non-empty value. */
export const needsForeignLabel = (matchers: ReadonlyArray<Matcher>) =>
  matchers.some((m) => !(LABEL_NAMES as ReadonlyArray<string>).includes(m.name) && !m.test(""))

/** The label set of a series, sorted by name (as Prometheus keeps them). */
export const labelsOf = (
  name: string,
  app: string,
  owner: string,
  processType: string,
  labelName: "status" | "code" | undefined,
  label: string,
): Array<{ name: string; value: string }> => {
  const out = [
    { name: "__name__", value: name },
    { name: "app", value: app },
  ]
  if (labelName === "code") out.push({ name: "code", value: label })
  out.push({ name: "owner", value: owner }, { name: "process_type", value: processType })
  if (labelName === "status") out.push({ name: "status", value: label })
  return out
}
