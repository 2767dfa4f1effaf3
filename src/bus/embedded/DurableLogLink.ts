/**
 * The main thread's side of the writer thread protocol (DurableLogWriter.ts runs the other side): the
 * group commit of appends and commits (whatever arrives while a job is in flight goes into the next
 * one; each caller resumes once its job committed), retention passes run as bounded steps between jobs,
 * and an orderly close after the last pending job.
 */
import type { Worker } from "node:worker_threads"
import { BusError } from "../Records.ts"
import {
  type CommitRow,
  type FromWriter,
  type Packable,
  pack,
  type RetainPlan,
  type Stats,
  type ToWriter,
} from "./DurableLogFormat.ts"

export const unavailable = (message: string, cause?: unknown) =>
  new BusError({ reason: "Unavailable", message: `embedded log: ${message}`, cause })

export type Resume = (error: BusError | undefined) => void

export interface Pending {
  readonly records: ReadonlyArray<Packable>
  readonly commits: ReadonlyArray<CommitRow>
  readonly resume: Resume
}

/** What the log learns from the writer's replies. */
export interface LinkEvents {
  /** A job committed: the new ends of the partitions it appended to; its items resume right after. */
  readonly committed: (ends: ReadonlyArray<readonly [number, number]>, items: ReadonlyArray<Pending>) => void
  /** After a committed job's items resumed, when it appended anything. */
  readonly appended: () => void
  /** A retention step ran. */
  readonly retained: (stats: Stats, deleted: number) => void
  /** The writer failed for good: every pending call failed with it. */
  readonly failed: () => void
}

export interface LinkOptions {
  /** At most this many records a transaction (an append larger than that gets one of its own). */
  readonly maxJobRecords?: number
  /** At most this many rows a retention step deletes before the writer takes the next appends. */
  readonly retainBudget?: number
}

export class WriterLink {
  private pending: Array<Pending> = []
  private inFlight: { readonly id: number; readonly items: ReadonlyArray<Pending> } | undefined
  private retention:
    | { plans: ReadonlyArray<RetainPlan>; next: number; id: number; done: Array<Resume> }
    | undefined
  private lastWasRetain = false
  private scheduled = false
  private nextJob = 0
  failure: BusError | undefined
  private closing: (() => void) | undefined
  private readonly worker: Worker
  private readonly options: LinkOptions
  private readonly clock: () => number
  private readonly events: LinkEvents

  constructor(worker: Worker, options: LinkOptions, clock: () => number, events: LinkEvents) {
    this.worker = worker
    this.options = options
    this.clock = clock
    this.events = events
    worker.on("message", (m: FromWriter) => this.onReply(m))
    worker.on("error", (cause) => this.fail(unavailable("the writer thread failed", cause)))
    worker.on("exit", () => this.fail(unavailable("the writer thread stopped")))
  }

  get available(): boolean {
    return this.failure === undefined && this.closing === undefined
  }

  /** Queues records and commits for the next job; `resume` once it committed (or failed). */
  enqueue(records: ReadonlyArray<Packable>, commits: ReadonlyArray<CommitRow>, resume: Resume): void {
    if (!this.available) {
      resume(this.failure ?? unavailable("closed"))
      return
    }
    this.pending.push({ records, commits, resume })
    this.schedule()
  }

  /** Joins the retention pass under way, or starts one with `plans()`; `done` once it ran to its end. */
  retain(plans: () => ReadonlyArray<RetainPlan>, done: Resume): void {
    if (!this.available) {
      done(this.failure ?? unavailable("closed"))
      return
    }
    if (this.retention) {
      this.retention.done.push(done)
      return
    }
    this.retention = { plans: plans(), next: 0, id: -1, done: [done] }
    this.schedule()
  }

  /** Sends the next job soon (same-turn arrivals share it), unless one is in flight: it goes when that ends. */
  private schedule(): void {
    if (this.scheduled || this.inFlight) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.pump()
    })
  }

  private pump(): void {
    if (this.inFlight || this.failure) return
    const retention = this.retention
    if (retention && this.closing) {
      // Closing: what is pending still commits; the rest of a retention pass waits for the next open.
      this.retention = undefined
      for (const done of retention.done) done(unavailable("closed"))
      this.pump()
      return
    }
    if (retention && (this.lastWasRetain === false || this.pending.length === 0)) {
      this.lastWasRetain = true
      const id = this.nextJob++
      retention.id = id
      this.inFlight = { id, items: [] }
      this.post({
        t: "retain",
        id,
        plans: retention.plans.slice(retention.next),
        budget: this.options.retainBudget ?? 5000,
      })
      return
    }
    if (this.pending.length > 0) {
      this.lastWasRetain = false
      const max = this.options.maxJobRecords ?? 4096
      let n = 0
      let take = 0
      while (take < this.pending.length && (take === 0 || n + this.pending[take]!.records.length <= max))
        n += this.pending[take++]!.records.length
      const items = this.pending.slice(0, take)
      this.pending = this.pending.slice(take)
      const { buf, used } = pack(items.flatMap((i) => i.records))
      const id = this.nextJob++
      this.inFlight = { id, items }
      this.post({ t: "job", id, buf, used, commits: items.flatMap((i) => i.commits), at: this.clock() }, [
        buf,
      ])
      return
    }
    if (this.closing) this.post({ t: "close" })
  }

  private post(message: ToWriter, transfer: Array<ArrayBuffer> = []): void {
    this.worker.postMessage(message, transfer)
  }

  private onReply(m: FromWriter): void {
    const flight = this.inFlight
    if (m.t === "closed" || m.t === "ready") return
    this.inFlight = undefined
    if (m.t === "done") {
      const items = flight?.items ?? []
      this.events.committed(m.ends, items)
      for (const item of items) item.resume(undefined)
      if (m.ends.length > 0) this.events.appended()
    } else if (m.t === "failed") {
      const retention = this.retention
      if (retention && retention.id === m.id) {
        this.retention = undefined
        for (const done of retention.done) done(unavailable(`retention failed: ${m.message}`))
      } else for (const item of flight?.items ?? []) item.resume(unavailable(`append failed: ${m.message}`))
    } else if (m.t === "retained") {
      const retention = this.retention!
      retention.next += m.next
      this.events.retained(m.stats, m.deleted)
      if (retention.next >= retention.plans.length) {
        this.retention = undefined
        for (const done of retention.done) done(undefined)
      }
    }
    this.pump()
  }

  private fail(error: BusError): void {
    if (this.failure || this.closing) return
    this.failure = error
    const items = [...(this.inFlight?.items ?? []), ...this.pending]
    this.inFlight = undefined
    this.pending = []
    for (const item of items) item.resume(error)
    for (const done of this.retention?.done ?? []) done(error)
    this.retention = undefined
    this.events.failed()
  }

  /** Finishes what is pending, then runs `before`, terminates the writer, runs `after` and resolves. */
  close(before: () => void, after: () => void): Promise<void> {
    if (this.closing) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const end = () => {
        before()
        this.worker.terminate().finally(() => {
          after()
          resolve()
        })
      }
      if (this.failure) {
        this.closing = () => {}
        return end()
      }
      this.closing = end
      this.worker.on("message", (m: FromWriter) => {
        if (m.t === "closed") end()
      })
      if (!this.inFlight) this.pump()
    })
  }
}
