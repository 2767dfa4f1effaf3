// Generates static protobuf code (JavaScript + types) from proto/ into src/proto/generated/.
//   node scripts/proto.ts            write the generated files
//   node scripts/proto.ts --out DIR  write them into DIR instead (the drift test compares the two)
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const outFlag = process.argv.indexOf("--out")
const outDir = outFlag >= 0 ? resolve(process.argv[outFlag + 1] ?? "") : join(root, "src/proto/generated")
const protoDir = join(root, "proto")
const files = readdirSync(join(protoDir, "tally/v1"))
  .filter((f) => f.endsWith(".proto"))
  .sort()
  .map((f) => join(protoDir, "tally/v1", f))
const bin = (name: string) => join(root, "node_modules/.bin", name)

mkdirSync(outDir, { recursive: true })
/** One static module (and its types) per package: tally's wire format, and Prometheus' remote read. */
const generate = (name: string, protoFiles: ReadonlyArray<string>) => {
  const js = join(outDir, `${name}.js`)
  execFileSync(
    bin("pbjs"),
    [
      "-t",
      "static-module",
      "-w",
      "esm",
      // tally's module keeps protobufjs' default root (its generated code predates this option).
      ...(name === "tally" ? [] : ["-r", name]),
      "--dependency",
      "protobufjs/minimal.js",
      "--force-number",
      "--null-semantics",
      "--no-delimited",
      "--no-service",
      "--no-typeurl",
      "-p",
      protoDir,
      "-o",
      js,
      ...protoFiles,
    ],
    { cwd: protoDir, stdio: "inherit" },
  )
  execFileSync(bin("pbts"), ["--no-comments", "-o", join(outDir, `${name}.d.ts`), js], { stdio: "inherit" })
}
generate("tally", files)
const prometheus = ["remote.proto", "types.proto"].map((f) => join(protoDir, "prometheus", f))
generate("prometheus", prometheus)
console.log(`proto: ${files.length + prometheus.length} files -> ${outDir}`)
