/**
 * Node identity (DESIGN 3.4). The key's form is part of the protocol: ids are public and persisted.
 *
 *   v1|protocol|host|port|credential|network|path|hostheader|security|sni
 *
 * Names never count. Absent fields are empty; host is lower-cased without IPv6 brackets; network
 * defaults to tcp; security to the protocol's default (tls for trojan, hysteria2, tuic; else none).
 * Aliases are resolved by the parser first: `hy2` is "hysteria2", `socks`/`socks5h` are "socks5".
 * Fields are written exactly as they are, `|` and `%` included (DESIGN 3.4 fixes this form; escaping
 * would need a new version prefix). A `|` inside a value can in theory make two crafted nodes share
 * a key; the key is only ever compared whole, never split.
 */
import { hash } from "node:crypto";
import { defaultSecurity } from "./links/link-object.js";
import type { ShareLink } from "./types.js";

/** An absent field is empty. */
function field(value: string | undefined): string {
  return value ?? "";
}

/** The secret that selects an account on the endpoint, per protocol. */
export function credentialOf(link: ShareLink): string {
  switch (link.protocol) {
    case "vmess":
    case "vless":
      return link.uuid ?? "";
    case "trojan":
    case "hysteria2":
      return link.password ?? "";
    case "ss":
      return `${link.method ?? ""}:${link.password ?? ""}`;
    case "ssr":
      return `${link.ssrProtocol ?? ""}:${link.method ?? ""}:${link.obfs ?? ""}:${link.password ?? ""}`;
    case "tuic":
      return `${link.uuid ?? ""}:${link.password ?? ""}`;
    case "socks5":
    case "http":
    case "https":
      if (link.username === undefined && link.password === undefined) return "";
      return `${link.username ?? ""}:${link.password ?? ""}`;
  }
}

/** `v1|protocol|host|port|credential|network|path|hostheader|security|sni`. */
export function nodeKey(link: ShareLink): string {
  let host = link.host.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const network = link.network || "tcp";
  const security = link.security || defaultSecurity(link.protocol);
  return `v1|${link.protocol}|${field(host)}|${link.port}|${field(credentialOf(link))}|${field(network)}|${field(link.path)}|${field(link.hostHeader)}|${field(security)}|${field(link.sni)}`;
}

/** `n_` + the first 16 hex characters of sha256(key). */
export function nodeIdFromKey(key: string): string {
  // crypto.hash (Node ≥ 20.12) is the one-shot form: about twice as fast as createHash here.
  return `n_${hash("sha256", key, "hex").slice(0, 16)}`;
}

/** `n_` + the first 16 hex characters of sha256(nodeKey(link)). */
export function nodeId(link: ShareLink): string {
  return nodeIdFromKey(nodeKey(link));
}
