import type { ShareLink } from "../types.js";
import { LinkError } from "./errors.js";
import { formatHostPort } from "./host.js";
import { defaultSecurity, makeLink, normalizeUuid } from "./link-object.js";
import { decodePercent, encodeComponent, encodeQueryValue, fragment } from "./text.js";
import { buildQuery, parseAuthority, QueryBag, splitUrl } from "./url-form.js";

/**
 * vless://uuid@host:port?..., trojan://password@host:port?... and the rare vmess://uuid@host:port?...
 * (the "standard" URL form of Xray/v2rayN), REALITY and every transport parameter included.
 */
type XrayProtocol = "vless" | "trojan" | "vmess";

/** Parses what follows `vless://`, `trojan://` or (URL form) `vmess://`. */
export function parseXrayUrl(protocol: XrayProtocol, rest: string): ShareLink {
  const parts = splitUrl(rest);
  if (parts.userinfo === undefined || parts.userinfo === "") {
    const what = protocol === "trojan" ? "password" : "uuid";
    throw new LinkError(`${protocol}: the ${what} is missing (expected ${protocol}://${what}@host:port)`);
  }
  const { host, port } = parseAuthority(parts.authority);
  const secret = decodePercent(parts.userinfo);
  const q = new QueryBag(parts.query);
  const network = (q.take("type") ?? "tcp").toLowerCase();
  // gRPC names its endpoint with serviceName; every other transport with path.
  const path = network === "grpc" ? (q.take("serviceName") ?? q.take("path")) : q.take("path");
  const sni = q.take("sni") ?? (protocol === "trojan" ? q.take("peer") : undefined);
  return makeLink({
    protocol,
    host,
    port,
    name: parts.name,
    uuid: protocol === "trojan" ? undefined : normalizeUuid(secret),
    password: protocol === "trojan" ? secret : undefined,
    method: protocol === "vmess" ? q.take("encryption") : undefined,
    encryption: protocol === "vless" ? q.take("encryption") : undefined,
    network,
    path,
    hostHeader: q.take("host"),
    security: (q.take("security") ?? defaultSecurity(protocol)).toLowerCase(),
    sni,
    alpn: q.take("alpn"),
    fingerprint: q.take("fp"),
    realityPublicKey: q.take("pbk"),
    realityShortId: q.take("sid"),
    realitySpiderX: q.take("spx"),
    flow: q.take("flow"),
    headerType: q.take("headerType"),
    allowInsecure: q.takeFlag("allowInsecure"),
    params: q.rest(),
  });
}

/** vless/trojan (and vmess in URL form) with every known field and carried param as a sorted query. */
export function formatXrayUrl(link: ShareLink): string {
  const secret = link.protocol === "trojan" ? link.password : link.uuid;
  const grpc = link.network === "grpc";
  const known: Array<[string, string | undefined]> = [
    ["type", link.network],
    ["security", link.security],
    ["encryption", link.protocol === "vmess" ? link.method : link.encryption],
    [grpc ? "serviceName" : "path", link.path],
    ["host", link.hostHeader],
    ["sni", link.sni],
    ["alpn", link.alpn],
    ["fp", link.fingerprint],
    ["pbk", link.realityPublicKey],
    ["sid", link.realityShortId],
    ["spx", link.realitySpiderX],
    ["flow", link.flow],
    ["headerType", link.headerType],
    ["allowInsecure", link.allowInsecure === undefined ? undefined : link.allowInsecure ? "1" : "0"],
  ];
  const query = buildQuery(withParams(known, link.params), encodeQueryValue);
  return `${link.protocol}://${encodeComponent(secret ?? "")}@${formatHostPort(link.host, link.port)}?${query}${fragment(link.name)}`;
}

/** Known fields plus the carried params; a param never overrides a field of the same key. */
export function withParams(
  known: Array<[string, string | undefined]>,
  params: Record<string, string>,
): Array<[string, string | undefined]> {
  const taken = new Set(known.filter((p) => p[1] !== undefined).map((p) => p[0]));
  const out = known.slice();
  for (const [k, v] of Object.entries(params)) if (!taken.has(k)) out.push([k, v]);
  return out;
}
