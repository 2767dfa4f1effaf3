/**
 * tally's load library: a Logplex-like drain load generator with an oracle of its own.
 *   makeFleet -> Generator -> bodies (Body: frames + what they must contribute)
 *   Oracle.accept / markUncertain -> expectation(app)
 *   runLoad (fixed rate, Logplex retries) -> verify (every 1-minute rollup and event via the API)
 */
export * from "./api.ts"
export * from "./body.ts"
export * from "./client.ts"
export * from "./fleet.ts"
export * from "./generator.ts"
export * from "./histogram.ts"
export * from "./lateness.ts"
export * from "./lines.ts"
export * from "./load.ts"
export * from "./metrics.ts"
export * from "./oracle.ts"
export * from "./quantile.ts"
export * from "./random.ts"
export * from "./report.ts"
export * from "./run.ts"
export * from "./verify.ts"
