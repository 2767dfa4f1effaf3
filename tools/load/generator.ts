/**
 * Drain bodies of the simulated fleet: a realistic mix of router lines (mostly at=info, some with H
 * codes), runtime-metric memory and load samples, dyno R1x errors, platform events, ordinary app output,
 * an occasional Logplex L10 frame, and (optionally) poison lines. Line event times lie in the `spreadMs`
 * before the body's end time, unordered, as Logplex batches are.
 */
import { type Body, BodyBuilder, type PoisonReason } from "./body.ts"
import type { Fleet } from "./fleet.ts"
import {
  dynoError,
  ignoredLine,
  l10,
  loadSample,
  memorySample,
  platformEvent,
  poisonLine,
  routerError,
  routerInfo,
} from "./lines.ts"
import { cumulative, draw, Random } from "./random.ts"

export interface GeneratorOptions {
  /** Seed of the line values (default: the fleet's seed). */
  readonly seed?: number
  /** Event times of a body's lines spread over this many ms before its end time (default 1000). */
  readonly spreadMs?: number
  /** Every Mth body carries one poison line of each kind (default 0: none). */
  readonly poisonEvery?: number
  /** Chance that a body starts with an L10 frame of Logplex's own (default 0.01). */
  readonly l10Chance?: number
}

const WRITERS = [routerInfo, routerError, memorySample, loadSample, dynoError, platformEvent, ignoredLine]
const MIX = cumulative([78, 2.5, 4, 4, 0.4, 0.1, 11])
const POISON: ReadonlyArray<PoisonReason> = ["nul-dyno", "long-process-type", "bad-label"]

export class Generator {
  readonly fleet: Fleet
  private readonly rng: Random
  private readonly spreadUs: number
  private readonly poisonEvery: number
  private readonly l10Chance: number
  private bodies = 0

  constructor(fleet: Fleet, options: GeneratorOptions = {}) {
    this.fleet = fleet
    this.rng = new Random(options.seed ?? fleet.seed)
    this.spreadUs = (options.spreadMs ?? 1000) * 1000
    this.poisonEvery = options.poisonEvery ?? 0
    this.l10Chance = options.l10Chance ?? 0.01
  }

  /**
   * A body of `lines` frames (one more when a line takes two frames) for `app`, its lines' times in the
   * spread before `endMs`. `overflow` reports messages this drain dropped before (an L10 first frame).
   */
  body(app: number, endMs: number, lines: number, overflow?: { dropped: number; sinceMs: number }): Body {
    const a = this.fleet.apps[app]!
    const rng = this.rng
    const b = new BodyBuilder()
    const endUs = Math.floor(endMs) * 1000 + rng.int(0, 999)
    if (overflow && overflow.dropped > 0) l10(b, a, rng, endUs, overflow.dropped, overflow.sinceMs * 1000)
    else if (rng.float() < this.l10Chance)
      l10(b, a, rng, endUs, rng.int(1, 900), endUs - rng.int(1, 180) * 1_000_000)
    if (this.poisonEvery > 0 && ++this.bodies % this.poisonEvery === 0)
      for (const reason of POISON) poisonLine(b, a, rng, endUs - rng.int(0, this.spreadUs), reason)
    while (b.frames < lines) WRITERS[draw(MIX, rng.float())]!(b, a, rng, endUs - rng.int(0, this.spreadUs))
    return b.finish(app)
  }
}
