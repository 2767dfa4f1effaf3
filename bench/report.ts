/** Writes a benchmark's section into BENCHMARKS.md (between its markers), with the date and machine. */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg, totalmem } from "node:os"
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

/**
 * How busy the machine was while a benchmark ran (1-minute load averages at its start and end), said
 * plainly: above one runnable task per core, other work shared the cores and the figures are preliminary.
 */
export const loadNote = (start: number, end: number = loadavg()[0]!) => {
  const range = `${start.toFixed(1)} at start, ${end.toFixed(1)} at end`
  return Math.max(start, end) > cpus().length
    ? `**More runnable work than the machine's ${cpus().length} cores while this ran (load average ${range}): other work, or this benchmark's own broker and helper processes, competed for them; read the figures as lower bounds.**`
    : `Machine otherwise idle (load average ${range}).`
}
