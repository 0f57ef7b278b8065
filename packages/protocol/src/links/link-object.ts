import type { Protocol, ShareLink } from "../types.js";

/** Protocols whose security is TLS when the link does not say (DESIGN 3.4). */
const TLS_BY_DEFAULT: ReadonlySet<Protocol> = new Set(["trojan", "hysteria2", "tuic"]);

/** The security a link of `protocol` has when it does not say: `tls` or `none`. */
export function defaultSecurity(protocol: Protocol): string {
  return TLS_BY_DEFAULT.has(protocol) ? "tls" : "none";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** UUIDs are case-insensitive and lower-cased; other ids (xray maps strings to UUIDv5) are kept. */
export function normalizeUuid(id: string): string {
  return UUID.test(id) ? id.toLowerCase() : id;
}

/** A copy without the keys whose value is undefined, so equal links compare and print equal. */
export function makeLink(fields: ShareLink): ShareLink {
  // Copying (not `delete`) keeps the object in V8's fast mode.
  const record = fields as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in record) if (record[k] !== undefined) out[k] = record[k];
  return out as unknown as ShareLink;
}
