import { LinkError } from "./errors.js";
import { normalizeHost, parsePort } from "./host.js";
import { decodePercent, nameFromFragment } from "./text.js";

/** The pieces of `scheme://userinfo@host:port/path?query#fragment`, split without the URL class
 * (which rejects unencoded spaces, emoji and `|` that real links carry, and is slow). */
export interface UrlParts {
  /** Raw (still percent-encoded) userinfo, or undefined when there is no `@`. */
  userinfo: string | undefined;
  /** Raw `host:port` text. */
  authority: string;
  /** Raw path after the authority, `/` included, or "". */
  path: string;
  /** Decoded query pairs in order. */
  query: Array<[string, string]>;
  /** Cleaned, decoded fragment ("" when absent). */
  name: string;
}

/** Splits everything after `scheme://`. */
export function splitUrl(rest: string): UrlParts {
  const hashAt = rest.indexOf("#");
  const beforeHash = hashAt === -1 ? rest : rest.slice(0, hashAt);
  const name = hashAt === -1 ? "" : nameFromFragment(rest.slice(hashAt + 1));
  const queryAt = beforeHash.indexOf("?");
  const beforeQuery = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt === -1 ? [] : parseQuery(beforeHash.slice(queryAt + 1));
  // The last `@` ends the userinfo: base64 userinfo may hold `/`, passwords may hold `@`.
  const atAt = beforeQuery.lastIndexOf("@");
  const userinfo = atAt === -1 ? undefined : beforeQuery.slice(0, atAt);
  const hostAndPath = atAt === -1 ? beforeQuery : beforeQuery.slice(atAt + 1);
  const slashAt = hostAndPath.indexOf("/");
  const authority = slashAt === -1 ? hostAndPath : hostAndPath.slice(0, slashAt);
  const path = slashAt === -1 ? "" : hostAndPath.slice(slashAt);
  return { userinfo, authority, path, query, name };
}

/** `a=1&b=2`: percent-decoded; `+` stays a plus (links carry base64 and paths, not form data). */
export function parseQuery(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (text === "") return pairs;
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = decodePercent(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? "" : decodePercent(part.slice(eq + 1));
    pairs.push([key, value]);
  }
  return pairs;
}

/** A parsed `host:port` authority. */
export interface Authority {
  host: string;
  port: number;
  /** The port text when it is a multi-port spec (`443,5000-6000`), else undefined. */
  ports: string | undefined;
}

const MULTI_PORT = /^\d{1,5}(?:-\d{1,5})?(?:,\d{1,5}(?:-\d{1,5})?)*$/;

/**
 * Parses `host:port` / `[v6]:port`. With `multiPort`, the port may be a hysteria2 spec like
 * `443,5000-6000`: `port` is then its first port and `ports` the whole spec.
 * `defaultPort` is used when the port is absent (http/https only).
 */
export function parseAuthority(authority: string, multiPort = false, defaultPort?: number): Authority {
  let hostText: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close === -1) throw new LinkError("IPv6 host is missing its closing bracket ]");
    hostText = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after !== "" && !after.startsWith(":"))
      throw new LinkError(`unexpected "${after}" after the IPv6 host`);
    portText = after === "" ? undefined : after.slice(1);
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon !== -1 && authority.indexOf(":") !== colon) {
      throw new LinkError(
        "host contains ':'; an IPv6 address must be written in brackets, e.g. [2001:db8::1]:443",
      );
    }
    hostText = colon === -1 ? authority : authority.slice(0, colon);
    portText = colon === -1 ? undefined : authority.slice(colon + 1);
  }
  const host = normalizeHost(decodePercent(hostText));
  if (portText === undefined || portText === "") {
    if (defaultPort === undefined) throw new LinkError("port is missing after the host (expected host:port)");
    return { host, port: defaultPort, ports: undefined };
  }
  if (multiPort && !/^\d+$/.test(portText)) {
    if (!MULTI_PORT.test(portText))
      throw new LinkError(`port "${portText}" is neither a port nor a port list`);
    const first = portText.split(/[,-]/)[0] ?? "";
    for (const p of portText.split(/[,-]/)) parsePort(p);
    return { host, port: parsePort(first), ports: portText };
  }
  return { host, port: parsePort(portText), ports: undefined };
}

/** Takes known keys out of the query; whatever is left goes to ShareLink.params verbatim. */
export class QueryBag {
  private readonly values = new Map<string, string>();

  constructor(pairs: Array<[string, string]>) {
    // First occurrence wins, as URLSearchParams.get does.
    for (const [k, v] of pairs) if (!this.values.has(k)) this.values.set(k, v);
  }

  /** The value of `key` (removed from the bag), or undefined if absent or empty. */
  take(key: string): string | undefined {
    const v = this.values.get(key);
    this.values.delete(key);
    return v === "" ? undefined : v;
  }

  /** Like take, but only consumes the key when the value is a boolean flag (1/0/true/false). */
  takeFlag(key: string): boolean | undefined {
    const v = this.values.get(key)?.toLowerCase();
    if (v === "1" || v === "true") {
      this.values.delete(key);
      return true;
    }
    if (v === "0" || v === "false") {
      this.values.delete(key);
      return false;
    }
    if (v === "") this.values.delete(key);
    return undefined;
  }

  /** Every key not taken, in a plain object. */
  rest(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.values) out[k] = v;
    return out;
  }
}

/** Query string from pairs, sorted by key so the output is deterministic. */
export function buildQuery(
  pairs: Array<[string, string | undefined]>,
  encodeValue: (s: string) => string,
): string {
  const present = pairs.filter((p): p is [string, string] => p[1] !== undefined);
  present.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return present.map(([k, v]) => `${encodeURIComponent(k)}=${encodeValue(v)}`).join("&");
}
