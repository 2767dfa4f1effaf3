/** Store layers for tests: fresh migrated shard databases on the test server, or embedded PGlite. */
import { Effect, Layer } from "effect"
import { afterAll } from "vitest"
import { Shards, type ShardsOptions } from "../../src/store/Shards.ts"
import { createShards, dropShards } from "./shards.ts"

/** `count` fresh real shard databases named after `name` (Shards and CopyWriter), dropped after the file's tests. */
export const realShards = (name: string, count: number, options: ShardsOptions = {}) => {
  afterAll(() => dropShards(name, count))
  return Layer.unwrap(Effect.promise(async () => Shards.layerPg(await createShards(name, count), options)))
}

/** One embedded PGlite shard, in memory (Shards and CopyWriter). */
export const pgliteShards = Shards.layerPglite(undefined)
