/**
 * The chaos run's TCP proxies (proxy.ts) in a process of their own, so that the harness's busy event loop
 * (the load generator, the oracle, the checks) never delays the traffic of the stages behind them. The
 * harness forks this file with an IPC channel and drives it with ProxyHost: start a named proxy, switch
 * it between forward, delay and hang, read how many connections it accepted and black-holed.
 */
import { fork } from "node:child_process"
import { startProxy, type TcpProxy } from "./proxy.ts"

type Mode =
  | { readonly mode: "forward" }
  | { readonly mode: "hang" }
  | { readonly mode: "delay"; readonly ms: number }

type Request =
  | {
      readonly op: "start"
      readonly name: string
      readonly target: { host: string; port: number }
      readonly listenPort?: number
    }
  | ({ readonly op: "mode"; readonly name: string } & Mode)
  | { readonly op: "stats"; readonly name: string }

interface Answer {
  readonly id: number
  readonly ok: boolean
  readonly port?: number
  readonly accepted?: number
  readonly hung?: number
  readonly error?: string
}

export interface ProxyStats {
  readonly accepted: number
  readonly hung: number
}

/** The harness's side: one child process holding every proxy of the run. */
export class ProxyHost {
  private readonly child = fork(import.meta.filename, ["--proxy-host"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  })
  private next = 0
  private readonly waiting = new Map<number, (a: Answer) => void>()

  constructor() {
    this.child.on("message", (m: Answer) => {
      this.waiting.get(m.id)?.(m)
      this.waiting.delete(m.id)
    })
    this.child.on("exit", () => {
      for (const resolve of this.waiting.values())
        resolve({ id: -1, ok: false, error: "the proxy host exited" })
      this.waiting.clear()
    })
  }

  private ask(request: Request): Promise<Answer> {
    const id = this.next++
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.set(id, (a) => (a.ok ? resolve(a) : reject(new Error(a.error ?? "proxy host failed"))))
      this.child.send({ id, ...request })
    })
  }

  /** Starts a proxy to `target`; resolves with the port it listens on. */
  async start(name: string, target: { host: string; port: number }, listenPort?: number): Promise<number> {
    const a = await this.ask({ op: "start", name, target, ...(listenPort ? { listenPort } : {}) })
    return a.port!
  }

  mode(name: string, mode: Mode): Promise<unknown> {
    return this.ask({ op: "mode", name, ...mode })
  }

  async stats(name: string): Promise<ProxyStats> {
    const a = await this.ask({ op: "stats", name })
    return { accepted: a.accepted ?? 0, hung: a.hung ?? 0 }
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((r) => this.child.once("exit", r))
    this.child.kill("SIGTERM")
    await exited
  }
}

// The child's side.
if (process.argv.includes("--proxy-host") && process.send) {
  const proxies = new Map<string, TcpProxy>()
  const reply = (a: Answer) => process.send?.(a)
  process.on("message", async (m: Request & { id: number }) => {
    try {
      if (m.op === "start") {
        const p = await startProxy(m.target, m.listenPort ? { port: m.listenPort } : {})
        proxies.set(m.name, p)
        return reply({ id: m.id, ok: true, port: p.port })
      }
      const p = proxies.get(m.name)
      if (!p) return reply({ id: m.id, ok: false, error: `no proxy ${m.name}` })
      if (m.op === "mode") {
        if (m.mode === "forward") p.forward()
        else if (m.mode === "hang") p.hang()
        else p.delay(m.ms)
        return reply({ id: m.id, ok: true })
      }
      return reply({ id: m.id, ok: true, accepted: p.accepted(), hung: p.hung() })
    } catch (e) {
      reply({ id: m.id, ok: false, error: (e as Error).message })
    }
  })
  const stop = () => {
    void Promise.allSettled([...proxies.values()].map((p) => p.close())).finally(() => process.exit(0))
  }
  process.on("SIGTERM", stop)
  process.on("disconnect", stop)
}
