/** SqlError -> StoreError: Unavailable when the shard cannot answer now, Rejected when the statement or data is wrong. */
import { assert, describe, it } from "@effect/vitest"
import {
  ConnectionError,
  DeadlockError,
  SqlError,
  SqlSyntaxError,
  StatementTimeoutError,
  UniqueViolation,
  UnknownError,
} from "effect/sql/SqlError"
import { toStoreError } from "../../src/store/StoreError.ts"

const server = (code: string, operation = "query") =>
  new SqlError({
    reason: new UnknownError({ cause: Object.assign(new Error(`server says ${code}`), { code }), operation }),
  })

const reasonOf = (e: unknown) => toStoreError(2, "test")(e).reason

describe("StoreError classification", () => {
  it("by SQLSTATE: outages and overload are Unavailable, bad statements and data are Rejected", () => {
    for (const code of ["08006", "57P01", "57P03", "53300", "55000", "3D000", "58030", "40001"])
      assert.strictEqual(reasonOf(server(code)), "Unavailable", code)
    for (const code of ["22021", "22P02", "22001", "23505", "23503", "42601", "42P01", "0A000", "XX000"])
      assert.strictEqual(reasonOf(server(code)), "Rejected", code)
  })

  it("by effect/sql reason when the driver gives no SQLSTATE", () => {
    const cause = new Error("no code")
    assert.strictEqual(reasonOf(new SqlError({ reason: new ConnectionError({ cause }) })), "Unavailable")
    assert.strictEqual(
      reasonOf(new SqlError({ reason: new StatementTimeoutError({ cause }) })),
      "Unavailable",
    )
    assert.strictEqual(reasonOf(new SqlError({ reason: new DeadlockError({ cause }) })), "Unavailable")
    assert.strictEqual(reasonOf(new SqlError({ reason: new SqlSyntaxError({ cause }) })), "Rejected")
    assert.strictEqual(
      reasonOf(new SqlError({ reason: new UniqueViolation({ cause, constraint: "k" }) })),
      "Rejected",
    )
    // Failing to connect is the shard's; failing to encode a query is the data's.
    assert.strictEqual(
      reasonOf(new SqlError({ reason: new UnknownError({ cause, operation: "connect" }) })),
      "Unavailable",
    )
    assert.strictEqual(
      reasonOf(new SqlError({ reason: new UnknownError({ cause, operation: "query" }) })),
      "Rejected",
    )
  })

  it("keeps the shard, names the call and the SQLSTATE", () => {
    const e = toStoreError(2, "write router_1m")(server("22021"))
    assert.strictEqual(e.shard, 2)
    assert.match(e.message, /^write router_1m on shard 2: server says 22021 \(SQLSTATE 22021\)$/)
  })
})
