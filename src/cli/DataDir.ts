/**
 * One process owns a data dir (DESIGN.md, "Tenants"). A process that opens embedded parts in
 * TALLY_DATA_DIR (the durable log when TALLY_KAFKA_BROKERS is unset, PGlite when TALLY_PG_SHARDS is
 * unset) first takes the dir's lock; a second one exits at once (code 2) with one line naming the dir
 * and the pid that holds it:
 *
 *   tally: the data dir ./.tally is in use by pid 1234 (another tally all); stop it or set TALLY_DATA_DIR
 *
 * The lock is SQLite's exclusive lock on `<dir>/lock` (node:sqlite, a POSIX advisory lock the kernel
 * drops when the process ends however it ends: a SIGKILLed owner leaves no stale lock to clean up, and a
 * reused pid cannot hold it). Beside it `<dir>/owner.json` names the owner — pid, command and, once its
 * HTTP server listens, the URL shell commands reach it at (`tally apps create`, `tally retention run`
 * go through the running server's API when one holds the dir, and open the dir themselves, under the
 * lock, when none does). The owner removes owner.json before it lets the lock go. Nothing in the owning
 * process may open the lock file otherwise: closing any descriptor of it would drop a POSIX lock.
 *
 * Files: the process's umask is 0o077 (main.ts) and the dir is made and kept 0700; a dir an older
 * version left readable by others, or files PGlite made 0666, are tightened at start (dirs 0700, files
 * 0600, symlinks left alone).
 */
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { dirname, join, resolve } from "node:path"
import { Context, Effect, Layer, Option, Schema, type Scope } from "effect"
import { HttpServer } from "effect/http"
import { specificHost } from "../apps/http.ts"
import { loadSqlite } from "../bus/embedded/DurableLogReader.ts"
import { type Settings, TallyConfig } from "../config/TallyConfig.ts"
import { ownerOnly } from "../store/PgliteClient.ts"

export class DataDirError extends Schema.TaggedError<DataDirError>()("DataDirError", {
  /**
   * InUse: another process holds the dir (exit 2); Invalid: TALLY_DATA_DIR cannot be made, is not a
   * directory or not writable (exit 2); Unusable: it cannot be tightened or locked, or the server that
   * holds it cannot be used (exit 1).
   */
  reason: Schema.Literals(["InUse", "Invalid", "Unusable"]),
  message: Schema.String,
}) {}

export const LOCK_FILE = "lock"
export const OWNER_FILE = "owner.json"

/** Who holds a data dir, as its owner.json says. */
export interface Owner {
  readonly pid: number
  /** The tally command it runs: all, ingress, sink, apps create… */
  readonly command: string
  /** Where its HTTP API answers (set once it listens; absent for a process that serves none). */
  readonly url?: string | undefined
}

/** Which embedded parts a command opens, given the settings: only they use (and lock) the data dir. */
export interface Parts {
  readonly bus: boolean
  readonly store: boolean
}

/** Whether a command that would use `parts` opens anything in the data dir under these settings. */
export const opensDataDir = (settings: Settings, parts: Parts) =>
  (parts.bus && Option.isNone(settings.kafkaBrokers)) || (parts.store && Option.isNone(settings.pgShards))

export const inUseMessage = (dir: string, owner: Owner | undefined) =>
  owner
    ? `the data dir ${dir} is in use by pid ${owner.pid} (another tally ${owner.command}); stop it or set TALLY_DATA_DIR`
    : `the data dir ${dir} is in use by another process; stop it or set TALLY_DATA_DIR`

const unusable = (dir: string, cause: unknown) =>
  new DataDirError({
    reason: "Unusable",
    message: `the data dir ${dir} cannot be used: ${(cause as { message?: string })?.message ?? String(cause)}`,
  })

const reasonOf = (e: unknown) => {
  const err = e as NodeJS.ErrnoException
  return err?.code
    ? `${err.code}: ${(err.message ?? "").replace(/^\w+: /, "").replace(/, \w+ '.*'$/, "")}`
    : String(e)
}

const invalidDir = (dir: string, what: string, e?: unknown) =>
  new DataDirError({
    reason: "Invalid",
    message: `TALLY_DATA_DIR ${dir} ${what}${e === undefined ? "" : ` (${reasonOf(e)})`}; set TALLY_DATA_DIR to a directory this user can create or write`,
  })

/** The kind of what is at `path`: a directory, something else, or nothing. */
const kindOf = (path: string): "dir" | "other" | "none" => {
  try {
    return statSync(path).isDirectory() ? "dir" : "other"
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "none"
    throw e
  }
}

/**
 * Makes `dir` (mode 0700) and each missing parent, one level at a time, at most one mkdir a level:
 * `mkdirSync(dir, { recursive: true })` loops for ever on some paths (e.g. /proc/x) in one synchronous
 * call that no signal interrupts.
 */
export const makeDir = (dir: string): void => {
  const missing: Array<string> = []
  let at = resolve(dir)
  for (;;) {
    const kind = kindOf(at)
    if (kind === "dir") break
    if (kind === "other") throw Object.assign(new Error(`${at} is not a directory`), { code: "ENOTDIR" })
    missing.push(at)
    const parent = dirname(at)
    if (parent === at) break
    at = parent
  }
  for (const level of missing.reverse()) mkdirSync(level, { mode: 0o700 })
}

/**
 * The data dir exists (or is made), is a directory, and this user can create files in it; else one line
 * naming TALLY_DATA_DIR and why (exit 2). Checked before anything opens it.
 */
export const checkDataDir = (dir: string): Effect.Effect<void, DataDirError> =>
  Effect.gen(function* () {
    const kind = yield* Effect.try({
      try: () => kindOf(dir),
      catch: (e) => invalidDir(dir, "cannot be read", e),
    })
    if (kind === "other") return yield* invalidDir(dir, "is not a directory (a file is there)")
    if (kind === "none")
      yield* Effect.try({ try: () => makeDir(dir), catch: (e) => invalidDir(dir, "cannot be created", e) })
    const probe = join(dir, `.write-test-${process.pid}`)
    yield* Effect.try({
      try: () => {
        closeSync(openSync(probe, "w", 0o600))
        rmSync(probe, { force: true })
      },
      catch: (e) => invalidDir(dir, "is not writable", e),
    })
  })

/**
 * Makes the data dir (0700), or tightens the one there: a dir made by an older version, which created
 * its files with the umask, or a PGlite directory initialised before its files were tightened.
 */
export const prepareDir = (dir: string): void => {
  makeDir(dir)
  chmodSync(dir, 0o700)
  ownerOnly(dir)
}

const alive = (pid: number) => {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** owner.json of `dir` when it names a live process other than this one. */
export const readOwner = (dir: string): Owner | undefined => {
  try {
    const o = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as Partial<Owner>
    if (typeof o.pid !== "number" || !alive(o.pid)) return undefined
    return {
      pid: o.pid,
      command: typeof o.command === "string" ? o.command : "?",
      url: typeof o.url === "string" ? o.url : undefined,
    }
  } catch {
    return undefined
  }
}

/** Written beside and renamed into place: a reader never sees half a file. */
const writeOwner = (dir: string, owner: Owner) => {
  const file = join(dir, OWNER_FILE)
  const partial = `${file}.${process.pid}`
  writeFileSync(partial, `${JSON.stringify(owner)}\n`, { mode: 0o600 })
  renameSync(partial, file)
}

/** The owner of a held dir: it writes owner.json just after it takes the lock, so wait for that a little. */
const ownerOfHeld = (dir: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 20; i++) {
      const owner = readOwner(dir)
      if (owner) return owner
      yield* Effect.sleep("100 millis")
    }
    return undefined
  })

/** The long-running commands (a hold by any other is a shell command's, over in seconds). */
const SERVICES = new Set(["all", "ingress", "aggregator", "sink", "retrier", "api"])

/** How long a command waits for a shell command's hold of the dir to end. */
const SHORT_HOLD_WAIT_MS = 60_000

/** SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock. */
const isBusy = (e: unknown) => {
  const code = (e as { errcode?: number }).errcode
  return code === 5 || code === 6 || /database is locked/.test(String((e as Error)?.message))
}

export interface Lock {
  readonly dir: string
  /** Records where this process's HTTP API answers (shell commands find it in owner.json). */
  readonly announce: (url: string) => Effect.Effect<void>
}

/**
 * Takes the lock of `dir` for `command` (released when the scope closes), or names who holds it. The dir
 * is made or tightened first, before anything in it is opened. A hold by a shell command (`tally apps
 * create` opening the dir itself) is waited for, up to a minute; a service's is not.
 */
export const claim = (
  dir: string,
  command: string,
): Effect.Effect<
  | { readonly _tag: "Owned"; readonly lock: Lock }
  | { readonly _tag: "Held"; readonly owner: Owner | undefined },
  DataDirError,
  Scope.Scope
> =>
  Effect.gen(function* () {
    yield* checkDataDir(dir)
    const { DatabaseSync } = yield* Effect.tryPromise({ try: loadSqlite, catch: (e) => unusable(dir, e) })
    const tryLock = Effect.try({
      try: () => {
        prepareDir(dir)
        const db = new DatabaseSync(join(dir, LOCK_FILE))
        try {
          db.exec("PRAGMA busy_timeout = 0")
          db.exec("PRAGMA locking_mode = EXCLUSIVE")
          // In exclusive locking mode the lock a write takes is kept until the connection closes.
          db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (pid INTEGER); COMMIT")
          return db
        } catch (e) {
          db.close()
          if (isBusy(e)) return undefined
          throw e
        }
      },
      catch: (e) => unusable(dir, e),
    })
    // A shell command's hold (apps create, retention run) is short: it is waited for, a server's is not.
    const deadline = Date.now() + SHORT_HOLD_WAIT_MS
    let taken = yield* tryLock
    while (taken === undefined) {
      const owner = yield* ownerOfHeld(dir)
      if (owner === undefined || SERVICES.has(owner.command) || Date.now() > deadline)
        return { _tag: "Held" as const, owner }
      yield* Effect.sleep("250 millis")
      taken = yield* tryLock
    }
    const db = taken
    let owner: Owner = { pid: process.pid, command }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        // owner.json goes first: once the lock is let go, the next owner's file must not be removed.
        rmSync(join(dir, OWNER_FILE), { force: true })
        db.close()
      }),
    )
    yield* Effect.try({ try: () => writeOwner(dir, owner), catch: (e) => unusable(dir, e) })
    const lock: Lock = {
      dir,
      announce: (url) =>
        Effect.sync(() => {
          owner = { ...owner, url }
          writeOwner(dir, owner)
        }).pipe(Effect.catchDefect((e) => Effect.logWarning(`cannot write ${join(dir, OWNER_FILE)}: ${e}`))),
    }
    return { _tag: "Owned" as const, lock }
  })

/**
 * The data dir of a long-running command: locked for the process's life when the command opens embedded
 * parts in it (else nothing is locked and `lock` is None).
 */
export class DataDir extends Context.Service<DataDir, { readonly lock: Option.Option<Lock> }>()(
  "tally/cli/DataDir",
) {
  static readonly layer = (command: string, parts: Parts): Layer.Layer<DataDir, DataDirError, TallyConfig> =>
    Layer.effect(
      DataDir,
      Effect.gen(function* () {
        const settings = yield* TallyConfig
        if (!opensDataDir(settings, parts)) return { lock: Option.none() }
        const claimed = yield* claim(settings.dataDir, command)
        if (claimed._tag === "Held")
          return yield* new DataDirError({
            reason: "InUse",
            message: inUseMessage(settings.dataDir, claimed.owner),
          })
        return { lock: Option.some(claimed.lock) }
      }),
    )

  /** Records where this process's API answers, when it holds a data dir (the banner's URL, for shell commands). */
  static readonly announce = (url: string) =>
    Effect.flatMap(Effect.serviceOption(DataDir), (d) =>
      Option.isSome(d) && Option.isSome(d.value.lock) ? d.value.lock.value.announce(url) : Effect.void,
    )
}

/** Where a process on this host reaches a server listening on TALLY_HOST and `port`. */
export const localUrl = (host: Option.Option<string>, port: number) =>
  `http://${specificHost(host) ?? "127.0.0.1"}:${port}`

/** Announces where this process's HTTP server answers (see DataDir.announce) once it listens. */
export const AnnounceServer = Layer.effectDiscard(
  Effect.gen(function* () {
    const address = (yield* HttpServer.HttpServer).address
    const settings = yield* TallyConfig
    if (address._tag !== "UnixPathAddress") yield* DataDir.announce(localUrl(settings.host, address.port))
  }),
)
