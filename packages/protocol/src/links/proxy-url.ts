import type { ShareLink } from "../types.js";
import { decodeBase64Text } from "./base64.js";
import { formatHostPort } from "./host.js";
import { makeLink } from "./link-object.js";
import { decodePercent, encodeComponent, encodeQueryValue, fragment } from "./text.js";
import { buildQuery, parseAuthority, QueryBag, splitUrl } from "./url-form.js";

type PlainProxy = "socks5" | "http" | "https";

/**
 * `socks5://user:pass@host:port`, `http://user:pass@host:port`, `https://...`. v2rayN writes socks
 * userinfo as base64(user:pass); userinfo without `:` that decodes to `user:pass` is read that way.
 * http/https default to ports 80/443 when absent (URL semantics); socks5 needs a port.
 */
export function parsePlainProxy(protocol: PlainProxy, rest: string): ShareLink {
  const parts = splitUrl(rest);
  const defaultPort = protocol === "http" ? 80 : protocol === "https" ? 443 : undefined;
  const { host, port } = parseAuthority(parts.authority, false, defaultPort);
  const { username, password } = splitCredentials(parts.userinfo);
  const q = new QueryBag(parts.query);
  return makeLink({
    protocol,
    host,
    port,
    name: parts.name,
    username,
    password,
    network: "tcp",
    security: "none",
    params: q.rest(),
  });
}

function splitCredentials(raw: string | undefined): { username?: string; password?: string } {
  if (raw === undefined || raw === "") return {};
  let text = raw;
  if (!raw.includes(":")) {
    const decoded = decodeBase64Text(decodePercent(raw));
    if (decoded?.includes(":")) text = decoded;
    else return { username: decodePercent(raw) };
    const colon = text.indexOf(":");
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  const colon = text.indexOf(":");
  return { username: decodePercent(text.slice(0, colon)), password: decodePercent(text.slice(colon + 1)) };
}

/** `scheme://user:pass@host:port` with the port always written and carried params as `/?query`. */
export function formatPlainProxy(link: ShareLink): string {
  let userinfo = "";
  if (link.username !== undefined || link.password !== undefined) {
    const pass = link.password === undefined ? "" : `:${encodeComponent(link.password)}`;
    userinfo = `${encodeComponent(link.username ?? "")}${pass}@`;
  }
  const query = buildQuery(Object.entries(link.params), encodeQueryValue);
  const authority = formatHostPort(link.host, link.port);
  return `${link.protocol}://${userinfo}${authority}${query === "" ? "" : `/?${query}`}${fragment(link.name)}`;
}
