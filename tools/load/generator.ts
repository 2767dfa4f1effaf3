/**
 * Drain bodies of the simulated fleet: a realistic mix of router lines (mostly at=info, some with H
 * codes), runtime-metric memory and load samples, dyno R1x errors, platform events, ordinary app output,
 * an occasional Logplex L10 frame, and (optionally) poison lines. Line event times lie in the `spreadMs`
 * before the body's end time, unordered, as Logplex batches are; optionally some lines are late (up to
 * `lateMaxMs` before it: they still count) or too late (router lines `tooLateMs` before it, far past
 * every window's lateness: counted as late by tally and never stored). Both are off by default (the
 * random draws, and so a seed's lines, are then the same as without these options).
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
  /** Chance that a line is late: its time drawn in [spreadMs, lateMaxMs] before the body's end (default 0). */
  readonly lateChance?: number
  /** How late a late line can be (default 4 minutes: within tally's 5 minutes of lateness, it counts). */
  readonly lateMaxMs?: number
  /** Chance that a line is a too-late router line (default 0). */
  readonly tooLateChance?: number
  /** How late a too-late line is, [min, max] ms before the body's end (default 25 to 40 minutes). */
  readonly tooLateMs?: readonly [number, number]
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
  private readonly lateChance: number
  private readonly lateMaxUs: number
  private readonly tooLateChance: number
  private readonly tooLateUs: readonly [number, number]
  private bodies = 0

  constructor(fleet: Fleet, options: GeneratorOptions = {}) {
    this.fleet = fleet
    this.rng = new Random(options.seed ?? fleet.seed)
    this.spreadUs = (options.spreadMs ?? 1000) * 1000
    this.poisonEvery = options.poisonEvery ?? 0
    this.l10Chance = options.l10Chance ?? 0.01
    this.lateChance = options.lateChance ?? 0
    this.lateMaxUs = (options.lateMaxMs ?? 240_000) * 1000
    this.tooLateChance = options.tooLateChance ?? 0
    const [lo, hi] = options.tooLateMs ?? [25 * 60_000, 40 * 60_000]
    this.tooLateUs = [lo * 1000, hi * 1000]
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
    if (this.lateChance === 0 && this.tooLateChance === 0)
      while (b.frames < lines) WRITERS[draw(MIX, rng.float())]!(b, a, rng, endUs - rng.int(0, this.spreadUs))
    else
      while (b.frames < lines) {
        const u = rng.float()
        if (u < this.tooLateChance) {
          routerInfo(b, a, rng, endUs - rng.int(this.tooLateUs[0], this.tooLateUs[1]))
          b.tooLate++
          continue
        }
        const late = u < this.tooLateChance + this.lateChance
        const at = late ? endUs - rng.int(this.spreadUs, this.lateMaxUs) : endUs - rng.int(0, this.spreadUs)
        WRITERS[draw(MIX, rng.float())]!(b, a, rng, at)
      }
    return b.finish(app, endMs)
  }
}
