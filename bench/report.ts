/** Writes a benchmark's section into BENCHMARKS.md (between its markers), with the date and machine. */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join } from "node:path"

const file = join(import.meta.dirname, "../BENCHMARKS.md")

export const machine = () =>
  `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`

export const writeSection = (name: string, markdown: string) => {
  const start = `<!-- bench:${name} -->`
  const end = `<!-- /bench:${name} -->`
  const header =
    "# Benchmarks\n\nRun with `npm run bench` (all) or `npm run bench -- NAME` (one section). Each section says when and on what it ran.\n"
  const current = existsSync(file) ? readFileSync(file, "utf8") : header
  const section = `${start}\n${markdown.trim()}\n\n_Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine()}._\n${end}`
  const i = current.indexOf(start)
  const j = current.indexOf(end)
  const next =
    i >= 0 && j > i
      ? current.slice(0, i) + section + current.slice(j + end.length)
      : `${current.trimEnd()}\n\n${section}\n`
  writeFileSync(file, next)
}

export const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
