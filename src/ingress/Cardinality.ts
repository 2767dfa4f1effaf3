/**
 * Cardinality caps per app (DESIGN.md "Tenants"): every series an app makes costs memory in the
 * aggregator and rows in the shards, so an app may have at most TALLY_MAX_PROCESS_TYPES process types and
 * TALLY_MAX_LABELS labels per labelled metric (router_status: status codes; errors: error codes) per UTC
 * day of the event. A measurement beyond a cap is refused before the 204 (never produced, never stored)
 * and counted: tally_ingress_rejected_total{reason="too_many_process_types"|"too_many_labels"}.
 *
 * The ingress asks once per drain batch (`admit`), before it encodes the batch's records:
 *
 * - **Process types.** The authority is the catalogue, `app_process_types` on shard 0. An app's process
 *   types are loaded once (one round trip) and kept in memory; a batch of known process types costs one
 *   Map lookup a measurement and no round trip. A new process type is admitted while the app has fewer
 *   than the cap, and registered in the catalogue in the batch's one round trip, before the 204. The same
 *   round trip notes `last_seen` of the known ones, at most once a UTC day a process type, so that
 *   retention can remove the process types unseen for longer than rollups are kept (they then stop
 *   counting). The registration answers how many process types the app has (other ingress processes'
 *   included); an app at its cap whose count says other processes added types this one has not seen is
 *   reloaded (at most every 10 s) before a new type is refused. An app is reloaded every hour anyway.
 * - **Catalogue down.** Ingestion never waits for it: a catalogue call has 1 s, and after a failure none
 *   is made for 10 s. Meanwhile process types are admitted against this process's own count (for an app
 *   never loaded: counting from zero, so an app can reach up to twice its cap across an outage) and
 *   registered at the first round trip that succeeds.
 * - **Events** (PLATFORM_EVENTS) are not series: they are stored line by line, bounded by bytes, and
 *   neither count against nor are refused by the process-type cap.
 * - **Labels** are counted in memory by each ingress process, per (app, metric, UTC day of the event):
 *   with several ingress processes, each enforces the cap on what it sees. Memory per app is bounded by
 *   (TALLY_RETENTION_DAYS + 2) days x 2 metrics x TALLY_MAX_LABELS labels; days older than the retention
 *   window are forgotten as new days come.
 *
 * Measurements outside the ingest window the caller gives (too old, too far ahead: the caller refuses
 * them itself) are passed through untouched: they neither count nor register anything.
 * `layerMemory` is the same without a catalogue (process types counted in memory only), for tests.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { type Settings, TallyConfig } from "../config/TallyConfig.ts"
import type { Measurement } from "../domain/Measurement.ts"
import { DAY_MS } from "../domain/Time.ts"
import { SummaryStore } from "../store/SummaryStore.ts"

/** The reasons of tally_ingress_rejected_total this service refuses for. */
export type CardinalityRefusal = "too_many_process_types" | "too_many_labels"

export interface Admission {
  /** The measurements to produce, in order: the given array itself when none was refused. */
  readonly admitted: ReadonlyArray<Measurement>
  /** Measurements refused, by reason (only reasons that refused any). */
  readonly refused: ReadonlyMap<CardinalityRefusal, number>
}

/** The event times the caller will produce (epoch ms, both inclusive); others pass through untouched. */
export interface IngestWindow {
  readonly fromMs: number
  readonly toMs: number
}

export interface CardinalityApi {
  /** Which of one drain batch's measurements of `owner` are within the app's caps. */
  readonly admit: (
    owner: string,
    measurements: ReadonlyArray<Measurement>,
    window: IngestWindow,
  ) => Effect.Effect<Admission>
}

/** Where an app's process types are kept (the catalogue): see SummaryStore. */
export interface ProcessTypeCatalogue {
  readonly load: (owner: string) => Effect.Effect<ReadonlyArray<string>, unknown>
  /** Adds or notes as seen; answers how many process types the app has now. */
  readonly register: (
    owner: string,
    processTypes: ReadonlyArray<string>,
    seenMs: number,
  ) => Effect.Effect<number, unknown>
}

/** How long a catalogue call may take before the batch goes on without it. */
export const CATALOGUE_TIMEOUT_MS = 1000
/** After a failed catalogue call, none is made for this long. */
export const CATALOGUE_COOLDOWN_MS = 10_000
/** An app's process types are read again from the catalogue this often (retention removes some). */
export const RELOAD_MS = 3_600_000
/** An app at its cap is read again at most this often when other processes may have added types. */
export const STALE_RELOAD_MS = 10_000

const NEVER = -1

interface DayLabels {
  readonly status: Set<number>
  readonly errors: Set<string>
}

class AppState {
  /** Admitted process types, each with the UTC day (days since the epoch) its last_seen was noted; NEVER: not yet. */
  types = new Map<string, number>()
  /** Process types the app has as far as this process knows (other processes' included): >= types.size. */
  count = 0
  /** Admitted or seen here, not yet in the catalogue (a round trip failed): sent with the next one. */
  readonly pending = new Set<string>()
  /** When the catalogue was last read for this app (ms); NEVER: not read yet. */
  loadedAt = NEVER
  /** Labels admitted, by UTC day of the event (days since the epoch). */
  readonly labels = new Map<number, DayLabels>()
}

const NONE: ReadonlyMap<CardinalityRefusal, number> = new Map()

const isLabelled = (m: Measurement) => m.type === "ROUTER_REQUESTS" || m.type === "ERRORS"

export const makeCardinality = (
  settings: Pick<Settings, "maxProcessTypes" | "maxLabels">,
  catalogue: ProcessTypeCatalogue | undefined,
): CardinalityApi => {
  const maxTypes = settings.maxProcessTypes
  const maxLabels = settings.maxLabels
  const apps = new Map<string, AppState>()
  /** No catalogue call before this (ms): it failed recently. */
  let downUntil = 0

  const failed = (what: string, now: number, cause: unknown) => {
    const first = now >= downUntil
    downUntil = now + CATALOGUE_COOLDOWN_MS
    return first
      ? Effect.logWarning(
          `cardinality: ${what} failed (${cause instanceof Error ? cause.message : String(cause)}); admitting process types against this process's own count for ${CATALOGUE_COOLDOWN_MS / 1000} s, registering them later`,
        )
      : Effect.void
  }

  /** Reads the app's process types; keeps those this process admitted today or could not register. */
  const load = (c: ProcessTypeCatalogue, owner: string, app: AppState, now: number) =>
    c.load(owner).pipe(
      Effect.timeout(CATALOGUE_TIMEOUT_MS),
      Effect.matchEffect({
        onFailure: (e) => failed(`reading the process types of ${owner}`, now, e),
        onSuccess: (list) =>
          Effect.sync(() => {
            const today = Math.floor(now / DAY_MS)
            const next = new Map<string, number>()
            for (const t of list) next.set(t, app.types.get(t) ?? NEVER)
            for (const [t, day] of app.types) if (day === today || app.pending.has(t)) next.set(t, day)
            app.types = next
            app.count = next.size
            app.loadedAt = now
          }),
      }),
    )

  /** One round trip: `list` added or noted seen today; on failure kept for the next one. */
  const register = (
    c: ProcessTypeCatalogue,
    owner: string,
    app: AppState,
    list: ReadonlyArray<string>,
    now: number,
  ) => {
    if (now < downUntil) {
      for (const t of list) app.pending.add(t)
      return Effect.void
    }
    const all = app.pending.size === 0 ? list : [...new Set([...list, ...app.pending])]
    return c.register(owner, all, now).pipe(
      Effect.timeout(CATALOGUE_TIMEOUT_MS),
      Effect.matchEffect({
        onFailure: (e) => {
          for (const t of all) app.pending.add(t)
          return failed(`registering process types of ${owner}`, now, e)
        },
        onSuccess: (n) =>
          Effect.sync(() => {
            for (const t of all) app.pending.delete(t)
            app.count = Math.max(app.types.size, n)
          }),
      }),
    )
  }

  /** The labels of `day`; a new day forgets the days before the window. */
  const labelsOf = (app: AppState, day: number, window: IngestWindow): DayLabels => {
    let labels = app.labels.get(day)
    if (!labels) {
      const first = Math.floor(window.fromMs / DAY_MS)
      for (const d of app.labels.keys()) if (d < first) app.labels.delete(d)
      app.labels.set(day, (labels = { status: new Set(), errors: new Set() }))
    }
    return labels
  }

  const admit = Effect.fn("Cardinality.admit")(function* (
    owner: string,
    measurements: ReadonlyArray<Measurement>,
    window: IngestWindow,
  ) {
    const now = yield* Clock.currentTimeMillis
    let app = apps.get(owner)
    if (!app) apps.set(owner, (app = new AppState()))
    if (catalogue && now >= downUntil && (app.loadedAt === NEVER || now - app.loadedAt >= RELOAD_MS))
      yield* load(catalogue, owner, app, now)
    const today = Math.floor(now / DAY_MS)
    const { fromMs, toMs } = window

    // Pass 1, one lookup a measurement: the batch's new process types and the known ones not noted today.
    let unknown: Set<string> | undefined
    let touched: Array<string> | undefined
    let labelled = false
    for (const m of measurements) {
      if (m.type === "PLATFORM_EVENTS") continue
      const ms = m.timeUs / 1000
      if (ms < fromMs || ms > toMs) continue
      if (!labelled && isLabelled(m)) labelled = true
      const day = app.types.get(m.processType)
      if (day === undefined) (unknown ??= new Set()).add(m.processType)
      else if (day < today) {
        app.types.set(m.processType, today)
        ;(touched ??= []).push(m.processType)
      }
    }

    let refusedTypes: Set<string> | undefined
    let fresh: Array<string> | undefined
    if (unknown) {
      // At the cap, and other processes added types this one has not seen: one of them may be among these.
      if (
        catalogue &&
        app.count + unknown.size > maxTypes &&
        app.count > app.types.size &&
        now >= downUntil &&
        now - app.loadedAt >= STALE_RELOAD_MS
      )
        yield* load(catalogue, owner, app, now)
      for (const t of unknown) {
        const day = app.types.get(t)
        if (day !== undefined) {
          if (day < today) {
            app.types.set(t, today)
            ;(touched ??= []).push(t)
          }
        } else if (app.count < maxTypes) {
          app.types.set(t, today)
          app.count++
          ;(fresh ??= []).push(t)
        } else (refusedTypes ??= new Set()).add(t)
      }
    }
    if (catalogue && (fresh || touched || (app.pending.size > 0 && now >= downUntil))) {
      const list = fresh && touched ? [...fresh, ...touched] : (fresh ?? touched ?? [])
      yield* register(catalogue, owner, app, list, now)
    }

    if (!refusedTypes && !labelled) return { admitted: measurements, refused: NONE } satisfies Admission

    // Pass 2: refuse the measurements of refused process types, and labels over the cap.
    let out: Array<Measurement> | undefined
    let typesRefused = 0
    let labelsRefused = 0
    let labelDay = Number.NaN
    let labels: DayLabels | undefined
    for (let i = 0; i < measurements.length; i++) {
      const m = measurements[i]!
      let keep = true
      if (m.type !== "PLATFORM_EVENTS") {
        const ms = m.timeUs / 1000
        if (ms >= fromMs && ms <= toMs) {
          if (refusedTypes?.has(m.processType)) {
            keep = false
            typesRefused++
          } else if (m.type === "ROUTER_REQUESTS" || m.type === "ERRORS") {
            const day = Math.floor(ms / DAY_MS)
            if (day !== labelDay || !labels) {
              labelDay = day
              labels = labelsOf(app, day, window)
            }
            if (m.type === "ROUTER_REQUESTS") {
              if (!labels.status.has(m.status)) {
                if (labels.status.size < maxLabels) labels.status.add(m.status)
                else keep = false
              }
            } else if (!labels.errors.has(m.code)) {
              if (labels.errors.size < maxLabels) labels.errors.add(m.code)
              else keep = false
            }
            if (!keep) labelsRefused++
          }
        }
      }
      if (!keep) out ??= measurements.slice(0, i)
      else if (out) out.push(m)
    }
    const refused = new Map<CardinalityRefusal, number>()
    if (typesRefused > 0) refused.set("too_many_process_types", typesRefused)
    if (labelsRefused > 0) refused.set("too_many_labels", labelsRefused)
    return { admitted: out ?? measurements, refused } satisfies Admission
  })

  return { admit }
}

export class Cardinality extends Context.Service<Cardinality, CardinalityApi>()("tally/ingress/Cardinality") {
  /** Process types against the catalogue (shard 0, through the SummaryStore); labels in memory. */
  static readonly layer = Layer.effect(
    Cardinality,
    Effect.gen(function* () {
      const settings = yield* TallyConfig
      const store = yield* SummaryStore
      return Cardinality.of(
        makeCardinality(settings, { load: store.processTypesOf, register: store.registerProcessTypes }),
      )
    }),
  )

  /** Everything in memory (no catalogue): the same caps, counted by this process alone. */
  static readonly layerMemory = Layer.effect(
    Cardinality,
    Effect.map(Effect.service(TallyConfig), (settings) =>
      Cardinality.of(makeCardinality(settings, undefined)),
    ),
  )
}
