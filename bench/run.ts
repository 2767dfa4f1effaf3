/**
 * `npm run bench [-- NAME... [--option value]]`: runs the named benchmarks and updates BENCHMARKS.md.
 * Without a name, the quick ones; `peers`, `cluster`, `embedded`, `tenants`, `cpu`, `remote-read` and `alerts` run only when named (minutes each).
 * Options are the benchmark's own (e.g. `npm run bench -- cluster --rates 20000,40000 --seconds 60`).
 */
const all: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  ingress: () => import("./ingress.ts"),
  kafka: () => import("./kafka.ts"),
  aggregator: () => import("./aggregator.ts"),
  sink: () => import("./sink.ts"),
  api: () => import("./api.ts"),
  "embedded-log": () => import("./embeddedLog.ts"),
  peers: () => import("./peers.ts"),
  cluster: () => import("./cluster.ts"),
  embedded: () => import("./embedded.ts"),
  tenants: () => import("./tenants.ts"),
  "remote-read": () => import("./remoteRead.ts"),
  cpu: () => import("./cpu.ts"),
  alerts: () => import("./alerts.ts"),
}
const slow = new Set(["peers", "cluster", "embedded", "tenants", "cpu", "remote-read", "alerts"])

/** Names are the arguments that are not options nor an option's value (`--rates 1,2` or `--rates=1,2`). */
const names: Array<string> = []
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  const a = args[i]!
  if (a.startsWith("-")) {
    const next = args[i + 1]
    if (!a.includes("=") && next !== undefined && !next.startsWith("-") && !(next in all)) i++
  } else names.push(a)
}
for (const name of names.length > 0 ? names : Object.keys(all).filter((n) => !slow.has(n))) {
  const load = all[name]
  if (!load) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(all).join(", ")}`)
    process.exit(2)
  }
  console.log(`\n== ${name}`)
  await (await load()).run()
}
process.exit(0)
