/**
 * Which webhook URLs a rule may have. A webhook is an http or https URL (at most 2,048 characters). It is
 * refused when it would make tally call its own HTTP surface: its host is tally's own — `localhost`, the
 * host of TALLY_PUBLIC_URL or TALLY_HOST, or an address that is a loopback (127.0.0.0/8, ::1), unspecified
 * (0.0.0.0, ::) or one of this machine's interface addresses, also when a name resolves to one — AND
 * either its path begins with `/api` (after percent-decoding, `..` and repeated slashes) or its port is
 * tally's own (TALLY_PORT). Checked when the rule is created (400 naming `webhook`) and again on every
 * delivery, at connection time (a name may resolve elsewhere by then): a refused delivery is abandoned
 * and counted, never retried. Redirects are never followed.
 */
import { lookup } from "node:dns/promises"
import { isIP } from "node:net"
import { networkInterfaces } from "node:os"

/** What tally is: its port and the names it answers to besides its addresses. */
export interface SelfSpec {
  readonly port: number
  /** Host names (lowercase) that are tally itself: localhost, TALLY_PUBLIC_URL's host, TALLY_HOST. */
  readonly names: ReadonlySet<string>
}

export const selfSpec = (port: number, publicUrl: string | undefined, host: string | undefined): SelfSpec => {
  const names = new Set(["localhost", "localhost.localdomain", "ip6-localhost"])
  if (publicUrl !== undefined && URL.canParse(publicUrl)) names.add(bare(new URL(publicUrl).hostname))
  if (host !== undefined) names.add(bare(host))
  return { port, names }
}

const bare = (host: string) => host.replace(/^\[|\]$/g, "").toLowerCase()

/** Whether an IP address (v4 or v6 text) is a loopback, unspecified, or one of this machine's. */
export const isSelfAddress = (address: string): boolean => {
  let a = bare(address)
  // IPv4-mapped IPv6, dotted or (as URL normalises it) in hex: ::ffff:127.0.0.1 = ::ffff:7f00:1.
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  const hex = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a)
  if (mapped) a = mapped[1]!
  else if (hex) {
    const hi = Number.parseInt(hex[1]!, 16)
    const lo = Number.parseInt(hex[2]!, 16)
    a = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  if (isIP(a) === 4) {
    if (a.startsWith("127.") || a === "0.0.0.0") return true
  } else if (isIP(a) === 6) {
    const compact = a.replace(/(^|:)0+(?=[0-9a-f])/g, "$1")
    if (compact === "::1" || compact === "::" || /^(0:){7}[01]$/.test(compact)) return true
  } else return false
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) if (bare(i.address) === a) return true
  return false
}

const defaultPort = (url: URL) => (url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80)

/** The path as a server would route it: percent-decoded, dot segments and repeated slashes removed. */
const routedPath = (url: URL) => {
  let path = url.pathname
  try {
    path = decodeURIComponent(path)
  } catch {
    // left encoded: a server would refuse it too
  }
  const segments: Array<string> = []
  for (const s of path.split(/[/\\]+/)) {
    if (s === "" || s === ".") continue
    if (s === "..") segments.pop()
    else segments.push(s)
  }
  return `/${segments.join("/")}`.toLowerCase()
}

/** Why a URL on a host that is tally's own may not be called, or undefined when it may. */
const refusedOnSelf = (url: URL, self: SelfSpec): string | undefined => {
  const path = routedPath(url)
  if (path === "/api" || path.startsWith("/api/"))
    return `${url.origin}${url.pathname} is tally's own API; a webhook may not call it`
  if (defaultPort(url) === self.port) return `${url.origin} is tally itself (TALLY_PORT ${self.port})`
  return undefined
}

/** The checks that need no name resolution: scheme, form, and a host that is literally tally's. */
export const checkWebhookSyntax = (text: string, self: SelfSpec): string | undefined => {
  if (!URL.canParse(text)) return `not a URL: ${JSON.stringify(text.slice(0, 80))}`
  const url = new URL(text)
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `only http and https URLs are allowed; got ${url.protocol.replace(/:$/, "")}`
  if (url.hostname === "") return "the URL has no host"
  const host = bare(url.hostname)
  if (self.names.has(host) || (isIP(host) !== 0 && isSelfAddress(host))) return refusedOnSelf(url, self)
  return undefined
}

/** Every check, resolving the host's name: why the URL may not be used, or undefined when it may. */
export const checkWebhook = async (text: string, self: SelfSpec): Promise<string | undefined> => {
  const syntax = checkWebhookSyntax(text, self)
  if (syntax !== undefined) return syntax
  const url = new URL(text)
  const host = bare(url.hostname)
  if (isIP(host) !== 0) return undefined
  const addresses = await lookup(host, { all: true }).catch(() => [])
  // A name that does not resolve now may later: the delivery checks again at connection time.
  return addresses.some((a) => isSelfAddress(a.address)) ? refusedOnSelf(url, self) : undefined
}

/** At connection time: whether a resolved address may be connected to for this URL (see the header). */
export const refusedAddress = (url: URL, address: string, self: SelfSpec): string | undefined =>
  isSelfAddress(address) ? refusedOnSelf(url, self) : undefined
