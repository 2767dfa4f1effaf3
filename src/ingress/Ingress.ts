/**
 * The ingress core, independent of HTTP: a drain body in, its measurements durable in Kafka out.
 * Nothing is acknowledged that Kafka has not acknowledged, and nothing of a refused body is produced
 * unless framing broke (then the frames before the break are produced, and the caller answers 400).
 */
import { randomBytes } from "node:crypto"
import {
  Cause,
  Clock,
  Context,
  Duration,
  Effect,
  Exit,
  Layer,
  Metric,
  Option,
  Schedule,
  Schema,
  type Scope,
  Stream,
} from "effect"
import { Bus } from "../bus/Bus.ts"
import { TallyConfig } from "../config/TallyConfig.ts"
import { DAY_MS } from "../domain/Time.ts"
import { tracked } from "../stream/Stage.ts"
import { AppBudgets, type AppLoad, type ReadingBody, SlowBodies, SWEEP_MS } from "./AppBudgets.ts"
import { Backpressure } from "./Backpressure.ts"
import { Cardinality } from "./Cardinality.ts"
import { DrainParser } from "./DrainParser.ts"
import { RecordEncoder } from "./Encode.ts"
import { badHeaders, batchKey, FrameIds } from "./FrameIds.ts"
import * as M from "./IngressMetrics.ts"

export class IngestError extends Schema.TaggedError<IngestError>()("IngestError", {
  reason: Schema.Literals(["BadFraming", "TooLarge", "Unavailable", "BadBody", "BadHeader"]),
  message: Schema.String,
  /** BadFraming: where the body broke, and how many frames before it were accepted. */
  offset: Schema.optional(Schema.Number),
  framesAccepted: Schema.optional(Schema.Number),
}) {}

/** A body being read, as the minimum-rate check sees it; `cut` cuts it off. */
interface Reading extends ReadingBody {
  readonly cut: () => void
}

/** A drain request as far as it is known before its body is read. */
export interface DrainHead {
  readonly owner: string
  readonly drainToken?: string | undefined
  readonly frameId?: string | undefined
  readonly msgCount?: number | undefined
  readonly contentLength?: number | undefined
}

export interface DrainRequest extends DrainHead {
  readonly body: Stream.Stream<Uint8Array, unknown>
}

/** A drain body being read by the caller (see IngressApi.open): chunks are pushed, then it is finished. */
export interface DrainBody {
  /** Parses a chunk; false when no more should be read (too large, over the in-flight cap, framing broke). */
  readonly push: (chunk: Uint8Array) => boolean
  /** The body was read (or `push` said stop): produces what was parsed; the request's outcome. */
  readonly finish: Effect.Effect<DrainResult, IngestError>
  /**
   * Registers what to do when the body is cut off while it is read (it arrived slower than
   * TALLY_MIN_BODY_RATE): stop reading and answer the error (503); `finish` fails with it too.
   */
  readonly onCut: (f: (e: IngestError) => void) => void
}

export interface DrainResult {
  readonly frames: number
  readonly produced: number
  /** True when this was a retry of a batch this process had already acknowledged. */
  readonly duplicate: boolean
}

export interface IngressApi {
  readonly ingest: (request: DrainRequest) => Effect.Effect<DrainResult, IngestError>
  /**
   * `ingest` for a body the caller reads itself (the DrainListener reads it from Node's request): checks
   * the request, then either answers at once (a retry of an acknowledged batch) or hands out the body to
   * feed. What the body holds (its bytes in flight, its Frame-Id's claim) is released when it finishes,
   * or with the scope when it never does (the connection broke).
   */
  readonly open: (head: DrainHead) => Effect.Effect<DrainBody | DrainResult, IngestError, Scope.Scope>
}

/** Ingress refuses event times more than this far ahead of its clock (DESIGN.md semantics 2). */
export const MAX_FUTURE_MS = 2 * 60 * 1000
/**
 * Bodies being processed at once, in bytes, before new ones get 503: the process's bound over all apps.
 * Each app has its own, smaller budget (TALLY_APP_MAX_INFLIGHT, see AppBudgets.ts).
 */
export const MAX_INFLIGHT_BYTES = 64 * 1024 * 1024

/** The cap on drain bytes in flight (read and not yet answered): MAX_INFLIGHT_BYTES unless a test sets it. */
export const MaxInflightBytes = Context.Reference<number>("tally/ingress/MaxInflightBytes", {
  defaultValue: () => MAX_INFLIGHT_BYTES,
})

export class Ingress extends Context.Service<Ingress, IngressApi>()("tally/ingress/Ingress") {
  static readonly layer = Layer.effect(
    Ingress,
    Effect.gen(function* () {
      const bus = yield* Bus
      const settings = yield* TallyConfig
      const backpressure = yield* Backpressure
      const cardinality = yield* Cardinality
      const frameIds = new FrameIds(settings.appMaxFrameIds)
      // One body of the largest size always fits an app's budget alone.
      const apps = new AppBudgets(Math.max(settings.appMaxInflightBytes, settings.maxBodyBytes))
      const slowBodies = new SlowBodies<Reading>(settings.minBodyRate)
      // One encoder for every request: a request's records are encoded in one synchronous loop.
      const encoder = new RecordEncoder(settings.topicPrefix)
      const process = randomBytes(6).toString("hex")
      let sequence = 0
      const maxInflight = yield* MaxInflightBytes
      /** Bytes read of the bodies in flight: each is charged as it is read and released when it is answered. */
      let inflight = 0
      const retentionMs = settings.retentionDays * DAY_MS
      const busy = new IngestError({
        reason: "Unavailable",
        message: "too many drain bytes in flight; retry shortly",
      })
      const appBusy = new IngestError({
        reason: "Unavailable",
        message: "too many drain bytes of this app in flight (TALLY_APP_MAX_INFLIGHT); retry shortly",
      })
      const tooSlow = new IngestError({
        reason: "Unavailable",
        message: `the body arrived slower than ${settings.minBodyRate} bytes/s (TALLY_MIN_BODY_RATE); retry`,
      })
      // Every second: the bodies arriving slower than TALLY_MIN_BODY_RATE are cut off.
      yield* Effect.gen(function* () {
        const slow = slowBodies.sweep(yield* Clock.currentTimeMillis)
        if (slow.length === 0) return
        for (const reading of slow) reading.cut()
        yield* Metric.update(Metric.withAttributes(M.rejected, { reason: "slow_body" }), slow.length)
      }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(SWEEP_MS))), Effect.forkScoped)

      const produceParsed = Effect.fnUntraced(function* (request: DrainHead, parser: DrainParser) {
        const now = yield* Clock.currentTimeMillis
        const delivery = {
          owner: request.owner,
          drain: request.drainToken || request.owner,
          frameId: request.frameId ?? "",
          delivery: `${process}-${++sequence}`,
          receivedMs: now,
        }
        const byType = new Map<string, number>()
        let future = 0
        let old = 0
        let produced = 0
        // Over the app's cardinality caps: refused before anything is encoded (may ask the catalogue, so
        // before `begin`: the encoder is shared).
        const admission = yield* cardinality.admit(request.owner, parser.measurements, {
          fromMs: now - retentionMs,
          toMs: now + MAX_FUTURE_MS,
        })
        encoder.begin(delivery)
        for (const m of admission.admitted) {
          const ms = m.timeUs / 1000
          if (ms > now + MAX_FUTURE_MS) future++
          else if (ms < now - retentionMs) old++
          else {
            encoder.add(m)
            byType.set(m.type, (byType.get(m.type) ?? 0) + 1)
            produced++
          }
        }
        // One record per record key and type of the delivery (Encode.ts), its lines in order.
        const records = encoder.finish()
        // Appends that keep failing turn /healthz red (stream/Stage.ts, "Failing writes").
        yield* tracked("ingress", bus.produce(records)).pipe(
          Effect.mapError(
            (e) =>
              new IngestError({
                reason: "Unavailable",
                message: `Kafka did not take the batch: ${e.message}`,
              }),
          ),
        )
        yield* Metric.update(M.lines, parser.frames)
        yield* Metric.update(M.ignored, parser.ignored)
        if (parser.malformed > 0)
          yield* Metric.update(Metric.withAttributes(M.rejected, { reason: "malformed" }), parser.malformed)
        for (const [reason, n] of parser.refused)
          yield* Metric.update(Metric.withAttributes(M.rejected, { reason: `bad_${reason}` }), n)
        if (future > 0) yield* Metric.update(Metric.withAttributes(M.rejected, { reason: "future" }), future)
        if (old > 0) yield* Metric.update(Metric.withAttributes(M.rejected, { reason: "too_old" }), old)
        for (const [reason, n] of admission.refused)
          yield* Metric.update(Metric.withAttributes(M.rejected, { reason }), n)
        for (const [type, n] of byType) yield* Metric.update(Metric.withAttributes(M.produced, { type }), n)
        if (request.msgCount !== undefined && request.msgCount !== parser.frames)
          yield* Metric.update(M.msgCountMismatch, 1)
        return produced
      })

      const tooLarge = new IngestError({
        reason: "TooLarge",
        message: `the body exceeds ${settings.maxBodyBytes} bytes (TALLY_MAX_BODY)`,
      })

      /** The body of a request that passed its checks; `settle` releases what it holds, once. */
      const body = (request: DrainHead, key: string | undefined, app: AppLoad, started: number) => {
        const parser = new DrainParser()
        let large = false
        let overCap: "inflight" | "app_inflight" | undefined
        let slow = false
        let settled = false
        let onCut: ((e: IngestError) => void) | undefined
        /** Its bytes read (charged to the process and the app as they are read) and its rate's samples. */
        const reading: Reading = {
          started,
          read: 0,
          samples: undefined,
          cut: () => {
            slow = true
            onCut?.(tooSlow)
          },
        }
        app.bodies++
        slowBodies.add(reading)
        /** Releases what it holds; false when its batch was acknowledged but not remembered (app at its budget). */
        const settle = (remembered: boolean, now: number): boolean => {
          if (settled) return true
          settled = true
          slowBodies.delete(reading)
          inflight -= reading.read
          app.inflight -= reading.read
          app.bodies--
          return key ? frameIds.finish(key, remembered, now, request.owner) : true
        }
        const push = (chunk: Uint8Array): boolean => {
          if (slow) return false
          const n = chunk.byteLength
          if (reading.read + n > settings.maxBodyBytes) {
            large = true
            return false
          }
          reading.read += n
          inflight += n
          app.inflight += n
          overCap =
            inflight > maxInflight ? "inflight" : app.inflight > apps.maxInflight ? "app_inflight" : undefined
          return overCap === undefined && parser.push(chunk)
        }
        const produce = Effect.gen(function* () {
          // Read (or stopped): no longer held to the minimum rate.
          slowBodies.delete(reading)
          yield* Metric.update(M.inflightBytes, inflight)
          if (slow) return yield* tooSlow
          if (large) return yield* tooLarge
          if (overCap !== undefined) {
            yield* Metric.update(Metric.withAttributes(M.rejected, { reason: overCap }), 1)
            return yield* overCap === "inflight" ? busy : appBusy
          }
          const framingError = parser.end()
          const produced = yield* produceParsed(request, parser)
          if (framingError)
            return yield* new IngestError({
              reason: "BadFraming",
              message: `framing broke at byte ${framingError.offset}: ${framingError.reason}`,
              offset: framingError.offset,
              framesAccepted: parser.frames,
            })
          return { frames: parser.frames, produced, duplicate: false }
        })
        const finish = produce.pipe(
          Effect.onExit((exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const ok = Exit.isSuccess(exit)
              if (ok) apps.accepted(app, reading.read, now)
              // Acknowledged: remembered. BadFraming produced what it could and Logplex will not retry a 400.
              const remembered = settle(
                ok || Option.exists(Cause.findErrorOption(exit.cause), (e) => e.reason === "BadFraming"),
                now,
              )
              const gauge = Metric.update(M.inflightBytes, inflight)
              return remembered ? gauge : Effect.andThen(Metric.update(M.frameIdsNotRemembered, 1), gauge)
            }),
          ),
        )
        const cut = (f: (e: IngestError) => void) => {
          onCut = f
        }
        return { push, finish, settle, onCut: cut }
      }

      const duplicate = Effect.as(Metric.update(M.duplicates, 1), {
        frames: 0,
        produced: 0,
        duplicate: true,
      } satisfies DrainResult)

      const open = (head: DrainHead): Effect.Effect<DrainBody | DrainResult, IngestError, Scope.Scope> =>
        Effect.gen(function* () {
          const bad = badHeaders(head.frameId, head.drainToken)
          if (bad) return yield* new IngestError({ reason: "BadHeader", message: bad })
          if (head.contentLength !== undefined && head.contentLength > settings.maxBodyBytes)
            return yield* tooLarge
          const now = yield* Clock.currentTimeMillis
          // The request's one lookup of its app: its body keeps the entry.
          const app = apps.of(head.owner)
          // A declared length that cannot fit is refused unread; what is read is charged as it is read.
          if (head.contentLength !== undefined) {
            const over =
              inflight + head.contentLength > maxInflight
                ? "inflight"
                : apps.over(app, head.contentLength)
                  ? "app_inflight"
                  : undefined
            if (over !== undefined) {
              yield* Metric.update(Metric.withAttributes(M.rejected, { reason: over }), 1)
              return yield* over === "inflight" ? busy : appBusy
            }
          }
          const key = head.frameId ? batchKey(head.owner, head.drainToken, head.frameId) : undefined
          if (key) {
            const claim = frameIds.claim(key, now)
            if (claim === "duplicate") return yield* duplicate
            if (claim !== "new") {
              // The first delivery of this Frame-Id is in flight: its outcome decides.
              if (yield* Effect.promise(() => claim)) return yield* duplicate
              return yield* open(head)
            }
          }
          const opened = body(head, key, app, now)
          // Never finished (the connection broke, the fiber was interrupted): its claim is released.
          yield* Effect.addFinalizer(() =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.sync(() => opened.settle(false, now)).pipe(
                Effect.andThen(Metric.update(M.inflightBytes, inflight)),
              ),
            ),
          )
          // Behind (Backpressure.ts): refused before reading when far behind, or when this app sent at least
          // than the mean of the apps lately (Logplex retries it with its Frame-Id).
          const level = backpressure.level()
          if (level !== "ok") {
            const refused =
              level === "far" ? "backpressure" : apps.overShare(app, now) ? "app_backpressure" : undefined
            if (refused !== undefined) {
              yield* Metric.update(Metric.withAttributes(M.rejected, { reason: refused }), 1)
              return yield* new IngestError({
                reason: "Unavailable",
                message:
                  refused === "backpressure"
                    ? backpressure.message()
                    : `${backpressure.message()}: this app sent at least the mean share of the apps lately`,
              })
            }
          }
          return { push: opened.push, finish: opened.finish, onCut: opened.onCut } satisfies DrainBody
        })

      const ingest = Effect.fn("Ingress.ingest")(function* (
        request: DrainRequest,
      ): Effect.fn.Return<DrainResult, IngestError> {
        return yield* Effect.scoped(
          Effect.gen(function* () {
            const opened = yield* open(request)
            if (!("push" in opened)) return opened
            yield* Stream.runForEachWhile(request.body, (chunk) =>
              Effect.sync(() => opened.push(chunk)),
            ).pipe(
              Effect.mapError(
                (cause) =>
                  new IngestError({
                    reason: "BadBody",
                    message: `the request body could not be read: ${String(cause)}`,
                  }),
              ),
              // Cut off (too slow): reading stops and the request fails with the cut's error.
              Effect.raceFirst(
                Effect.callback<never, IngestError>((resume) => {
                  opened.onCut((e) => resume(Effect.fail(e)))
                }),
              ),
            )
            return yield* opened.finish
          }),
        )
      })

      return Ingress.of({ ingest, open })
    }),
  )
}
