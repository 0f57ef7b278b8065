import type { ShareLink } from "../types.js";
import { decodeBase64Text, encodeBase64Url, requireBase64Text } from "./base64.js";
import { LinkError } from "./errors.js";
import { formatHostPort } from "./host.js";
import { makeLink } from "./link-object.js";
import { decodePercent, encodeComponent, encodeQueryValue, fragment, nameFromFragment } from "./text.js";
import { buildQuery, parseAuthority, parseQuery, QueryBag, splitUrl } from "./url-form.js";
import { withParams } from "./xray-url.js";

/**
 * Shadowsocks: SIP002 `ss://userinfo@host:port/?plugin=...#name` with userinfo either
 * base64(method:password) or plain percent-encoded `method:password` (SS-2022), and the legacy
 * all-base64 `ss://base64(method:password@host:port)#name`.
 */
export function parseSs(rest: string): ShareLink {
  const parts = splitUrl(rest);
  if (parts.userinfo === undefined) return parseLegacySs(rest);
  const { host, port } = parseAuthority(parts.authority);
  return ssLink(host, port, parts.name, decodeUserinfo(parts.userinfo), parts.query);
}

/** Plain userinfo holds a `:` once percent-decoded; base64 never does. */
function decodeUserinfo(raw: string): string {
  const decoded = decodePercent(raw);
  if (decoded.includes(":")) return decoded;
  return requireBase64Text(decoded, "ss: the userinfo (base64 of method:password)");
}

function parseLegacySs(rest: string): ShareLink {
  const hashAt = rest.indexOf("#");
  const beforeHash = hashAt === -1 ? rest : rest.slice(0, hashAt);
  const queryAt = beforeHash.indexOf("?");
  const encoded = (queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt)).replace(/\/$/, "");
  const decoded = decodeBase64Text(decodePercent(encoded));
  if (decoded === null) {
    throw new LinkError(
      "ss: expected SIP002 ss://userinfo@host:port or the legacy ss://base64(method:password@host:port); this is neither",
    );
  }
  const atAt = decoded.lastIndexOf("@");
  if (atAt === -1) throw new LinkError("ss: the legacy base64 payload must be method:password@host:port");
  const { host, port } = parseAuthority(decoded.slice(atAt + 1).trim());
  const name = hashAt === -1 ? "" : nameFromFragment(rest.slice(hashAt + 1));
  const query = queryAt === -1 ? [] : parseQuery(beforeHash.slice(queryAt + 1));
  return ssLink(host, port, name, decoded.slice(0, atAt), query);
}

/** The ShareLink of both forms, from the decoded `method:password` and the query pairs. */
function ssLink(
  host: string,
  port: number,
  name: string,
  methodAndPassword: string,
  query: Array<[string, string]>,
): ShareLink {
  const colon = methodAndPassword.indexOf(":");
  const method = colon === -1 ? "" : methodAndPassword.slice(0, colon).trim().toLowerCase();
  if (method === "") throw new LinkError("ss: the userinfo must be method:password (the cipher is missing)");
  const q = new QueryBag(query);
  return makeLink({
    protocol: "ss",
    host,
    port,
    name,
    method,
    password: methodAndPassword.slice(colon + 1),
    plugin: q.take("plugin"),
    network: "tcp",
    security: "none",
    params: q.rest(),
  });
}

/**
 * SIP002 form. Userinfo: base64url without padding, except for SS-2022 ciphers (`2022-...`),
 * whose keys are already base64 and which SIP002 writes as plain percent-encoded text.
 */
export function formatSs(link: ShareLink): string {
  const method = link.method ?? "";
  const password = link.password ?? "";
  const userinfo = method.startsWith("2022-")
    ? `${encodeComponent(method)}:${encodeComponent(password)}`
    : encodeBase64Url(`${method}:${password}`);
  const query = buildQuery(withParams([["plugin", link.plugin]], link.params), encodeQueryValue);
  const tail = query === "" ? "" : `/?${query}`;
  return `ss://${userinfo}@${formatHostPort(link.host, link.port)}${tail}${fragment(link.name)}`;
}
