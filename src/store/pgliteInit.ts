/**
 * Creates an embedded database directory (PGlite's initdb) and exits: run as a child process by
 * `Embedded.layer` on the first start, so the server never holds initdb's memory. Initialising runs a
 * second WebAssembly instance and leaves some 300 MB behind that the server would keep until a full
 * garbage collection it may never need; a fresh process opening an existing directory starts at
 * about a third of that.
 *
 *   node src/store/pgliteInit.ts DIR
 */
import { PGlite } from "@electric-sql/pglite"

const dir = process.argv[2]
if (dir === undefined) {
  console.error("usage: pgliteInit.ts DIR")
  process.exit(2)
}
const db = await PGlite.create(dir)
await db.close()
