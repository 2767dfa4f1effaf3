/**
 * The hook through which another part of tally puts its stage and its fault into the chaos run without
 * editing the harness: a module `tools/chaos/alerter.ts` (issue 20: the alerter killed between an alert's
 * firing and its delivery) exporting `extension: ChaosExtension`. When the module is there, the run adds
 * its stages to the supervisor, calls `setup` once the apps exist, plays its fault kind (`kill-alerter`)
 * where the schedule puts it, and adds what `verify` says to the verdict. When it is not there, the kind
 * is left out of every schedule (and the report says so).
 */
import type { LiveApp } from "../load/index.ts"
import type { Injected } from "./faults.ts"
import type { Fault, FaultKind } from "./schedule.ts"
import type { Supervisor } from "./supervisor.ts"

export interface ExtensionStage {
  /** Supervisor name (its log file: test-output/chaos/<seed>/<name>.log). */
  readonly name: string
  /** Arguments of `node src/main.ts`, e.g. ["alerter"]. */
  readonly args: ReadonlyArray<string>
  /** Added to the run's environment (Kafka, shards, topic prefix, workers are already there). */
  readonly env?: Readonly<Record<string, string>>
}

export interface ExtensionContext {
  /** The ingress/API of the run, e.g. http://127.0.0.1:PORT. */
  readonly base: string
  readonly adminToken: string
  /** The run's apps (owner, read token, drain target). */
  readonly apps: ReadonlyArray<LiveApp>
  readonly supervisor: Supervisor
  /** The run's directory (test-output/chaos/<seed>). */
  readonly runDir: string
  readonly say: (line: string) => void
}

export interface ChaosExtension {
  readonly kind: FaultKind
  readonly stages: ReadonlyArray<ExtensionStage>
  /** After the apps are created, before the load: e.g. an alert rule and a webhook receiver. */
  readonly setup?: (c: ExtensionContext) => Promise<void>
  /** Plays the fault (e.g. waits for a firing, SIGKILLs the alerter before delivery) and says what it did. */
  readonly inject: (c: ExtensionContext, fault: Fault) => Promise<Injected>
  /** After the load: failures (empty when all is well) and lines for the report. */
  readonly verify?: (c: ExtensionContext) => Promise<{ failures: Array<string>; lines: Array<string> }>
}

/** The extensions present in this checkout (the alerter's, when its module exists). */
export const loadExtensions = async (): Promise<Array<ChaosExtension>> => {
  const out: Array<ChaosExtension> = []
  try {
    // A variable specifier: the module is optional, and type-checking must not require it.
    const path = "./alerter.ts"
    const m = (await import(path)) as { extension?: ChaosExtension }
    if (m.extension) out.push(m.extension)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw e
  }
  return out
}
