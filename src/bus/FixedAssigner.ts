/**
 * kafkajs has no `assign()` (tulios/kafkajs#373), so fixed partition sets come from a partition assigner.
 * Each aggregator worker consumes in a consumer group of its own, and this assigner hands the group's
 * first member (by member id) exactly the partitions the worker owns; any further member of the same
 * group gets nothing and waits as a hot standby. So a worker's partitions never move because another
 * worker starts, stops or crashes: there is nothing to rebalance between workers (DESIGN.md semantics 9).
 */
import type { PartitionAssigner as KafkajsPartitionAssigner } from "kafkajs"
import kafkajs from "./kafkajs.ts"

const { AssignerProtocol } = kafkajs
const NAME = "TallyFixedPartitions"
const VERSION = 1

export const fixedAssigner =
  (partitions: ReadonlyArray<number>): KafkajsPartitionAssigner =>
  ({ cluster }) => ({
    name: NAME,
    version: VERSION,
    async assign({ members, topics }) {
      const assignment: Record<string, Array<number>> = {}
      for (const topic of topics) {
        const existing = new Set(cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId))
        assignment[topic] = partitions.filter((p) => existing.has(p))
      }
      const [active, ...standby] = members.map((m) => m.memberId).sort()
      const encode = (a: Record<string, Array<number>>) =>
        AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: a,
          userData: Buffer.alloc(0),
        })
      return active === undefined
        ? []
        : [
            { memberId: active, memberAssignment: encode(assignment) },
            ...standby.map((memberId) => ({ memberId, memberAssignment: encode({}) })),
          ]
    },
    protocol({ topics }) {
      return {
        name: NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: VERSION,
          topics,
          userData: Buffer.alloc(0),
        }),
      }
    },
  })
