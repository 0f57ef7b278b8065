import type { ShareLink } from "../types.js";
import { decodeBase64Text, encodeBase64 } from "./base64.js";
import { LinkError } from "./errors.js";
import { checkPort, normalizeHost, parsePort } from "./host.js";
import { makeLink, normalizeUuid } from "./link-object.js";
import { cleanName, nameFromFragment, nonEmpty, toWellFormed } from "./text.js";
import { parseXrayUrl } from "./xray-url.js";

/**
 * vmess://base64(JSON) as v2rayN writes it ("v": "2"), and the rare URL form vmess://uuid@host:port?...
 * Keys of the JSON that are not fields of ShareLink are carried in params as strings.
 */
export function parseVmess(rest: string): ShareLink {
  const hashAt = rest.indexOf("#");
  const body = hashAt === -1 ? rest : rest.slice(0, hashAt);
  const json = decodeBase64Text(body);
  if (json === null) {
    // The URL form is read, then normalised through the canonical JSON form, so that parsing
    // the formatted link gives the same ShareLink (URL parameters named like v2rayN JSON keys,
    // e.g. `tls` or `aid`, have no place of their own in the JSON and are dropped).
    if (body.includes("@")) return fromV2rayNJson(JSON.parse(jsonOf(parseXrayUrl("vmess", rest))), "");
    throw new LinkError("vmess: the part after vmess:// is neither base64 JSON (v2rayN) nor uuid@host:port");
  }
  const fragment = hashAt === -1 ? "" : nameFromFragment(rest.slice(hashAt + 1));
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch {
    throw new LinkError("vmess: the base64 payload does not decode to JSON");
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new LinkError("vmess: the base64 payload is JSON but not an object");
  }
  return fromV2rayNJson(config as Record<string, unknown>, fragment);
}

/** JSON keys that map onto ShareLink fields; every other key goes to params. */
const CONSUMED = new Set([
  "v",
  "ps",
  "add",
  "port",
  "id",
  "aid",
  "scy",
  "net",
  "type",
  "host",
  "path",
  "tls",
  "sni",
  "alpn",
  "fp",
  "pbk",
  "sid",
  "spx",
  "flow",
  "allowInsecure",
]);

function fromV2rayNJson(c: Record<string, unknown>, fragment: string): ShareLink {
  const host = text(c["add"]);
  if (host === undefined) throw new LinkError('vmess: the address ("add") is missing');
  const id = text(c["id"]);
  if (id === undefined) throw new LinkError('vmess: the uuid ("id") is missing');
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(c)) {
    if (CONSUMED.has(k) || v === null || v === undefined) continue;
    params[toWellFormed(k)] = toWellFormed(typeof v === "string" ? v : JSON.stringify(v));
  }
  // Values that do not fit their field are carried as text rather than lost.
  const alterId = integerOf(c["aid"]);
  if (alterId === undefined && text(c["aid"]) !== undefined) params["aid"] = text(c["aid"]) ?? "";
  const allowInsecure = flagOf(c["allowInsecure"]);
  if (allowInsecure === undefined && text(c["allowInsecure"]) !== undefined) {
    params["allowInsecure"] = text(c["allowInsecure"]) ?? "";
  }
  return makeLink({
    protocol: "vmess",
    host: normalizeHost(host, true),
    port: portOf(c["port"]),
    name: cleanName(text(c["ps"]) ?? "") || fragment,
    uuid: normalizeUuid(id),
    alterId,
    method: text(c["scy"]),
    network: (text(c["net"]) ?? "tcp").toLowerCase(),
    headerType: text(c["type"]),
    hostHeader: text(c["host"]),
    path: text(c["path"]),
    security: (text(c["tls"]) ?? "none").toLowerCase(),
    sni: text(c["sni"]),
    alpn: text(c["alpn"]),
    fingerprint: text(c["fp"]),
    realityPublicKey: text(c["pbk"]),
    realityShortId: text(c["sid"]),
    realitySpiderX: text(c["spx"]),
    flow: text(c["flow"]),
    allowInsecure,
    params,
  });
}

/** A JSON value as non-empty text: strings as they are, numbers in decimal, else undefined. */
function text(v: unknown): string | undefined {
  if (typeof v === "string") return nonEmpty(toWellFormed(v.trim()));
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function portOf(v: unknown): number {
  if (typeof v === "number") return checkPort(v);
  if (typeof v === "string") return parsePort(v);
  throw new LinkError('vmess: the port ("port") is missing');
}

function integerOf(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === "string" && /^\d{1,9}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** A boolean written as JSON true/false, 1/0 or text; text is trimmed and read in any case, as text() reads it. */
function flagOf(v: unknown): boolean | undefined {
  const t = typeof v === "string" ? v.trim().toLowerCase() : v;
  if (t === true || t === 1 || t === "1" || t === "true") return true;
  if (t === false || t === 0 || t === "0" || t === "false") return false;
  return undefined;
}

/** v2rayN's JSON: its key order first, then carried params sorted; std base64 with padding. */
export function formatVmess(link: ShareLink): string {
  return `vmess://${encodeBase64(jsonOf(link))}`;
}

function jsonOf(link: ShareLink): string {
  const c: Record<string, string | number | boolean> = {
    v: "2",
    ps: link.name,
    add: link.host,
    port: link.port,
  };
  c["id"] = link.uuid ?? "";
  if (link.alterId !== undefined) c["aid"] = link.alterId;
  put(c, "scy", link.method);
  c["net"] = link.network;
  put(c, "type", link.headerType);
  put(c, "host", link.hostHeader);
  put(c, "path", link.path);
  c["tls"] = link.security === "none" ? "" : link.security;
  put(c, "sni", link.sni);
  put(c, "alpn", link.alpn);
  put(c, "fp", link.fingerprint);
  put(c, "pbk", link.realityPublicKey);
  put(c, "sid", link.realityShortId);
  put(c, "spx", link.realitySpiderX);
  put(c, "flow", link.flow);
  if (link.allowInsecure !== undefined) c["allowInsecure"] = link.allowInsecure;
  for (const k of Object.keys(link.params).sort()) {
    if (!(k in c)) c[k] = link.params[k] ?? "";
  }
  return JSON.stringify(c);
}

function put(c: Record<string, string | number | boolean>, key: string, value: string | undefined): void {
  if (value !== undefined) c[key] = value;
}
