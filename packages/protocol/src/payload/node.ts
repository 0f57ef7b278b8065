import { nodeIdFromKey, nodeKey } from "../identity.js";
import { LinkError } from "../links/errors.js";
import { formatShareLink } from "../links/format.js";
import { formatHostPort, normalizeHost } from "../links/host.js";
import { MAX_LINK_LENGTH, parseShareLink, SCHEME_ALIASES } from "../links/parse.js";
import { cleanName } from "../links/text.js";
import type { NormalizedNode, Protocol, ShareLink } from "../types.js";
import { normalizeCountry } from "./country.js";
import { isNaiveIso, parseIsoInstant } from "./iso-time.js";
import { normalizeAvailability, normalizeLatency, normalizeScore, normalizeSpeed } from "./metrics.js";

/** What a node needs to know about its payload. */
export interface NodeContext {
  /** Bare-array (legacy nodes.json) shape: `speed` is a score, kept as legacy_score. */
  legacy: boolean;
  /** Payload timestamp, ISO UTC: the default tested_at. */
  timestamp: string;
  /** Latest acceptable instant (now + tolerance), ms since the epoch. */
  latestMs: number;
  warnings: string[];
}

/** One normalised node, or why it was rejected. */
export type NodeOutcome = { ok: true; node: NormalizedNode } | { ok: false; reason: string };

/** Protocols a node can be built for from host and port alone (no credential in them). */
const BUILDABLE = new Set<Protocol>(["http", "https", "socks5"]);

/** One node of a payload: resolve its link, derive identity, check metrics. Never throws. */
export function normalizeNode(raw: unknown, index: number, ctx: NodeContext): NodeOutcome {
  try {
    return normalizeNodeUnsafe(raw, index, ctx);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: err instanceof LinkError ? why : `could not be normalised (${why})` };
  }
}

function normalizeNodeUnsafe(raw: unknown, index: number, ctx: NodeContext): NodeOutcome {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: "a node must be a JSON object" };
  }
  const n = raw as Record<string, unknown>;
  const warn = (message: string) => ctx.warnings.push(`nodes[${index}]: ${message}`);

  const declaredRaw =
    typeof n["protocol"] === "string" ? n["protocol"] : typeof n["type"] === "string" ? n["type"] : undefined;
  const declared = declaredRaw === undefined ? undefined : SCHEME_ALIASES[declaredRaw.trim().toLowerCase()];

  const resolved = resolveLink(n, declared);
  if (!resolved.ok) return resolved;
  let link = resolved.link;

  if (declaredRaw !== undefined && declaredRaw.trim() !== "" && declared !== link.protocol) {
    warn(`protocol "${declaredRaw.slice(0, 40)}" differs from its url (${link.protocol}); using the url`);
  }
  if (resolved.fromUrl) checkEndpointAgrees(n, link, warn);

  const name = typeof n["name"] === "string" ? cleanName(n["name"]) : "";
  if (name !== "" && name !== link.name) link = { ...link, name };

  const country = normalizeCountry(n["country"]);
  if (country.warning !== undefined) warn(country.warning);
  const latency = normalizeLatency(n["latency"]);
  if (latency.warning !== undefined) warn(latency.warning);
  const speed = ctx.legacy ? { value: null } : normalizeSpeed(n["speed"]);
  if (speed.warning !== undefined) warn(speed.warning);
  const availability = normalizeAvailability(n["availability"]);
  if (availability.warning !== undefined) warn(availability.warning);
  // Old hunters' `speed` is a score: in the bare-array shape it fills legacy_score (unless given).
  const scoreFromSpeed = ctx.legacy && n["legacy_score"] === undefined;
  const score = normalizeScore(
    scoreFromSpeed ? "speed" : "legacy_score",
    scoreFromSpeed ? n["speed"] : n["legacy_score"],
  );
  if (score.warning !== undefined) warn(score.warning);

  let testedAt = ctx.timestamp;
  const testedRaw = n["tested_at"];
  if (testedRaw !== undefined && testedRaw !== null && testedRaw !== "") {
    const ms = typeof testedRaw === "string" ? parseIsoInstant(testedRaw) : null;
    if (ms === null) {
      const naive = typeof testedRaw === "string" && isNaiveIso(testedRaw);
      warn(
        `tested_at ${JSON.stringify(testedRaw).slice(0, 40)} ${naive ? "has no offset (Z or ±hh:mm)" : "is not an ISO 8601 time"}; ignored, using the payload timestamp`,
      );
    } else if (ms > ctx.latestMs) {
      return { ok: false, reason: `tested_at ${testedRaw} is in the future (beyond the allowed clock skew)` };
    } else {
      testedAt = new Date(ms).toISOString();
    }
  }

  const url = formatShareLink(link);
  if (url.length > MAX_LINK_LENGTH) {
    // Percent-encoding can triple a link; a stored url must always parse again.
    return {
      ok: false,
      reason: `the link is longer than ${MAX_LINK_LENGTH} characters once written canonically`,
    };
  }
  const key = nodeKey(link);
  return {
    ok: true,
    node: {
      id: nodeIdFromKey(key),
      node_key: key,
      url,
      name: link.name,
      protocol: link.protocol,
      host: link.host,
      port: link.port,
      country: country.country,
      latency: latency.value,
      speed: speed.value,
      availability: availability.value,
      legacy_score: score.value,
      tested_at: testedAt,
    },
  };
}

type Resolved = { ok: true; link: ShareLink; fromUrl: boolean } | { ok: false; reason: string };

/** The node's share link: `url`, else `link`, else built from protocol + host + port (http/https/socks5). */
function resolveLink(n: Record<string, unknown>, declared: Protocol | undefined): Resolved {
  const candidate = present(n["url"]) ? n["url"] : n["link"];
  const field = present(n["url"]) ? "url" : "link";
  if (present(candidate)) {
    if (typeof candidate !== "string")
      return { ok: false, reason: `${field} must be a string (a share link)` };
    const parsed = parseShareLink(candidate);
    if (!parsed.ok) return { ok: false, reason: `${field}: ${parsed.error}` };
    return { ok: true, link: parsed.link, fromUrl: true };
  }
  if (declared === undefined || !BUILDABLE.has(declared)) {
    return {
      ok: false,
      reason:
        "the node has no url (or link); only http, https and socks5 nodes can be built from protocol, host and port",
    };
  }
  const host = typeof n["host"] === "string" ? normalizeHost(n["host"], true) : undefined;
  const port = portOf(n["port"]);
  if (host === undefined || port === undefined) {
    return { ok: false, reason: `the ${declared} node has no url, and host or port is missing or invalid` };
  }
  const parsed = parseShareLink(`${declared}://${formatHostPort(host, port)}`);
  if (!parsed.ok) return { ok: false, reason: parsed.error };
  return { ok: true, link: parsed.link, fromUrl: false };
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "";
}

function portOf(v: unknown): number | undefined {
  const n =
    typeof v === "number" ? v : typeof v === "string" && /^\d{1,5}$/.test(v.trim()) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/** A record's own host/port that disagree with its link: the link is the truth (legacy exports). */
function checkEndpointAgrees(n: Record<string, unknown>, link: ShareLink, warn: (m: string) => void): void {
  const host = n["host"];
  if (typeof host === "string" && host !== "") {
    const h = host
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, "$1");
    if (h !== link.host)
      warn(`host "${host.slice(0, 60)}" differs from its url (${link.host}); using the url`);
  }
  const port = n["port"];
  if (port !== undefined && port !== null && port !== "" && portOf(port) !== link.port) {
    warn(`port ${JSON.stringify(port).slice(0, 20)} differs from its url (${link.port}); using the url`);
  }
}
