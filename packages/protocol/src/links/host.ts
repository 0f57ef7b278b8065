import { isIPv6 } from "node:net";
import { LinkError } from "./errors.js";

/** Letters (any script), digits, `.`, `-`, `_`: enough for DNS names, IDNs and IPv4. */
const HOSTNAME = /^[\p{L}\p{M}\p{N}._-]+$/u;
const IPV6 = /^[0-9a-f:.]+$/;
const PORT_DIGITS = /^\d{1,5}$/;
const MAX_HOST_LENGTH = 253;

/**
 * Validates and normalises a host: lower-cased, IPv6 without brackets.
 * `bracketsOptional` accepts a bare IPv6 address (vmess `add`, ssr), where no port follows it.
 */
export function normalizeHost(raw: string, bracketsOptional = false): string {
  let host = raw.trim().toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) {
    host = host.slice(1, -1);
    if (!isIpv6(host)) throw new LinkError(`host [${host}] is not an IPv6 address`);
    return canonicalIpv6(host);
  }
  if (host === "") throw new LinkError("host is missing");
  if (host.includes(":")) {
    if (bracketsOptional && isIpv6(host)) return canonicalIpv6(host);
    throw new LinkError(
      `host "${host}" contains ":"; an IPv6 address must be written in brackets, e.g. [2001:db8::1]`,
    );
  }
  if (host.length > MAX_HOST_LENGTH) throw new LinkError(`host is longer than ${MAX_HOST_LENGTH} characters`);
  if (!HOSTNAME.test(host)) throw new LinkError(`host "${host}" contains characters a host name cannot have`);
  return host;
}

function isIpv6(host: string): boolean {
  return IPV6.test(host) && isIPv6(host);
}

/**
 * RFC 5952 text (zeros compressed, lower case), so `2001:DB8:0:0::1` and `2001:db8::1` are one
 * host and therefore one node. The WHATWG URL parser implements exactly that serialisation.
 */
function canonicalIpv6(host: string): string {
  return new URL(`http://[${host}]/`).hostname.slice(1, -1);
}

/** Parses a port written as text: an integer 1..65535. */
export function parsePort(raw: string): number {
  const text = raw.trim();
  if (!PORT_DIGITS.test(text)) throw new LinkError(`port "${text}" is not a number 1..65535`);
  return checkPort(Number(text));
}

/** Validates a numeric port (vmess JSON may hold it as a number). */
export function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LinkError(`port ${port} is out of range: it must be an integer 1..65535`);
  }
  return port;
}

/** `host:port` as written in a URL authority: IPv6 in brackets. */
export function formatHostPort(host: string, port: number | string): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
