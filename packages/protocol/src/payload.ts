/**
 * Payload normalisation (DESIGN 3.3): a v1 envelope or a legacy bare array in, a Payload of
 * NormalizedNode out. Envelope errors fail the whole payload (HTTP 400); a node that cannot be
 * normalised is rejected alone, with its index and reason, and the rest is kept.
 */

import { parseIsoInstant } from "./payload/iso-time.js";
import { normalizeNode } from "./payload/node.js";
import { payloadEnvelopeSchema } from "./schemas.js";
import { DEFAULT_TOLERANCE_S } from "./signing/constants.js";
import type {
  EventType,
  Mode,
  NodeRejection,
  NormalizedNode,
  NormalizeOptions,
  NormalizeResult,
  PayloadIssue,
} from "./types.js";

const SNAPSHOT_EVENTS: ReadonlySet<EventType> = new Set(["batch_test_complete", "nodes_snapshot"]);

/** snapshot for batch_test_complete and nodes_snapshot, delta otherwise. */
export function defaultMode(eventType: EventType): Mode {
  return SNAPSHOT_EVENTS.has(eventType) ? "snapshot" : "delta";
}

/** `input` is the parsed JSON body. Synchronous; never throws for bad input. */
export function normalizePayload(input: unknown, opts: NormalizeOptions = {}): NormalizeResult {
  const now = opts.now ?? new Date();
  if (Number.isNaN(now.getTime()))
    throw new TypeError("@viper/protocol normalizePayload: opts.now is an invalid Date");
  const toleranceS = opts.toleranceS ?? DEFAULT_TOLERANCE_S;
  // NaN would silently switch the future-timestamp rule off (every comparison with it is false).
  if (!Number.isFinite(toleranceS) || toleranceS < 0) {
    throw new TypeError(
      `@viper/protocol normalizePayload: opts.toleranceS must be a number of seconds ≥ 0 (WEBHOOK_TOLERANCE_S), got ${String(toleranceS)}`,
    );
  }
  const latestMs = now.getTime() + toleranceS * 1000;

  if (Array.isArray(input)) {
    // The legacy nodes.json export: the whole current list of the hunter, timed at receipt.
    return withNodes(input, {
      event_type: "batch_test_complete",
      mode: "snapshot",
      timestamp: now.toISOString(),
      source: "spiderflow",
      region: null,
      total_count: null,
      verified_count: null,
      legacy: true,
      latestMs,
      warnings: [],
    });
  }
  if (typeof input !== "object" || input === null) {
    const got = input === null ? "null" : typeof input;
    return fail([
      {
        path: "",
        message: `the payload must be a JSON object (v1 envelope) or an array of nodes, not ${got}`,
      },
    ]);
  }
  const parsed = payloadEnvelopeSchema.safeParse(input);
  if (!parsed.success) {
    return fail(parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })));
  }
  const env = parsed.data;
  const tsMs = parseIsoInstant(env.timestamp) ?? Number.NaN;
  if (tsMs > latestMs) {
    const ahead = Math.round((tsMs - now.getTime()) / 1000);
    return fail([
      {
        path: "timestamp",
        message: `timestamp ${env.timestamp} is ${ahead} s ahead of this receiver's clock (allowed: ${toleranceS} s); check the sender's clock`,
      },
    ]);
  }
  const warnings: string[] = [];
  return withNodes(env.nodes ?? [], {
    event_type: env.event_type,
    mode: env.mode ?? defaultMode(env.event_type),
    timestamp: new Date(tsMs).toISOString(),
    source: env.source ?? "spiderflow",
    region: env.region ?? null,
    total_count: informationalCount("total_count", env.total_count, warnings),
    verified_count: informationalCount("verified_count", env.verified_count, warnings),
    legacy: false,
    latestMs,
    warnings,
  });
}

interface Envelope {
  event_type: EventType;
  mode: Mode;
  timestamp: string;
  source: string;
  region: string | null;
  total_count: number | null;
  verified_count: number | null;
  legacy: boolean;
  latestMs: number;
  warnings: string[];
}

function withNodes(rawNodes: readonly unknown[], env: Envelope): NormalizeResult {
  const { legacy, latestMs, warnings, ...head } = env;
  const ctx = { legacy, timestamp: env.timestamp, latestMs, warnings };
  const nodes: NormalizedNode[] = [];
  const rejected: NodeRejection[] = [];
  for (let i = 0; i < rawNodes.length; i++) {
    const outcome = normalizeNode(rawNodes[i], i, ctx);
    if (outcome.ok) nodes.push(outcome.node);
    else rejected.push({ index: i, reason: outcome.reason });
  }
  return { ok: true, payload: { ...head, nodes }, rejected, warnings };
}

function informationalCount(field: string, v: unknown, warnings: string[]): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  warnings.push(`${field} ${JSON.stringify(v)?.slice(0, 40)} is not a non-negative integer; ignored`);
  return null;
}

function fail(issues: PayloadIssue[]): NormalizeResult {
  return { ok: false, issues };
}
