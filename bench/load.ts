/**
 * A drain load generator, run as its own process so it does not share the server's event loop:
 *   node bench/load.ts URL AUTHORIZATION SECONDS CONCURRENCY LINES_PER_BODY
 * Posts pre-built Logplex bodies as fast as the server answers; prints one JSON line of totals.
 */
import { body } from "./drainBodies.ts"

const [url, authorization, seconds, concurrency, linesPerBody] = process.argv.slice(2)
const n = Number(linesPerBody ?? 400)
const t0 = Date.now() - 60_000
const bodies = Array.from({ length: 32 }, (_, k) => body(n, t0, k * n))
const until = Date.now() + Number(seconds ?? 10) * 1000
const statuses: Record<number, number> = {}
let requests = 0
let lines = 0
let next = 0

const worker = async () => {
  while (Date.now() < until) {
    const i = next++
    const response = await fetch(url!, {
      method: "POST",
      headers: {
        authorization: authorization!,
        "content-type": "application/logplex-1",
        "logplex-msg-count": String(n),
        "logplex-frame-id": `${process.pid.toString(16)}${i.toString(16).padStart(24, "0")}`.slice(0, 32),
      },
      body: new Uint8Array(bodies[i % bodies.length]!),
    })
    await response.arrayBuffer()
    statuses[response.status] = (statuses[response.status] ?? 0) + 1
    requests++
    if (response.status === 204) lines += n
  }
}

const started = Date.now()
await Promise.all(Array.from({ length: Number(concurrency ?? 8) }, worker))
const elapsed = (Date.now() - started) / 1000
console.log(JSON.stringify({ requests, lines, elapsed, linesPerSecond: lines / elapsed, statuses }))
