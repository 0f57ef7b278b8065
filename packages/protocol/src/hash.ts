/** Canonical JSON and the content hash of a node set (DESIGN 3.5): the feed's ETag. */
import { hash } from "node:crypto";
import { collapseNodes } from "./collapse.js";
import type { NormalizedNode } from "./types.js";

/**
 * JSON with object keys sorted (by UTF-16 code units) at every level and no whitespace.
 * Primitives are written as JSON.stringify writes them; `toJSON` is honoured; object properties
 * whose value is undefined are left out. Throws TypeError on what JSON.stringify would silently
 * change or lose: non-finite numbers, bigint, undefined/functions/symbols as values, cycles.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set(), "$");
}

function write(value: unknown, seen: Set<object>, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value))
        throw new TypeError(`@viper/protocol canonicalJson: ${path} is ${value}, not a finite number`);
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new TypeError(
        `@viper/protocol canonicalJson: ${path} is ${typeof value}, which JSON cannot represent`,
      );
  }
  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === "function") {
    return write((withToJson.toJSON as () => unknown).call(value), seen, path);
  }
  if (seen.has(value)) throw new TypeError(`@viper/protocol canonicalJson: ${path} is a circular reference`);
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((item, i) => write(item, seen, `${path}[${i}]`)).join(",")}]`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const v = record[key];
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${write(v, seen, `${path}.${key}`)}`);
    }
    out = `{${parts.join(",")}}`;
  }
  seen.delete(value);
  return out;
}

/** The fields the content hash covers: what a consumer of the feed sees change. */
export type HashedNode = Pick<
  NormalizedNode,
  "node_key" | "url" | "name" | "country" | "latency" | "speed" | "availability"
>;

/**
 * sha256 hex of the canonical JSON of the nodes, duplicates collapsed (last wins), sorted by
 * node_key, each reduced to {node_key, url, name, country, latency, speed, availability}.
 */
export function contentHash(nodes: readonly NormalizedNode[]): string {
  const reduced: HashedNode[] = collapseNodes(nodes)
    .map((n) => ({
      node_key: n.node_key,
      url: n.url,
      name: n.name,
      country: n.country,
      latency: n.latency,
      speed: n.speed,
      availability: n.availability,
    }))
    .sort((a, b) => (a.node_key < b.node_key ? -1 : a.node_key > b.node_key ? 1 : 0));
  return hash("sha256", canonicalJson(reduced), "hex");
}
