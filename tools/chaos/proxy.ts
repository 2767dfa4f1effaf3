/**
 * A TCP proxy in front of a shard or a broker that can play a slow or a hung network (the chaos harness
 * and test/store/hung.test.ts): in "delay" mode every chunk is forwarded `ms` later (both ways, in order);
 * in "hang" mode it keeps accepting connections and reading bytes but forwards nothing either way, on new
 * and existing connections alike (a server that accepts TCP and never answers: a black hole). Back in
 * "forward" mode new connections work; the ones that hung stay black holes, as after a real stall, until
 * their client gives up on them.
 */
import { connect, createServer, type Server, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  readonly hang: () => void
  readonly forward: () => void
  /** Every chunk from now on is forwarded `ms` later (0: at once, as `forward`). */
  readonly delay: (ms: number) => void
  /** Connections accepted so far, and how many of them hung (black holes). */
  readonly accepted: () => number
  readonly hung: () => number
  readonly close: () => Promise<void>
}

export const startProxy = async (
  target: { host: string; port: number },
  listen: { port?: number } = {},
): Promise<TcpProxy> => {
  let hanging = false
  let delayMs = 0
  let accepted = 0
  let holes = 0
  const sockets = new Set<Socket>()
  const blackHoles = new WeakSet<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
    s.on("error", () => undefined)
  }
  const hole = (s: Socket) => {
    if (blackHoles.has(s)) return
    blackHoles.add(s)
    holes++
  }
  const server: Server = createServer((client) => {
    accepted++
    track(client)
    const upstream = connect(target.port, target.host)
    track(upstream)
    const pass = (from: Socket, to: Socket) =>
      from.on("data", (chunk) => {
        if (hanging || blackHoles.has(from) || blackHoles.has(to)) {
          hole(from)
          hole(to)
          return
        }
        if (delayMs <= 0) to.write(chunk)
        // Timers of one delay fire in the order they were set: the stream keeps its order.
        else
          setTimeout(() => {
            if (!blackHoles.has(to) && !to.destroyed) to.write(chunk)
          }, delayMs)
      })
    pass(client, upstream)
    pass(upstream, client)
    client.on("close", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(listen.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject)
      resolve()
    })
  })
  const port = (server.address() as { port: number }).port
  return {
    port,
    hang: () => {
      hanging = true
      // Whatever is in flight now never arrives either.
      for (const s of sockets) hole(s)
    },
    forward: () => {
      hanging = false
      delayMs = 0
    },
    delay: (ms: number) => {
      hanging = false
      delayMs = ms
    },
    accepted: () => accepted,
    hung: () => Math.floor(holes / 2),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
