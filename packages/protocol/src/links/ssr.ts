import type { ShareLink } from "../types.js";
import { decodeBase64Text, encodeBase64Url, requireBase64Text } from "./base64.js";
import { LinkError } from "./errors.js";
import { normalizeHost, parsePort } from "./host.js";
import { makeLink } from "./link-object.js";
import { cleanName } from "./text.js";
import { parseQuery, QueryBag } from "./url-form.js";

/**
 * ShadowsocksR: `ssr://base64url(host:port:protocol:method:obfs:base64(password)/?obfsparam=..&protoparam=..&remarks=..&group=..)`.
 * Parameter values are base64url; one that is not is kept as written.
 */
export function parseSsr(rest: string): ShareLink {
  const body = requireBase64Text(rest.split("#")[0] ?? "", "ssr: the payload");
  const slashQ = body.indexOf("/?");
  const main = slashQ === -1 ? body.replace(/\/$/, "") : body.slice(0, slashQ);
  const q = new QueryBag(slashQ === -1 ? [] : parseQuery(body.slice(slashQ + 2)));
  // Split from the right: an IPv6 host holds colons of its own.
  const fields = main.split(":");
  if (fields.length < 6) {
    throw new LinkError("ssr: the payload must be host:port:protocol:method:obfs:base64(password)");
  }
  const [portText, protocol, method, obfs, passwordB64] = fields.slice(-5) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const hostText = fields.slice(0, -5).join(":");
  return makeLink({
    protocol: "ssr",
    host: normalizeHost(hostText, true),
    port: parsePort(portText),
    name: cleanName(b64Param(q.take("remarks")) ?? ""),
    password: passwordB64 === "" ? "" : requireBase64Text(passwordB64, "ssr: the password"),
    method: method.toLowerCase(),
    ssrProtocol: protocol,
    ssrProtocolParam: b64Param(q.take("protoparam")),
    obfs,
    obfsParam: b64Param(q.take("obfsparam")),
    network: "tcp",
    security: "none",
    params: decodeRest(q.rest()),
  });
}

function b64Param(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const decoded = decodeBase64Text(v) ?? v;
  return decoded === "" ? undefined : decoded;
}

function decodeRest(rest: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) out[k] = v === "" ? "" : (decodeBase64Text(v) ?? v);
  return out;
}

/** The whole ssr payload in base64url, its parameter values in base64url too, sorted by key. */
export function formatSsr(link: ShareLink): string {
  const main = [
    link.host,
    link.port,
    link.ssrProtocol ?? "origin",
    link.method ?? "",
    link.obfs ?? "plain",
    encodeBase64Url(link.password ?? ""),
  ].join(":");
  const pairs: Array<[string, string]> = [];
  if (link.obfsParam !== undefined) pairs.push(["obfsparam", link.obfsParam]);
  if (link.ssrProtocolParam !== undefined) pairs.push(["protoparam", link.ssrProtocolParam]);
  pairs.push(["remarks", link.name]);
  for (const [k, v] of Object.entries(link.params)) {
    if (!["obfsparam", "protoparam", "remarks"].includes(k)) pairs.push([k, v]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeBase64Url(v)}`).join("&");
  return `ssr://${encodeBase64Url(`${main}/?${query}`)}`;
}
