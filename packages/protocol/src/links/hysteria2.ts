import type { ShareLink } from "../types.js";
import { formatHostPort } from "./host.js";
import { makeLink } from "./link-object.js";
import { decodePercent, encodeComponent, encodeQueryValue, fragment } from "./text.js";
import { buildQuery, parseAuthority, QueryBag, splitUrl } from "./url-form.js";
import { withParams } from "./xray-url.js";

/**
 * Hysteria 2: `hysteria2://auth@host:port/?sni=..&obfs=..&obfs-password=..&insecure=1&pinSHA256=..`
 * (`hy2://` is the same). The port may be a port-hopping list (`host:443,5000-6000`): `port` is
 * its first port and `ports` the list. `obfs`, `obfs-password`, `mport` etc. are carried in params.
 */
export function parseHysteria2(rest: string): ShareLink {
  const parts = splitUrl(rest);
  const { host, port, ports } = parseAuthority(parts.authority, true);
  const q = new QueryBag(parts.query);
  const auth = parts.userinfo === undefined ? undefined : decodePercent(parts.userinfo);
  return makeLink({
    protocol: "hysteria2",
    host,
    port,
    ports,
    name: parts.name,
    password: auth === "" ? undefined : auth,
    network: "tcp",
    security: (q.take("security") ?? "tls").toLowerCase(),
    sni: q.take("sni"),
    alpn: q.take("alpn"),
    fingerprint: q.take("fp"),
    allowInsecure: q.takeFlag("insecure"),
    params: q.rest(),
  });
}

/** `hysteria2://auth@host:ports/?...`; the default security (tls) is not written. */
export function formatHysteria2(link: ShareLink): string {
  const auth = link.password === undefined ? "" : `${encodeComponent(link.password)}@`;
  const known: Array<[string, string | undefined]> = [
    ["security", link.security === "tls" ? undefined : link.security],
    ["sni", link.sni],
    ["alpn", link.alpn],
    ["fp", link.fingerprint],
    ["insecure", link.allowInsecure === undefined ? undefined : link.allowInsecure ? "1" : "0"],
  ];
  const query = buildQuery(withParams(known, link.params), encodeQueryValue);
  const authority = formatHostPort(link.host, link.ports ?? link.port);
  return `hysteria2://${auth}${authority}/${query === "" ? "" : `?${query}`}${fragment(link.name)}`;
}
