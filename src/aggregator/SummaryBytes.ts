/**
 * Summary snapshots (proto/tally/v1/summary.proto) written in one pass into a buffer of the right size:
 * byte for byte what `Wire.Summary.encode` writes for the same fields (proto3 defaults left out), which
 * test/aggregator/rollup.test.ts checks. The identity fields (owner, process type, metric, label) are
 * encoded once per series (`summaryHead`); each snapshot adds the window, the stats, the sketch and the
 * version.
 */
import protobuf from "protobufjs/minimal.js"
import "../proto/Wire.ts" // 64-bit fields as numbers
import { varintSize, writeDouble, writeVarint } from "../proto/ProtoBytes.ts"
import type { Accumulator } from "./Accumulators.ts"

/** Fields 1-4 of a Summary, as the generated encoder writes them. */
export const summaryHead = (
  owner: string,
  processType: string,
  metric: string,
  label: string,
): Uint8Array => {
  const w = protobuf.Writer.create()
  if (owner !== "") w.uint32(10).string(owner)
  if (processType !== "") w.uint32(18).string(processType)
  if (metric !== "") w.uint32(26).string(metric)
  if (label !== "") w.uint32(34).string(label)
  return w.finish()
}

const doubleSize = (x: number) => (Object.is(x, 0) ? 0 : 9)

/** One Summary: `head`, then period, window start, the accumulator's stats and sketch, version = count. */
export const encodeSummary = (
  head: Uint8Array,
  period: number,
  startMs: number,
  a: Accumulator,
): Uint8Array => {
  const sketchLength = a.sketched ? a.byteLength() : 0
  const count = a.count
  const size =
    head.length +
    (period !== 0 ? 1 + varintSize(period) : 0) +
    (startMs !== 0 ? 1 + varintSize(startMs) : 0) +
    (count !== 0 ? 2 * (1 + varintSize(count)) : 0) +
    doubleSize(a.sum) +
    doubleSize(a.sumsq) +
    doubleSize(a.min) +
    doubleSize(a.max) +
    (sketchLength > 0 ? 1 + varintSize(sketchLength) + sketchLength : 0)
  const buf = Buffer.allocUnsafe(size)
  buf.set(head, 0)
  let pos = head.length
  if (period !== 0) {
    buf[pos++] = 40
    pos = writeVarint(buf, pos, period)
  }
  if (startMs !== 0) {
    buf[pos++] = 48
    pos = writeVarint(buf, pos, startMs)
  }
  if (count !== 0) {
    buf[pos++] = 56
    pos = writeVarint(buf, pos, count)
  }
  pos = double(buf, pos, 65, a.sum)
  pos = double(buf, pos, 73, a.sumsq)
  pos = double(buf, pos, 81, a.min)
  pos = double(buf, pos, 89, a.max)
  if (sketchLength > 0) {
    buf[pos++] = 98
    pos = writeVarint(buf, pos, sketchLength)
    pos = a.write(buf, pos)
  }
  if (count !== 0) {
    buf[pos++] = 104
    pos = writeVarint(buf, pos, count)
  }
  if (pos !== size) throw new Error(`summary encoding wrote ${pos} of ${size} bytes`)
  return buf
}

const double = (buf: Uint8Array, pos: number, tag: number, x: number) => {
  if (Object.is(x, 0)) return pos
  buf[pos] = tag
  return writeDouble(buf, pos + 1, x)
}
