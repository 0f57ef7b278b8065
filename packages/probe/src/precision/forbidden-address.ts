/**
 * Where a redirect of the precision test may not lead: link-local and cloud metadata addresses.
 * A file server that redirects the store (or a node) to 169.254.169.254 would otherwise read the
 * host's cloud credentials into a "speed test". Private and loopback ranges stay allowed: the
 * configured URLs and node hosts may be anything (DESIGN.md section 7), this guards redirects only.
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

const FORBIDDEN = new BlockList();
// Link-local: every cloud's instance metadata lives here (169.254.169.254, Tencent's 169.254.0.23, …).
FORBIDDEN.addSubnet("169.254.0.0", 16, "ipv4");
FORBIDDEN.addSubnet("fe80::", 10, "ipv6");
// Alibaba Cloud's metadata service.
FORBIDDEN.addAddress("100.100.100.200", "ipv4");
// AWS's IPv6 metadata endpoint.
FORBIDDEN.addAddress("fd00:ec2::254", "ipv6");
// The same IPv4 addresses written as IPv6: NAT64 (64:ff9b::/96) and the old IPv4-compatible form.
// (IPv4-mapped ::ffff:a.b.c.d is matched against the IPv4 rules by BlockList itself.)
for (const prefix of ["64:ff9b::", "::"]) {
  FORBIDDEN.addSubnet(`${prefix}a9fe:0`, 112, "ipv6");
  FORBIDDEN.addAddress(`${prefix}6464:64c8`, "ipv6");
}

/** Names of metadata services that may resolve differently inside a cloud than here. */
const FORBIDDEN_HOSTNAMES = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.azure.internal",
  "metadata.tencentyun.com",
  "metadata.platformequinix.com",
]);

/**
 * True for a link-local or metadata IP address (IPv4 or IPv6, brackets and zone ids allowed).
 * Not an IP address at all → false (check hostnames with `isForbiddenHostname`).
 */
export function isForbiddenAddress(ip: string): boolean {
  const address = ip.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const family = isIP(address);
  if (family === 0) return false;
  return FORBIDDEN.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** True for a well-known metadata host name (case and a trailing dot ignored). */
export function isForbiddenHostname(hostname: string): boolean {
  return FORBIDDEN_HOSTNAMES.has(hostname.toLowerCase().replace(/\.$/, ""));
}

export type Resolver = (hostname: string) => Promise<string[]>;

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Why a redirect to `url` is refused, or null when it may be followed. The host name is resolved
 * and every address checked: one forbidden address among harmless ones is enough to refuse.
 */
export async function redirectRefusal(url: URL, resolve: Resolver = systemResolver): Promise<string | null> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `a redirect to ${url.protocol} is not followed (only http and https)`;
  }
  // WHATWG URL parsing already turned 2852039166 or 0xa9.254.169.254 into 169.254.169.254.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isForbiddenHostname(host)) return `a redirect to the metadata host ${host} is refused`;
  if (isIP(host) !== 0) {
    return isForbiddenAddress(host)
      ? `a redirect to the link-local/metadata address ${host} is refused`
      : null;
  }
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return `the redirect target ${host} does not resolve (${typeof code === "string" ? code : String(error)})`;
  }
  const bad = addresses.find(isForbiddenAddress);
  return bad === undefined
    ? null
    : `a redirect to ${host} is refused: it resolves to the link-local/metadata address ${bad}`;
}
