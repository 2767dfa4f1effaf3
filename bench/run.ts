/** `npm run bench [-- NAME...]`: runs the named benchmarks (all by default) and updates BENCHMARKS.md. */
const all: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  ingress: () => import("./ingress.ts"),
  kafka: () => import("./kafka.ts"),
  aggregator: () => import("./aggregator.ts"),
  sink: () => import("./sink.ts"),
  api: () => import("./api.ts"),
  "embedded-log": () => import("./embeddedLog.ts"),
  peers: () => import("./peers.ts"),
}

const names = process.argv.slice(2).filter((a) => !a.startsWith("-"))
for (const name of names.length > 0 ? names : Object.keys(all)) {
  const load = all[name]
  if (!load) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(all).join(", ")}`)
    process.exit(2)
  }
  console.log(`\n== ${name}`)
  await (await load()).run()
}
process.exit(0)
