/**
 * Fixed partition sets through Kafka's group protocol. Each aggregator worker consumes in a consumer
 * group of its own; exactly one member of that group owns the worker's partitions, and any further
 * member gets nothing and waits as a hot standby. So a worker's partitions never move because another
 * worker starts, stops or crashes: there is nothing to rebalance between workers (DESIGN.md semantics 9).
 *
 * Who owns: every member says in its subscription's user data when it started and the generation in
 * which it was last given the partitions (if it still holds them). The member holding them with the
 * newest generation keeps them; when nobody holds them (first start, the owner left or was dropped),
 * the member that started first gets them. A standby that starts later never takes the partitions
 * away, however its member id sorts, and an owner that was dropped and comes back does not take them
 * back from the standby that replaced it.
 */

export interface Claim {
  /** When this member's consumer started (ms since the epoch). */
  readonly since: number
  /** The generation in which it was last given the partitions and still holds them; -1 when it holds none. */
  readonly owns: number
}

export interface Candidate extends Claim {
  readonly memberId: string
}

const VERSION = 1

/** The user data a member joins with: version, since, owns (big-endian). */
export const encodeClaim = (claim: Claim): Buffer => {
  const b = Buffer.alloc(2 + 8 + 4)
  b.writeInt16BE(VERSION, 0)
  b.writeDoubleBE(claim.since, 2)
  b.writeInt32BE(claim.owns, 10)
  return b
}

/** A member whose user data is missing or foreign counts as the youngest and holding nothing. */
export const decodeClaim = (data: Buffer | null | undefined): Claim => {
  if (!data || data.length < 14 || data.readInt16BE(0) !== VERSION)
    return { since: Number.MAX_SAFE_INTEGER, owns: -1 }
  return { since: data.readDoubleBE(2), owns: data.readInt32BE(10) }
}

/** The member that owns the partitions: the newest holder, else the first started (ties: member id). */
export const chooseOwner = (members: ReadonlyArray<Candidate>): string | undefined => {
  let best: Candidate | undefined
  for (const m of members)
    if (
      !best ||
      m.owns > best.owns ||
      (m.owns === best.owns &&
        (m.since < best.since || (m.since === best.since && m.memberId < best.memberId)))
    )
      best = m
  return best?.memberId
}

export const ASSIGNER_NAME = "TallyFixedPartitions"
