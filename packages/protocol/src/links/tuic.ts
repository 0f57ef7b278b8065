import type { ShareLink } from "../types.js";
import { LinkError } from "./errors.js";
import { formatHostPort } from "./host.js";
import { makeLink, normalizeUuid } from "./link-object.js";
import { decodePercent, encodeComponent, encodeQueryValue, fragment } from "./text.js";
import { buildQuery, parseAuthority, QueryBag, splitUrl } from "./url-form.js";
import { withParams } from "./xray-url.js";

/**
 * TUIC v5: `tuic://uuid:password@host:port?congestion_control=bbr&alpn=h3&sni=..&udp_relay_mode=..`.
 * `congestion_control`, `udp_relay_mode`, `disable_sni`... are carried in params.
 */
export function parseTuic(rest: string): ShareLink {
  const parts = splitUrl(rest);
  if (parts.userinfo === undefined || parts.userinfo === "") {
    throw new LinkError("tuic: the uuid is missing (expected tuic://uuid:password@host:port)");
  }
  const colon = parts.userinfo.indexOf(":");
  const uuid = decodePercent(colon === -1 ? parts.userinfo : parts.userinfo.slice(0, colon));
  const password = colon === -1 ? undefined : decodePercent(parts.userinfo.slice(colon + 1));
  if (uuid === "") throw new LinkError("tuic: the uuid is missing (expected tuic://uuid:password@host:port)");
  const { host, port } = parseAuthority(parts.authority);
  const q = new QueryBag(parts.query);
  return makeLink({
    protocol: "tuic",
    host,
    port,
    name: parts.name,
    uuid: normalizeUuid(uuid),
    password,
    network: "tcp",
    security: (q.take("security") ?? "tls").toLowerCase(),
    sni: q.take("sni"),
    alpn: q.take("alpn"),
    allowInsecure: q.takeFlag("allow_insecure"),
    params: q.rest(),
  });
}

/** `tuic://uuid:password@host:port?...`; the default security (tls) is not written. */
export function formatTuic(link: ShareLink): string {
  const password = link.password === undefined ? "" : `:${encodeComponent(link.password)}`;
  const known: Array<[string, string | undefined]> = [
    ["security", link.security === "tls" ? undefined : link.security],
    ["sni", link.sni],
    ["alpn", link.alpn],
    ["allow_insecure", link.allowInsecure === undefined ? undefined : link.allowInsecure ? "1" : "0"],
  ];
  const query = buildQuery(withParams(known, link.params), encodeQueryValue);
  const authority = formatHostPort(link.host, link.port);
  return `tuic://${encodeComponent(link.uuid ?? "")}${password}@${authority}${query === "" ? "" : `?${query}`}${fragment(link.name)}`;
}
