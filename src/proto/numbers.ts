/**
 * 64-bit fields as plain numbers: tally's int64 values (microsecond times, counts, versions) stay below
 * 2^53. protobufjs returns Long objects whenever the `long` package is loadable, whatever pbjs was told,
 * so Long support is switched off here, before the generated code is evaluated (Wire.ts imports this first).
 */
import protobuf from "protobufjs/minimal.js"

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long
protobuf.configure()
