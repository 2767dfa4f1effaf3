/**
 * What tally sends, checked with code of its own: the fingerprint against FNV-1a 64 in BigInt (the
 * algorithm of prometheus/common's LabelSet.Fingerprint; alertmanager.test.ts compares it with a real
 * Alertmanager's), the signature against node's HMAC, and which webhook URLs are refused as tally's own.
 */
import { createHmac } from "node:crypto"
import { describe, expect, it } from "vitest"
import { fingerprint, signature } from "../../src/alerts/Payloads.ts"
import { checkWebhookSyntax, isSelfAddress, selfSpec } from "../../src/alerts/WebhookUrl.ts"

const fnv = (labels: Record<string, string>) => {
  let h = 14695981039346656037n
  const add = (bytes: Iterable<number>) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * 1099511628211n) & ((1n << 64n) - 1n)
  }
  for (const name of Object.keys(labels).sort()) {
    add(Buffer.from(name, "utf8"))
    add([255])
    add(Buffer.from(labels[name]!, "utf8"))
    add([255])
  }
  return h.toString(16).padStart(16, "0")
}

describe("payloads", () => {
  it("the fingerprint is FNV-1a 64 over the sorted labels, as Alertmanager's", () => {
    for (let i = 0; i < 500; i++) {
      const labels = {
        alertname: `rule ${i} ${"é漢".repeat(i % 3)} ${Math.random().toString(36)}`,
        app: `shop-${i}`,
        owner: crypto.randomUUID(),
        process_type: ["web", "worker", "router"][i % 3]!,
        metric: "router_p95_ms",
      }
      expect(fingerprint(labels)).toBe(fnv(labels))
    }
    expect(fingerprint({})).toBe(fnv({}))
  })

  it("the signature is sha256= and the hex HMAC-SHA256 of the body with the secret", () => {
    const body = '{"version":"4","status":"firing"}'
    expect(signature("tly_w_k", body)).toBe(
      `sha256=${createHmac("sha256", "tly_w_k").update(body).digest("hex")}`,
    )
  })
})

describe("webhook URLs", () => {
  const self = selfSpec(8080, "https://tally.example.com", undefined)
  it("http and https only", () => {
    expect(checkWebhookSyntax("ftp://hooks.example.com/x", self)).toMatch(/only http and https/)
    expect(checkWebhookSyntax("file:///etc/passwd", self)).toMatch(/only http and https/)
    expect(checkWebhookSyntax("hooks.example.com/x", self)).toMatch(/not a URL/)
    expect(checkWebhookSyntax("https://hooks.example.com/tally?x=1", self)).toBeUndefined()
  })
  it("tally's own API and port are refused; the same host's other ports and paths are not", () => {
    for (const url of [
      "http://localhost:9999/api/v1/apps",
      "http://127.0.0.1:1/API/v1/retention",
      "http://127.1.2.3/api",
      "http://[::1]:81/x/../api/v1/apps",
      "http://0.0.0.0:5/%61pi/v1/apps",
      "http://[::ffff:127.0.0.1]:5/api/v1/apps",
      "https://tally.example.com/api/v1/apps/x/alerts",
      "http://localhost:8080/anything",
      "http://127.0.0.1:8080/",
    ])
      expect(checkWebhookSyntax(url, self), url).toBeDefined()
    for (const url of [
      "http://127.0.0.1:9000/hook",
      "http://localhost:3000/apis",
      "https://tally.example.com/hook",
    ])
      expect(checkWebhookSyntax(url, self), url).toBeUndefined()
  })
  it("loopback, unspecified and this machine's addresses are its own", () => {
    for (const a of [
      "127.0.0.1",
      "127.255.0.9",
      "::1",
      "0:0:0:0:0:0:0:1",
      "::",
      "0.0.0.0",
      "::ffff:127.0.0.1",
    ])
      expect(isSelfAddress(a), a).toBe(true)
    for (const a of ["192.0.2.10", "2001:db8::1", "8.8.8.8"]) expect(isSelfAddress(a), a).toBe(false)
  })
})
