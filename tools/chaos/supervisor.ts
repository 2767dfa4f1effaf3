/**
 * A small process supervisor, as production would run tally: every stage its own OS process, restarted
 * whenever it exits (1 s later; 2, 4 … at most 10 s apart while it keeps exiting within 10 s of its
 * start). Every exit is logged with its code or signal and the process's last lines; each process's
 * output goes to `<dir>/<name>.log` (all its incarnations, each headed by a line of its own).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, type WriteStream } from "node:fs"
import { join } from "node:path"

export interface ProcessSpec {
  /** `aggregator-0`, `sink`, … (also its log file's name). */
  readonly name: string
  /** Arguments of `node src/main.ts`. */
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** Where it serves /healthz and /metrics. */
  readonly port: number
}

export interface Exit {
  readonly name: string
  readonly incarnation: number
  readonly pid: number
  readonly atMs: number
  readonly code: number | null
  readonly signal: string | null
  /** True when the harness sent the signal (a scheduled fault, or the end of the run). */
  readonly expected: boolean
  readonly lastLines: ReadonlyArray<string>
  readonly upMs: number
}

interface Managed {
  readonly spec: ProcessSpec
  child: ChildProcess | undefined
  incarnation: number
  startedMs: number
  /** Signals the harness sent to the current incarnation. */
  signalled: boolean
  /** Stopped with SIGSTOP (a freeze), not yet continued. */
  paused: boolean
  tail: Array<string>
  partial: string
  restartDelayMs: number
  restartTimer: NodeJS.Timeout | undefined
  readonly log: WriteStream
}

const TAIL = 12

export class Supervisor {
  readonly exits: Array<Exit> = []
  private readonly procs = new Map<string, Managed>()
  private stopping = false
  private readonly root: string
  private readonly dir: string
  private readonly say: (line: string) => void

  constructor(root: string, dir: string, say: (line: string) => void) {
    this.root = root
    this.dir = dir
    this.say = say
  }

  add(spec: ProcessSpec): void {
    const m: Managed = {
      spec,
      child: undefined,
      incarnation: 0,
      startedMs: 0,
      signalled: false,
      paused: false,
      tail: [],
      partial: "",
      restartDelayMs: 1000,
      restartTimer: undefined,
      log: createWriteStream(join(this.dir, `${spec.name}.log`), { flags: "a" }),
    }
    this.procs.set(spec.name, m)
    this.start(m)
  }

  names(): Array<string> {
    return [...this.procs.keys()]
  }

  spec(name: string): ProcessSpec {
    return this.get(name).spec
  }

  /** The incarnation now running (1 = the first start), or 0 while it is down. */
  incarnation(name: string): number {
    const m = this.get(name)
    return m.child ? m.incarnation : 0
  }

  /** When the running incarnation started (ms; Infinity while it is down). */
  startedAt(name: string): number {
    const m = this.get(name)
    return m.child ? m.startedMs : Number.POSITIVE_INFINITY
  }

  pid(name: string): number | undefined {
    return this.get(name).child?.pid
  }

  running(name: string): boolean {
    return this.get(name).child !== undefined
  }

  output(name: string): ReadonlyArray<string> {
    return this.get(name).tail
  }

  private get(name: string): Managed {
    const m = this.procs.get(name)
    if (!m) throw new Error(`no process ${name}`)
    return m
  }

  private start(m: Managed): void {
    m.restartTimer = undefined
    if (this.stopping) return
    m.incarnation++
    m.startedMs = Date.now()
    m.signalled = false
    m.paused = false
    m.tail = []
    m.partial = ""
    const child = spawn(process.execPath, [join(this.root, "src/main.ts"), ...m.spec.args], {
      cwd: this.root,
      env: { ...process.env, ...m.spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    })
    m.child = child
    m.log.write(`==== ${new Date().toISOString()} incarnation ${m.incarnation} (pid ${child.pid}) ====\n`)
    const take = (chunk: Buffer) => {
      m.log.write(chunk)
      const text = m.partial + chunk.toString("utf8")
      const lines = text.split("\n")
      m.partial = lines.pop() ?? ""
      for (const l of lines) if (l.trim() !== "") m.tail.push(l)
      if (m.tail.length > TAIL) m.tail.splice(0, m.tail.length - TAIL)
    }
    child.stdout!.on("data", take)
    child.stderr!.on("data", take)
    child.on("close", (code, signal) => {
      if (m.partial.trim() !== "") m.tail.push(m.partial)
      const exit: Exit = {
        name: m.spec.name,
        incarnation: m.incarnation,
        pid: child.pid ?? 0,
        atMs: Date.now(),
        code,
        signal,
        expected: m.signalled,
        lastLines: m.tail.slice(-6),
        upMs: Date.now() - m.startedMs,
      }
      this.exits.push(exit)
      m.child = undefined
      m.log.write(`==== ${new Date().toISOString()} exit ${signal ?? `code ${code}`} ====\n`)
      const how = signal ? `signal ${signal}` : `code ${code}`
      this.say(
        `${m.spec.name}#${m.incarnation} exited (${how}${exit.expected ? ", sent by the harness" : ""}) after ${(exit.upMs / 1000).toFixed(1)} s${exit.expected ? "" : `; last lines:\n${exit.lastLines.map((l) => `      | ${l.slice(0, 300)}`).join("\n")}`}`,
      )
      if (this.stopping) return
      // A process that keeps dying right after its start is restarted less and less often.
      m.restartDelayMs = exit.upMs < 10_000 && !exit.expected ? Math.min(10_000, m.restartDelayMs * 2) : 1000
      m.restartTimer = setTimeout(() => this.start(m), m.restartDelayMs)
    })
  }

  /** Sends `signal` to the running incarnation; false when it is down. */
  signal(name: string, signal: NodeJS.Signals): boolean {
    const m = this.get(name)
    if (!m.child) return false
    m.signalled = true
    m.child.kill(signal)
    return true
  }

  /** Whether the running incarnation is frozen (SIGSTOP). */
  paused(name: string): boolean {
    const m = this.get(name)
    return m.child !== undefined && m.paused
  }

  /** Freezes the running incarnation (SIGSTOP: it keeps its sockets and does nothing); false when it is down. */
  pause(name: string): boolean {
    const m = this.get(name)
    if (!m.child) return false
    m.paused = true
    return m.child.kill("SIGSTOP")
  }

  /** Thaws it (SIGCONT); false when it is down. */
  resume(name: string): boolean {
    const m = this.get(name)
    if (!m.child) return false
    m.paused = false
    return m.child.kill("SIGCONT")
  }

  /** Resolves when `name` has exited `after` (an exit recorded after that index). */
  async waitExit(name: string, after: number, withinMs: number): Promise<Exit | undefined> {
    const until = Date.now() + withinMs
    while (Date.now() < until) {
      const e = this.exits.slice(after).find((x) => x.name === name)
      if (e) return e
      await new Promise((r) => setTimeout(r, 50))
    }
    return undefined
  }

  /** Stops everything: SIGTERM, then SIGKILL what is left after `graceMs`; no restarts from now on. */
  async stopAll(graceMs = 15_000): Promise<void> {
    this.stopping = true
    for (const m of this.procs.values()) if (m.restartTimer) clearTimeout(m.restartTimer)
    const alive = [...this.procs.values()].filter((m) => m.child)
    for (const m of alive) if (m.paused) this.resume(m.spec.name)
    const exited = alive.map((m) => new Promise<void>((resolve) => m.child!.once("close", () => resolve())))
    for (const m of alive) this.signal(m.spec.name, "SIGTERM")
    const timer = setTimeout(() => {
      for (const m of alive) if (m.child) this.signal(m.spec.name, "SIGKILL")
    }, graceMs)
    await Promise.all(exited)
    clearTimeout(timer)
    await Promise.all(
      [...this.procs.values()].map((m) => new Promise<void>((resolve) => m.log.end(() => resolve()))),
    )
  }
}
