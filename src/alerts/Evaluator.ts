/**
 * The alerter's evaluation, as plain state (no Effect, no I/O): the rules one worker owns, the watched
 * series' recent minutes (Series.ts), and rounds.
 *
 * Clock: the alerter's own (processing time; TestClock in tests). Minute m (its start) is due once
 * `m + 1 min + flushAfter + SETTLE_MS` has passed: by then the aggregator has emitted every change of
 * the minute that reached it (it emits a changed window within flushAfter, checked at least every
 * second), and SETTLE_MS leaves a drain's own delivery time. The topology also waits, before a round,
 * until it has read its summary partitions up to where they ended when the round became due.
 *
 * A round (once a minute): first the corrections — minutes already evaluated whose values changed since
 * (late data, a restart's replay) are judged again, and a rule whose state that changes moves now
 * (stamped at the end of the last minute evaluated) unless it already moved at that instant: then the
 * next minute's judgement moves it, so a rule's transitions each have an instant of their own and the
 * timeline reads them in the order they were notified; nothing already sent is withdrawn — then every
 * minute due and not yet evaluated, in order (at most HISTORY_MINUTES of them: minutes older than that,
 * after a long outage, count as not breaching). Each transition is an event, and firing and resolved
 * transitions (and, while firing, Alertmanager refreshes every minute and webhook reminders every
 * `repeat`) are deliveries, numbered per rule (`notices`) so their ids are the same when a round is
 * computed again from the same durable state.
 */
import type { EventRow } from "../store/SummaryStore.ts"
import type { NewDelivery, RoundWrite, StoredRule } from "./AlertStore.ts"
import {
  alertmanagerAlert,
  dashboardUrl,
  deliveryId,
  fingerprintOf,
  type Notice,
  signature,
  webhookPayload,
} from "./Payloads.ts"
import {
  type AlertMetric,
  type AlertState,
  FOR,
  formatValue,
  METRIC_INFO,
  nextState,
  REPEAT,
  type Rule,
  type RuleState,
  shiftTo,
} from "./Rules.ts"
import { keyLabel, keyMinute, readKey, SeriesValues, seriesPrefix, type Watch } from "./Series.ts"

export const MINUTE = 60_000
/** Minutes of values and breaches kept: the longest `for` (10) and two more for late corrections. */
export const HISTORY_MINUTES = 12
/** Past `flushAfter`, how long a minute's last summaries are given to arrive. */
export const SETTLE_MS = 2_000
/** How far ahead of a firing alert's last refresh Alertmanager's `endsAt` is set. */
export const ALERTMANAGER_ENDS_AFTER_MS = 5 * MINUTE

export interface EvaluatorOptions {
  readonly consumer: string
  readonly flushAfterMs: number
  /** `${TALLY_ALERTMANAGER_URL}/api/v2/alerts`, or undefined when not set. */
  readonly alertmanagerUrl: string | undefined
  /** The dashboard's base URL (links in notifications). */
  readonly publicBase: string
  /** The summary partition of a rule's owner:process_type. */
  readonly partitionOf: (owner: string, processType: string) => number
}

export interface Transition {
  readonly rule: Rule
  readonly from: AlertState
  readonly to: AlertState
  readonly atMs: number
}

export interface Round extends RoundWrite {
  readonly transitions: ReadonlyArray<Transition>
  /** Rule-minutes evaluated (corrections included). */
  readonly evaluations: number
}

class RuleRuntime implements RuleState {
  state: AlertState
  sinceMs: number
  value: number | null
  historyMinute: number | undefined
  breaches: number
  firedMs: number | undefined
  notifiedMs: number | undefined
  notices: number
  /** The first minute it judges: the first whole minute after the rule was created. */
  startMinute: number
  dirty = false
  /** The webhook's origin (what its deliveries queue by), once read. */
  private origin: string | undefined
  readonly rule: StoredRule
  readonly partition: number
  readonly series: SeriesValues

  constructor(rule: StoredRule, partition: number, series: SeriesValues) {
    this.rule = rule
    this.partition = partition
    this.series = series
    this.state = rule.state
    this.sinceMs = rule.sinceMs
    this.value = rule.value
    this.historyMinute = rule.historyMinute
    this.breaches = rule.breaches
    this.firedMs = rule.firedMs
    this.notifiedMs = rule.notifiedMs
    this.notices = rule.notices
    this.startMinute = Math.ceil(rule.createdMs / MINUTE) * MINUTE
  }

  /** The receiver of the rule's webhook deliveries: its URL's origin. */
  receiver(url: string): string {
    if (this.origin === undefined) this.origin = new URL(url).origin
    return this.origin
  }

  snapshot(): RuleState {
    return {
      state: this.state,
      sinceMs: this.sinceMs,
      value: this.value,
      historyMinute: this.historyMinute,
      breaches: this.breaches,
      firedMs: this.firedMs,
      notifiedMs: this.notifiedMs,
      notices: this.notices,
    }
  }
}

interface SeriesEntry {
  readonly values: SeriesValues
  readonly rules: Array<RuleRuntime>
}

/** The ring of minute slots a series needs: the history, the minutes not yet due, 2 minutes ahead. */
export const ringSize = (flushAfterMs: number) =>
  HISTORY_MINUTES + Math.ceil((flushAfterMs + SETTLE_MS) / MINUTE) + 5

export class Evaluator {
  readonly options: EvaluatorOptions
  /** The last minute evaluated (start, ms), or undefined before the first round. */
  evaluatedThrough: number | undefined
  private readonly rules = new Map<string, RuleRuntime>()
  private readonly series = new Map<string, SeriesEntry>()
  private readonly watch = new Map<string, Watch>()
  private readonly size: number

  constructor(options: EvaluatorOptions, evaluatedThrough: number | undefined) {
    this.options = options
    this.evaluatedThrough = evaluatedThrough
    this.size = ringSize(options.flushAfterMs)
  }

  get ruleCount(): number {
    return this.rules.size
  }

  get seriesCount(): number {
    return this.series.size
  }

  /** The latest minute due at `nowMs`. */
  dueMinute(nowMs: number): number {
    return Math.floor((nowMs - MINUTE - this.options.flushAfterMs - SETTLE_MS) / MINUTE) * MINUTE
  }

  /** When the minute after `minute` becomes due. */
  dueAt(minute: number): number {
    return minute + 2 * MINUTE + this.options.flushAfterMs + SETTLE_MS
  }

  /** Whether a round has a minute to evaluate at `nowMs`. */
  hasDue(nowMs: number): boolean {
    return this.evaluatedThrough === undefined || this.dueMinute(nowMs) > this.evaluatedThrough
  }

  /** The oldest minute whose values are kept at `nowMs`. */
  retainFrom(nowMs: number): number {
    return Math.max(this.evaluatedThrough ?? 0, this.dueMinute(nowMs)) - (HISTORY_MINUTES - 1) * MINUTE
  }

  /**
   * The rules this worker owns (`owns(partition)`), as stored: rules it had keep their state in memory
   * (this worker is the one that writes it); new ones start from what is stored; gone ones are dropped.
   */
  setRules(stored: ReadonlyArray<StoredRule>, owns: (partition: number) => boolean): void {
    const keep = new Set<string>()
    for (const s of stored) {
      const partition = this.options.partitionOf(s.owner, s.processType)
      if (!owns(partition)) continue
      keep.add(s.id)
      if (this.rules.has(s.id)) continue
      const key = `${s.owner}:${s.processType}:${s.metric}`
      let entry = this.series.get(key)
      if (!entry) {
        entry = { values: new SeriesValues(s.metric, this.size), rules: [] }
        this.series.set(key, entry)
        const values = entry.values
        for (const [component, source] of METRIC_INFO[s.metric].sources.entries())
          this.watch.set(seriesPrefix(s.owner, s.processType, source), { series: values, component })
      }
      const runtime = new RuleRuntime(s, partition, entry.values)
      entry.rules.push(runtime)
      this.rules.set(s.id, runtime)
      // What every notification of the rule carries and never changes (its Alertmanager fingerprint, its
      // dashboard link, its webhook's receiver), made now rather than in the round that first notifies it:
      // 10,000 rules firing at once paid 0.1 s for them on the way to their webhooks.
      fingerprintOf(s)
      dashboardUrl(this.options.publicBase, s)
      if (s.webhook !== undefined) runtime.receiver(s.webhook)
    }
    for (const [id, r] of this.rules) {
      if (keep.has(id)) continue
      this.rules.delete(id)
      const key = `${r.rule.owner}:${r.rule.processType}:${r.rule.metric}`
      const entry = this.series.get(key)!
      entry.rules.splice(entry.rules.indexOf(r), 1)
      if (entry.rules.length === 0) {
        this.series.delete(key)
        for (const source of METRIC_INFO[r.rule.metric as AlertMetric].sources)
          this.watch.delete(seriesPrefix(r.rule.owner, r.rule.processType, source))
      }
    }
  }

  /**
   * Folds one summary record in. Returns the minute it holds when the alerter keeps it (a watched
   * series' 1-minute window within the kept span), else NaN (the record is not needed again).
   */
  apply(key: string, value: Uint8Array, nowMs: number): number {
    const prefix = readKey(key)
    if (prefix === undefined) return Number.NaN
    const watched = this.watch.get(prefix)
    if (watched === undefined) return Number.NaN
    const minute = keyMinute(key)
    const from = this.retainFrom(nowMs)
    if (!(minute >= from) || minute > from + (this.size - 1) * MINUTE) return Number.NaN
    watched.series.apply(watched.component, keyLabel(key), minute, value)
    return minute
  }

  /** Evaluates what is due at `nowMs` (see the header); undefined when nothing is. */
  round(nowMs: number): Round | undefined {
    if (!this.hasDue(nowMs)) return undefined
    const due = this.dueMinute(nowMs)
    const out = new RoundBuilder(this.options, nowMs)
    const evaluated = this.evaluatedThrough
    // Corrections: minutes already evaluated whose values changed.
    if (evaluated !== undefined) {
      const atMs = evaluated + MINUTE
      for (const entry of this.series.values()) {
        const changed = entry.values.changed
        if (changed.size === 0) continue
        for (const r of entry.rules) {
          let moved = false
          for (const m of changed) {
            if (m > evaluated || r.historyMinute === undefined || m > r.historyMinute) continue
            const back = Math.round((r.historyMinute - m) / MINUTE)
            if (back >= HISTORY_MINUTES || m < r.startMinute) continue
            const { breach, value } = judge(r, m)
            out.evaluations++
            if (back === 0 && value !== r.value) {
              r.value = value
              r.dirty = true
            }
            const bit = 1 << back
            if (breach === ((r.breaches & bit) !== 0)) continue
            r.breaches = breach ? r.breaches | bit : r.breaches & ~bit
            r.dirty = moved = true
          }
          // A rule moves at most once at an instant. One that already moved at the end of the last
          // minute evaluated (a transition written and notified, never withdrawn) is not moved a second
          // time then: the timeline could not tell the two apart (it orders one instant's events by
          // their text). The corrected breaches stand, and the next minute's judgement, in this very
          // round, moves it.
          if (moved && r.sinceMs < atMs) this.derive(r, atMs, out, false)
        }
        for (const m of changed) if (m <= evaluated) changed.delete(m)
      }
    }
    const first =
      evaluated === undefined ? due : Math.max(evaluated + MINUTE, due - (HISTORY_MINUTES - 1) * MINUTE)
    for (let m = first; m <= due; m += MINUTE) {
      for (const r of this.rules.values()) {
        if (m < r.startMinute) continue
        const { breach, value } = judge(r, m)
        out.evaluations++
        r.breaches = shiftTo(r.breaches, r.historyMinute, m) | (breach ? 1 : 0)
        r.historyMinute = m
        if (breach || value !== r.value) r.dirty = true
        r.value = value
        this.derive(r, m + MINUTE, out, true)
      }
      for (const entry of this.series.values()) entry.values.changed.delete(m)
    }
    this.evaluatedThrough = due
    const states: Array<{ ruleId: string; state: RuleState }> = []
    for (const r of this.rules.values())
      if (r.dirty) {
        states.push({ ruleId: r.rule.id, state: r.snapshot() })
        r.dirty = false
      }
    return out.finish(due, states)
  }

  /** Moves a rule to the state its breaches say, with the notifications that go with it. */
  private derive(r: RuleRuntime, atMs: number, out: RoundBuilder, newMinute: boolean): void {
    const from = r.state
    const to = nextState(from, r.breaches, FOR[r.rule.for])
    if (to !== from) {
      r.state = to
      r.sinceMs = atMs
      r.dirty = true
      out.transition(r, from, to, atMs)
      if (to === "firing") {
        r.firedMs = atMs
        r.notifiedMs = atMs
        out.notify(r, "firing", atMs)
      } else if (from === "firing") {
        out.notify(r, "resolved", atMs)
        r.firedMs = undefined
        r.notifiedMs = undefined
      }
      return
    }
    if (to !== "firing" || !newMinute) return
    // Still firing: Alertmanager is refreshed every minute, the webhook reminded every `repeat`.
    out.refresh(r, atMs)
    if (r.notifiedMs !== undefined && atMs - r.notifiedMs >= REPEAT[r.rule.repeat] * MINUTE) {
      r.notifiedMs = atMs
      r.dirty = true
      out.remind(r, atMs)
    }
  }
}

/** Whether a rule's minute breaches, and its value (null: no data). */
const judge = (r: RuleRuntime, minute: number) => {
  const { value, requests } = r.series.valueAt(minute)
  const rule = r.rule
  const breach =
    value !== null &&
    value >= rule.threshold &&
    (!METRIC_INFO[rule.metric].router || requests >= rule.minRequests)
  return { breach, value }
}

const describe = (r: RuleRuntime, from: AlertState, to: AlertState) => {
  const rule = r.rule
  const info = METRIC_INFO[rule.metric]
  const word = to === "ok" && from === "firing" ? "resolved" : to
  const value = r.value === null ? "no data" : `${formatValue(r.value)} ${info.unit}`
  return `${rule.name} ${word}: ${rule.metric} of ${rule.processType} ${value} (threshold ${formatValue(rule.threshold)} ${info.unit}, for ${rule.for})`
}

/** What a round writes, as it is built. */
class RoundBuilder {
  evaluations = 0
  private readonly events: Array<EventRow> = []
  private readonly transitions: Array<Transition> = []
  private readonly deliveries: Array<NewDelivery> = []
  /** A rule's Alertmanager notification of this round: a later one replaces it. */
  private readonly alertmanager = new Map<string, NewDelivery>()
  private readonly options: EvaluatorOptions
  private readonly nowMs: number

  constructor(options: EvaluatorOptions, nowMs: number) {
    this.options = options
    this.nowMs = nowMs
  }

  transition(r: RuleRuntime, from: AlertState, to: AlertState, atMs: number): void {
    this.transitions.push({ rule: r.rule, from, to, atMs })
    this.events.push({
      owner: r.rule.owner,
      timeMs: atMs,
      kind: "alert",
      process: r.rule.processType,
      description: describe(r, from, to),
      actor: "tally",
    })
  }

  private notice(r: RuleRuntime, status: "firing" | "resolved", atMs: number, endsMs: number): Notice {
    return {
      rule: r.rule,
      status,
      value: r.value,
      startsMs: r.firedMs ?? atMs,
      endsMs,
      generatorUrl: dashboardUrl(this.options.publicBase, r.rule),
    }
  }

  private toAlertmanager(r: RuleRuntime, notice: Notice): void {
    const url = this.options.alertmanagerUrl
    if (url === undefined) return
    r.notices++
    r.dirty = true
    this.alertmanager.set(r.rule.id, {
      id: deliveryId(`${r.rule.id}|${r.notices}`),
      ruleId: r.rule.id,
      partition: r.partition,
      kind: "alertmanager",
      receiver: "alertmanager",
      url,
      body: JSON.stringify(alertmanagerAlert(notice)),
      signature: undefined,
      createdMs: this.nowMs,
    })
  }

  private toWebhook(r: RuleRuntime, notice: Notice): void {
    const url = r.rule.webhook
    if (url === undefined) return
    r.notices++
    r.dirty = true
    const body = JSON.stringify(webhookPayload(notice, this.options.publicBase))
    this.deliveries.push({
      id: deliveryId(`${r.rule.id}|${r.notices}`),
      ruleId: r.rule.id,
      partition: r.partition,
      kind: "webhook",
      receiver: r.receiver(url),
      url,
      body,
      signature: signature(r.rule.secret, body),
      createdMs: this.nowMs,
    })
  }

  /** A firing or resolved transition: to Alertmanager and to the webhook. */
  notify(r: RuleRuntime, status: "firing" | "resolved", atMs: number): void {
    const endsMs = status === "firing" ? atMs + ALERTMANAGER_ENDS_AFTER_MS : atMs
    this.toAlertmanager(r, this.notice(r, status, atMs, endsMs))
    this.toWebhook(r, this.notice(r, status, atMs, atMs))
  }

  /** Still firing: Alertmanager's refresh, endsAt a few minutes ahead. */
  refresh(r: RuleRuntime, atMs: number): void {
    this.toAlertmanager(r, this.notice(r, "firing", atMs, atMs + ALERTMANAGER_ENDS_AFTER_MS))
  }

  /** Still firing after `repeat`: the webhook's reminder. */
  remind(r: RuleRuntime, atMs: number): void {
    this.toWebhook(r, this.notice(r, "firing", atMs, atMs))
  }

  finish(evaluatedMinute: number, states: ReadonlyArray<{ ruleId: string; state: RuleState }>): Round {
    return {
      consumer: this.options.consumer,
      evaluatedMinute,
      states,
      events: this.events,
      deliveries: [...this.deliveries, ...this.alertmanager.values()],
      transitions: this.transitions,
      evaluations: this.evaluations,
    }
  }
}
