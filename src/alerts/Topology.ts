/**
 * The alerter's topology, in reading order: summary topics (1-minute windows of ROUTER_REQUESTS,
 * DYNO_MEMORY and DYNO_LOAD; the partitions p with p mod N == i, like aggregator worker i) -> the
 * watched series' minutes -> once a minute, a round (Evaluator.ts) written durably -> commit.
 *
 * Commit rule: per partition, the first offset of any record of a minute the alerter still keeps (the
 * last HISTORY_MINUTES minutes and those not yet evaluated), else the next offset to read; proposed only
 * after the round that made older minutes unneeded was written. A restart (SIGKILL anywhere) resumes
 * from that commit and the durable state (rules, states, progress, outbox): the replay rebuilds exactly
 * the minutes the next round needs; minutes already evaluated are judged again from their values and
 * change nothing unless their data changed (a late correction, which then moves the rule now).
 *
 * Before a round the alerter reads its partitions up to where they ended when the round became due (a
 * barrier: `Bus.endOffsets`), so a minute is never judged before the alerter has read what the
 * aggregator had emitted of it; a barrier that does not pass in 30 s (a partition whose end cannot be
 * reached) is let go, counted and logged. Rules are re-read when the catalogue's version moves (every
 * second at most). A new assignment (a rebalance, a standby taking over) starts again from the commits
 * and the durable state, as a restart does.
 */
import { Clock, Effect, Metric, Stream } from "effect"
import { Bus } from "../bus/Bus.ts"
import { partitionFor } from "../bus/Partitioner.ts"
import type { Assigned, Batch, BusError, Committed, Delivery } from "../bus/Records.ts"
import { PARTITIONS, summaryTopic } from "../bus/Topics.ts"
import { BACKOFF } from "../domain/Backoff.ts"
import type { StoreError } from "../store/StoreError.ts"
import { controlled, type Flow, IDLE_TICK_MS, item, TICK, untilStopped } from "../stream/Flow.ts"
import { OffsetCommitter } from "../stream/OffsetCommitter.ts"
import { stepAlive, trackWrite } from "../stream/Stage.ts"
import * as M from "./AlertMetrics.ts"
import { AlertStore, type AlertStoreApi } from "./AlertStore.ts"
import type { Deliverer } from "./Delivery.ts"
import { Evaluator, type Round } from "./Evaluator.ts"

export interface AlerterOptions {
  readonly group: string
  /** TALLY_TOPIC_PREFIX */
  readonly prefix: string
  readonly partitions: ReadonlyArray<number>
  readonly flushAfterMs: number
  /** `${TALLY_ALERTMANAGER_URL}/api/v2/alerts`, or undefined. */
  readonly alertmanagerUrl: string | undefined
  readonly publicBase: string
  /** Commit at most this often (processing time). */
  readonly commitIntervalMs: number
  /** Look for changed rules at most this often. */
  readonly rulesEveryMs: number
  /** The longest a round waits for the barrier (see the header). */
  readonly barrierMaxMs: number
}

/** The summary topics an alert metric can be computed from. */
export const alerterTopics = (prefix: string) =>
  (["ROUTER_REQUESTS", "DYNO_MEMORY", "DYNO_LOAD"] as const).map((t) => summaryTopic(t, prefix))

const id = (topic: string, partition: number) => `${topic}\u0000${partition}`

/** Waits out a shard that cannot be reached (the stage is alive meanwhile); anything else is fatal. */
const patiently = <A, R>(what: string, effect: Effect.Effect<A, StoreError, R>) =>
  effect.pipe(
    Effect.tapError((e) =>
      Effect.andThen(
        stepAlive,
        Effect.logWarning(`alerter waits for the catalogue shard (${what}): ${e.message}`),
      ),
    ),
    Effect.retry({ while: (e) => e.reason === "Unavailable", schedule: BACKOFF }),
  )

/** One worker's state under its current assignment. */
class AlerterState {
  evaluator: Evaluator | undefined
  generation = -1
  owned = new Set<number>()
  /** The next offset to read of each owned partition whose position is known. */
  readonly positions = new Map<string, number>()
  /** Per partition, the first offset of each minute kept. */
  readonly firsts = new Map<string, Map<number, number>>()
  barrier: { readonly ends: ReadonlyMap<string, number>; readonly since: number } | undefined
  rulesVersion = -1
  rulesCheckedAt = Number.NEGATIVE_INFINITY
  readonly topics: ReadonlyArray<string>
  readonly options: AlerterOptions

  constructor(options: AlerterOptions) {
    this.options = options
    this.topics = alerterTopics(options.prefix)
  }

  commitPoints(nowMs: number): Array<Committed> {
    const out: Array<Committed> = []
    const from = this.evaluator?.retainFrom(nowMs) ?? Number.NEGATIVE_INFINITY
    for (const topic of this.topics)
      for (const partition of this.owned) {
        const key = id(topic, partition)
        const position = this.positions.get(key)
        if (position === undefined) continue
        let point = position
        const firsts = this.firsts.get(key)
        if (firsts)
          for (const [minute, offset] of firsts) {
            if (minute < from) firsts.delete(minute)
            else if (offset < point) point = offset
          }
        out.push({ topic, partition, offset: point, metadata: "" })
      }
    return out
  }

  /** Whether every owned partition has been read to where the barrier saw its end. */
  barrierPassed(): boolean {
    if (!this.barrier) return false
    for (const [key, end] of this.barrier.ends) {
      const position = this.positions.get(key)
      if (position !== undefined && position < end) return false
    }
    return true
  }
}

const loadRules = Effect.fnUntraced(function* (state: AlerterState, store: AlertStoreApi, nowMs: number) {
  const version = yield* store.version
  const rules = yield* store.load
  state.rulesVersion = version
  state.rulesCheckedAt = nowMs
  state.evaluator!.setRules(rules, (p) => state.owned.has(p))
  yield* Metric.update(M.rules, state.evaluator!.ruleCount)
})

const assign = Effect.fnUntraced(function* (
  state: AlerterState,
  assigned: Assigned,
  store: AlertStoreApi,
  deliverer: Deliverer,
) {
  state.generation = assigned.generation
  state.owned = new Set(assigned.partitions.map((p) => p.partition))
  state.positions.clear()
  state.firsts.clear()
  state.barrier = undefined
  for (const p of assigned.partitions)
    if (p.committed) state.positions.set(id(p.topic, p.partition), p.committed.offset)
  deliverer.owned = undefined
  if (state.owned.size === 0) {
    state.evaluator = undefined
    return
  }
  const progress = yield* patiently("progress", store.progress(state.options.group))
  state.evaluator = new Evaluator(
    {
      consumer: state.options.group,
      flushAfterMs: state.options.flushAfterMs,
      alertmanagerUrl: state.options.alertmanagerUrl,
      publicBase: state.options.publicBase,
      partitionOf: (owner, processType) => partitionFor(`${owner}:${processType}`, PARTITIONS),
    },
    progress,
  )
  yield* patiently("rules", loadRules(state, store, yield* Clock.currentTimeMillis))
  deliverer.owned = [...state.owned]
  deliverer.wake()
})

const fold = (state: AlerterState, batch: Batch, nowMs: number) => {
  const key = id(batch.topic, batch.partition)
  const evaluator = state.evaluator
  if (evaluator) {
    let firsts = state.firsts.get(key)
    for (const r of batch.records) {
      const minute = evaluator.apply(r.key, r.value, nowMs)
      if (Number.isNaN(minute)) continue
      if (!firsts) state.firsts.set(key, (firsts = new Map()))
      if (!firsts.has(minute)) firsts.set(minute, r.offset)
    }
  }
  state.positions.set(key, batch.records[batch.records.length - 1]!.offset + 1)
}

/** Transitions logged one by one in a round with at most this many; past it, counted in one line. */
const LOGGED_TRANSITIONS = 20

const writeRound = Effect.fnUntraced(function* (round: Round, store: AlertStoreApi, computedMs: number) {
  const started = yield* Clock.currentTimeMillis
  yield* patiently("write", trackWrite(store.writeRound(round)))
  const writtenMs = (yield* Clock.currentTimeMillis) - started
  yield* Metric.update(M.rounds, 1)
  yield* Metric.update(M.evaluations, round.evaluations)
  const counts = new Map<string, number>()
  for (const t of round.transitions) counts.set(t.to, (counts.get(t.to) ?? 0) + 1)
  for (const [to, n] of counts) yield* Metric.update(Metric.withAttributes(M.transitions, { to }), n)
  if (round.transitions.length <= LOGGED_TRANSITIONS)
    for (const t of round.transitions)
      yield* Effect.logInfo(
        `alert ${t.rule.name} (${t.rule.id}) of app ${t.rule.app}: ${t.from} -> ${t.to} at ${new Date(t.atMs).toISOString()}`,
      )
  const summary = `alerter: minute ${new Date(round.evaluatedMinute).toISOString().slice(11, 16)} evaluated (${round.evaluations} rule-minutes, ${round.transitions.length} transitions${round.transitions.length > LOGGED_TRANSITIONS ? `: ${[...counts].map(([to, n]) => `${n} to ${to}`).join(", ")}` : ""}, ${round.deliveries.length} notifications) in ${computedMs} ms, written in ${writtenMs} ms`
  yield* round.transitions.length > 0 ? Effect.logInfo(summary) : Effect.logDebug(summary)
})

/** Rules changed, barrier, round: what a Tick or a batch may lead to. */
const step = Effect.fnUntraced(function* (state: AlerterState, store: AlertStoreApi, deliverer: Deliverer) {
  const evaluator = state.evaluator
  if (!evaluator) return
  const now = yield* Clock.currentTimeMillis
  if (now - state.rulesCheckedAt >= state.options.rulesEveryMs) {
    state.rulesCheckedAt = now
    const version = yield* store.version.pipe(Effect.option)
    if (version._tag === "Some" && version.value !== state.rulesVersion)
      yield* loadRules(state, store, now).pipe(
        Effect.catch((e) => Effect.logWarning(`alerter: rules not reloaded: ${e.message}`)),
      )
  }
  if (!evaluator.hasDue(now)) return
  if (!state.barrier) {
    const bus = yield* Bus
    const ends = yield* bus.endOffsets(state.topics).pipe(Effect.option)
    if (ends._tag === "None") return
    const mine = new Map<string, number>()
    for (const e of ends.value) if (state.owned.has(e.partition)) mine.set(id(e.topic, e.partition), e.offset)
    state.barrier = { ends: mine, since: now }
  }
  if (!state.barrierPassed()) {
    if (now - state.barrier.since < state.options.barrierMaxMs) return
    yield* Metric.update(M.waitedBarrier, 1)
    yield* Effect.logWarning(
      `alerter: its summary partitions were not read to their ends within ${state.options.barrierMaxMs / 1000} s; evaluating with what it has`,
    )
  }
  state.barrier = undefined
  const computing = performance.now()
  const round = evaluator.round(now)
  if (!round) return
  yield* writeRound(round, store, Math.round(performance.now() - computing))
  if (round.deliveries.length > 0) deliverer.wake()
})

/**
 * A Tick at the instant the next round becomes due: the regular Ticks come every `tickEvery` only while
 * summaries flow, every second when they do not, so a round waited up to a second past its due instant.
 */
const dueTicks = (state: AlerterState): Stream.Stream<Flow<Batch>> =>
  Stream.fromEffectRepeat(
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const evaluator = state.evaluator
      const through = evaluator?.evaluatedThrough
      const at = through === undefined ? undefined : evaluator!.dueAt(through)
      if (at === undefined || at <= now) {
        // Nothing ahead to wait for (no assignment, no first round yet, or a round due now: the regular
        // Ticks and batches carry it): look again in a while.
        yield* Effect.sleep(IDLE_TICK_MS)
        return []
      }
      yield* Effect.sleep(at - now)
      return [TICK]
    }),
  ).pipe(Stream.flattenIterable)

/**
 * summary records -> watched minutes -> rounds (written durably) -> commits. A graceful stop commits
 * what is covered; a crash (the source ends, the fiber is killed) does nothing more.
 */
export const alerterTopology = (
  options: AlerterOptions,
  source: Stream.Stream<Delivery, BusError>,
  deliverer: Deliverer,
  stop: Effect.Effect<void> = Effect.never,
  tickEvery: number | "never" = 500,
): Stream.Stream<Flow<ReadonlyArray<Committed>>, BusError | StoreError, Bus | AlertStore> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const store = yield* AlertStore
      const state = new AlerterState(options)
      const committer = new OffsetCommitter(options.commitIntervalMs)
      yield* M.registerAlertMetrics
      const flow = controlled(source, { tickEvery, stop })
      let stopped = false
      return (
        tickEvery === "never" ? flow : Stream.merge(flow, dueTicks(state), { haltStrategy: "left" })
      ).pipe(
        Stream.mapEffect(
          (f): Effect.Effect<ReadonlyArray<Flow<ReadonlyArray<Committed>>>, BusError | StoreError, Bus> =>
            Effect.gen(function* () {
              // Nothing after the Stop (a due Tick may follow it in): the stop's commit is the last word.
              if (stopped) return []
              if (f._tag === "Stop") stopped = true
              if (f._tag === "Assigned") {
                yield* assign(state, f, store, deliverer)
                return [f]
              }
              const now = yield* Clock.currentTimeMillis
              if (f._tag === "Item") {
                if (f.generation !== state.generation) return []
                fold(state, f.value, now)
                yield* Metric.update(M.records, f.value.records.length)
              }
              yield* step(state, store, deliverer)
              const points = item(state.commitPoints(yield* Clock.currentTimeMillis), state.generation)
              return f._tag === "Stop" ? [points, f] : [points]
            }),
        ),
        Stream.flattenIterable,
        committer.points,
        untilStopped,
      )
    }),
  )
