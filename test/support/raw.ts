/**
 * Raw records read back with the generated decoder, one message per measurement: a record holds one
 * delivery's measurements of its key (measurement.proto: the message, then `next`, whose origins carry
 * only dyno and time); each comes out with the whole origin, as a record of one measurement would be.
 */
import * as Wire from "../../src/proto/Wire.ts"

const decoders = {
  DYNO_MEMORY: Wire.DynoMemory,
  DYNO_LOAD: Wire.DynoLoad,
  ROUTER_REQUESTS: Wire.RouterRequest,
  ERRORS: Wire.ErrorCode,
  PLATFORM_EVENTS: Wire.PlatformEvent,
} as const

export type RawType = keyof typeof decoders

/** The type of a raw topic (`<prefix>ROUTER_REQUESTS.1` -> ROUTER_REQUESTS). */
export const typeOfTopic = (topic: string): RawType => /([A-Z_]+)\.1$/.exec(topic)![1]! as RawType

type Decoded<T extends RawType> = ReturnType<(typeof decoders)[T]["decode"]>

/** The measurements of one raw record, in order, each with its whole origin. */
export const expand = <T extends RawType>(type: T, value: Uint8Array): Array<Decoded<T>> => {
  const first = decoders[type].decode(value) as Decoded<T> & { next: Array<Decoded<T>> }
  const origin = first.origin as Wire.Origin
  const out: Array<Decoded<T>> = [first]
  for (const n of first.next) {
    const o = (n as { origin?: Wire.Origin | null }).origin
    ;(n as { origin: Wire.Origin }).origin = Wire.Origin.create({
      owner: origin.owner,
      processType: origin.processType,
      dyno: o?.dyno ?? "",
      timeUs: o?.timeUs ?? 0,
      drain: origin.drain,
      frameId: origin.frameId,
      delivery: origin.delivery,
    })
    out.push(n)
  }
  return out
}

/** How many measurements a raw record holds. */
export const measurementCount = (type: RawType, value: Uint8Array): number =>
  1 + (decoders[type].decode(value) as unknown as { next: ReadonlyArray<unknown> }).next.length

/**
 * A raw record as records of one measurement each (the shape every record had before records held a
 * delivery's measurements of their key): for tests that count and decode records line by line.
 */
export const perMeasurement = <R extends { readonly value: Uint8Array }>(
  topic: string,
  record: R,
): Array<R> => {
  const type = typeOfTopic(topic)
  const encoder = decoders[type] as unknown as { encode(m: object): { finish(): Uint8Array } }
  return expand(type, record.value).map((m) => ({
    ...record,
    value: encoder.encode({ ...m, next: [] }).finish(),
  }))
}
