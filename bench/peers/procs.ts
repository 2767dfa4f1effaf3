/**
 * Child processes for the peers benchmark: started with their output in a log file, sampled from /proc
 * (resident memory and CPU time of each process and all its descendants), stopped by their own pid.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { openSync, readdirSync, readFileSync } from "node:fs"

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return undefined // the process has exited
  }
}

/** `pid` and every descendant still alive. */
export const tree = (pid: number): Array<number> => {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    let tasks: Array<string> = []
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`)
    } catch {
      continue
    }
    for (const task of tasks)
      for (const child of (read(`/proc/${out[i]}/task/${task}/children`) ?? "").split(" "))
        if (child.trim() !== "") out.push(Number(child))
  }
  return out
}

/** Resident bytes and CPU seconds (user + system) of the trees rooted at `pids`, now. */
export const usage = (pids: ReadonlyArray<number>) => {
  let rss = 0
  let cpu = 0
  for (const root of pids)
    for (const pid of tree(root)) {
      const status = read(`/proc/${pid}/status`)
      const m = status?.match(/^VmRSS:\s+(\d+) kB/m)
      if (m) rss += Number(m[1]) * 1024
      const stat = read(`/proc/${pid}/stat`)
      if (stat) {
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        cpu += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND // utime, stime
      }
    }
  return { rss, cpu }
}

/** Samples the trees every `intervalMs` and keeps the peak of their summed resident memory. */
export class Sampler {
  peakRss = 0
  private readonly timer: NodeJS.Timeout
  private readonly pids: ReadonlyArray<number>

  constructor(pids: ReadonlyArray<number>, intervalMs = 200) {
    this.pids = pids
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
  }

  sample() {
    const u = usage(this.pids)
    if (u.rss > this.peakRss) this.peakRss = u.rss
    return u
  }

  stop() {
    clearInterval(this.timer)
  }
}

/** Starts `command` with stdout and stderr appended to `logFile`. */
export const start = (
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
) => {
  const log = openSync(logFile, "a")
  const child = spawn(command, args, { env, stdio: ["ignore", log, log] })
  if (child.pid === undefined) throw new Error(`could not start ${command}`)
  return child
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code once the process is gone. */
export const stop = (child: ChildProcess, graceMs = 40_000): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs)
    child.once("exit", (code) => {
      clearTimeout(kill)
      resolve(code)
    })
    child.kill("SIGTERM")
  })
