/**
 * How fast the generator itself can offer: the load (20 apps, 200-line bodies, 64 connections, Frame-Ids,
 * the oracle kept) against a null drain in another process, at increasing rates. Prints, per rate, the
 * lines offered and accepted per second and the generator process's CPU (cores).
 *   node tools/load/selfbench.ts [--rates 50000,100000,200000,400000] [--seconds 10]
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { drainTarget } from "./client.ts"
import { makeFleet } from "./fleet.ts"
import { Generator } from "./generator.ts"
import { runLoad } from "./load.ts"
import { Oracle } from "./oracle.ts"

const { values } = parseArgs({
  options: {
    rates: { type: "string", default: "50000,100000,200000,400000" },
    seconds: { type: "string", default: "10" },
    apps: { type: "string", default: "20" },
  },
})
const child = spawn(process.execPath, [join(import.meta.dirname, "nullDrain.ts")], {
  stdio: ["ignore", "pipe", "inherit"],
})
const port = await new Promise<number>((resolve) => {
  child.stdout!.on("data", (d: Buffer) => {
    const m = /listening (\d+)/.exec(String(d))
    if (m) resolve(Number(m[1]))
  })
})
try {
  console.log(
    "rate offered/s   accepted/s  CPU cores (user+sys)  CPU µs/line  POST p50/p99 ms  event-loop p99 ms",
  )
  for (const rate of values.rates.split(",").map(Number)) {
    const fleet = makeFleet({ apps: Number(values.apps), seed: rate })
    const targets = fleet.apps.map((a) =>
      drainTarget(`http://tally:secret${a.index}@127.0.0.1:${port}/logs`, a.drainToken, false),
    )
    const seconds = Number(values.seconds)
    const r = await runLoad(new Generator(fleet), new Oracle(fleet), targets, { rate, seconds })
    const wall = (r.endMs - r.startMs) / 1000
    console.log(
      `${String(rate).padStart(9)} ${String(Math.round(r.offeredLines / seconds)).padStart(11)} ${String(Math.round(r.acceptedLines / wall)).padStart(12)} ${`${r.cpu.cores.toFixed(2)} (${(r.cpu.userSeconds / wall).toFixed(2)}+${(r.cpu.systemSeconds / wall).toFixed(2)})`.padStart(21)} ${((1e6 * (r.cpu.userSeconds + r.cpu.systemSeconds)) / r.sentLines).toFixed(2).padStart(12)} ${`${r.latencyMs.p50.toFixed(1)}/${r.latencyMs.p99.toFixed(1)}`.padStart(16)} ${r.eventLoopDelayP99Ms.toFixed(1).padStart(18)}`,
    )
  }
} finally {
  child.kill("SIGTERM")
}
