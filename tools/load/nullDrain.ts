/**
 * A drain that answers 204 to every body and does nothing else: what the generator can offer when the
 * receiver costs nothing. Run as its own process (`node tools/load/nullDrain.ts PORT`) so that its CPU is
 * not counted as the generator's; it prints `listening PORT` and, on SIGTERM, the bodies it took.
 */
import http from "node:http"
import { fileURLToPath } from "node:url"

export const startNullDrain = (
  port = 0,
): Promise<{ server: http.Server; port: number; bodies: () => number }> =>
  new Promise((resolve) => {
    let bodies = 0
    const server = http.createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        bodies++
        res.writeHead(204).end()
      })
    })
    server.keepAliveTimeout = 60_000
    server.listen(port, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port, bodies: () => bodies }),
    )
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const drain = await startNullDrain(Number(process.argv[2] ?? 0))
  console.log(`listening ${drain.port}`)
  process.on("SIGTERM", () => {
    console.log(`bodies ${drain.bodies()}`)
    process.exit(0)
  })
}
