/**
 * kafkajs 2.2.4 (its last release) groups a batch's messages per partition with
 * `[...current, message]` for every message: quadratic in the messages per partition, and tally's
 * batches put hundreds of messages on one partition (all of an app's process type). This installs a
 * linear grouping with the same result in the module cache before kafkajs loads it. Every module of
 * the kafkajs peer takes kafkajs from here, so the patch is in place before kafkajs is first required.
 */
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const path = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js")
const sendMessages = require.resolve("kafkajs/src/producer/sendMessages.js")

type Partitioner = (args: {
  topic: string
  partitionMetadata: ReadonlyArray<unknown>
  message: unknown
}) => number

const groupMessagesPerPartition = ({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string
  partitionMetadata: ReadonlyArray<unknown>
  messages: ReadonlyArray<unknown>
  partitioner: Partitioner
}): Record<number, Array<unknown>> => {
  const result: Record<number, Array<unknown>> = {}
  if (partitionMetadata.length === 0) return result
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const list = result[partition]
    if (list) list.push(message)
    else result[partition] = [message]
  }
  return result
}

if (require.cache[sendMessages] && require.cache[path]?.exports !== groupMessagesPerPartition)
  process.emitWarning(
    "kafkajs was loaded before src/bus/kafkajs.ts: its quadratic message grouping stays in place",
  )
else if (require.cache[path]?.exports !== groupMessagesPerPartition) {
  const Module = require("node:module") as { new (id: string): NodeJS.Module }
  const m = new Module(path)
  m.filename = path
  m.loaded = true
  m.exports = groupMessagesPerPartition
  require.cache[path] = m
}

const kafkajs = require("kafkajs") as typeof import("kafkajs")
export default kafkajs
