/**
 * A whole loadtest against a running tally: create the apps (admin token), run the load, verify every
 * rollup and event. Used by `npm run loadtest` and reusable by benchmarks and harnesses.
 */
import { createApp } from "./api.ts"
import { type DrainTarget, drainTarget } from "./client.ts"
import { type Fleet, makeFleet } from "./fleet.ts"
import { Generator } from "./generator.ts"
import { type LoadOptions, runLoad } from "./load.ts"
import { Oracle } from "./oracle.ts"
import type { RunSummary } from "./report.ts"
import { type VerifyApp, type VerifyOptions, verify } from "./verify.ts"

export interface LiveApp {
  readonly owner: string
  readonly readToken: string
  readonly target: DrainTarget
}

/** Creates every app of the fleet through POST /api/v1/apps; drains are posted to `base`. */
export const createFleetApps = (base: string, adminToken: string, fleet: Fleet): Promise<Array<LiveApp>> =>
  Promise.all(
    fleet.apps.map(async (sim) => {
      const created = await createApp(base, adminToken, sim.name)
      return {
        owner: created.owner,
        readToken: created.readToken,
        target: drainTarget(created.drainUrl, sim.drainToken, sim.shield, base),
      }
    }),
  )

export const verifyApps = (oracle: Oracle, apps: ReadonlyArray<LiveApp>): Array<VerifyApp> =>
  apps.map((a, i) => ({ owner: a.owner, readToken: a.readToken, expectation: oracle.expectation(i) }))

export interface LoadtestOptions extends LoadOptions, Omit<VerifyOptions, "sinceMs"> {
  readonly url: string
  readonly adminToken: string
  readonly apps: number
  readonly seed?: number
  readonly poisonEvery?: number
  readonly shieldApps?: number
  readonly onVerifyStart?: () => void
}

export const loadtest = async (o: LoadtestOptions): Promise<RunSummary> => {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31)
  // App names are unique per tally: a run's names carry its start time (the lines' values depend on the seed only).
  const fleet = makeFleet({
    apps: o.apps,
    seed,
    shieldApps: o.shieldApps ?? 0,
    namePrefix: `load-${Date.now().toString(36)}`,
  })
  const generator = new Generator(fleet, { poisonEvery: o.poisonEvery ?? 0 })
  const oracle = new Oracle(fleet)
  const apps = await createFleetApps(o.url, o.adminToken, fleet)
  const {
    url: _url,
    adminToken: _token,
    onSecond: _s,
    onPoll: _p,
    onVerifyStart: _v,
    onTry: _t,
    signal: _a,
    ...settings
  } = o
  const load = await runLoad(
    generator,
    oracle,
    apps.map((a) => a.target),
    o,
  )
  o.onVerifyStart?.()
  const verdict = await verify(o.url, verifyApps(oracle, apps), { ...o, sinceMs: load.endMs })
  return { settings: { ...settings, seed }, load, verdict }
}
