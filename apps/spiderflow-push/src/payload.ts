import {
  contentHash,
  type EventType,
  type Mode,
  type NodeRejection,
  type NormalizedNode,
  normalizePayload,
  type Payload,
} from "@viper/protocol";
import { PayloadError } from "./errors.js";

/** A node as the hunter produces it (DESIGN 3.3 Node: `url` or `link`, name, country, metrics …). */
export type NodeInput = Readonly<Record<string, unknown>>;

/** Envelope fields a caller may set or override. */
export interface EnvelopeOverrides {
  eventType?: EventType;
  mode?: Mode;
  source?: string;
  region?: string | null;
  /** When the batch was measured; default now. */
  timestamp?: Date | string;
}

/** A normalised payload ready to send: the bytes, and what the receiver will see in them. */
export interface PreparedPayload {
  payload: Payload;
  rejected: NodeRejection[];
  warnings: string[];
  contentHash: string;
  /** UTF-8 JSON of the wire payload (before any Content-Encoding). */
  json: Uint8Array;
}

/** DESIGN 3.3: snapshot for batch_test_complete and nodes_snapshot, else delta. */
export function defaultMode(eventType: EventType): Mode {
  return eventType === "batch_test_complete" || eventType === "nodes_snapshot" ? "snapshot" : "delta";
}

function isoTimestamp(value: Date | string): string {
  return typeof value === "string" ? value : value.toISOString();
}

/**
 * Builds a v1 payload from the hunter's nodes (v1 semantics: `speed` is MB/s) and normalises it
 * with `@viper/protocol`, exactly as the receiver will.
 */
export function prepareFromNodes(
  nodes: readonly NodeInput[],
  envelope: EnvelopeOverrides & { eventType: EventType; source: string },
  now: Date = new Date(),
): PreparedPayload {
  const document: Record<string, unknown> = {
    event_type: envelope.eventType,
    mode: envelope.mode ?? defaultMode(envelope.eventType),
    timestamp: isoTimestamp(envelope.timestamp ?? now),
    source: envelope.source,
    nodes,
  };
  if (envelope.region) document.region = envelope.region;
  return normalizeOrThrow(document, now);
}

/**
 * Prepares a parsed JSON document: a v1 payload object, or a bare array (the legacy nodes.json
 * export, whose `speed` values are scores). Overrides replace the document's own envelope fields;
 * a bare array's timestamp (or a payload's missing one) is `overrides.timestamp` or now.
 */
export function prepareFromDocument(
  document: unknown,
  overrides: EnvelopeOverrides = {},
  now: Date = new Date(),
): PreparedPayload {
  if (Array.isArray(document)) {
    const receivedAt = overrides.timestamp === undefined ? now : new Date(overrides.timestamp);
    // The bare array's timestamp (and its nodes' default tested_at) is "receipt" time: here, when the
    // caller says the batch was made (a file's mtime for the feed), else now.
    const prepared = normalizeOrThrow(document, receivedAt);
    return applyOverrides(prepared, overrides);
  }
  if (document !== null && typeof document === "object") {
    const merged: Record<string, unknown> = { ...(document as Record<string, unknown>) };
    if (overrides.eventType) {
      merged.event_type = overrides.eventType;
      if (!overrides.mode && merged.mode === undefined) merged.mode = defaultMode(overrides.eventType);
    }
    if (overrides.mode) merged.mode = overrides.mode;
    if (overrides.source) merged.source = overrides.source;
    if (overrides.region !== undefined) merged.region = overrides.region;
    if (overrides.timestamp !== undefined) merged.timestamp = isoTimestamp(overrides.timestamp);
    // Like a bare array, a hand-written payload without a timestamp is timed at push time (and says so).
    const untimed = merged.timestamp === undefined;
    if (untimed) merged.timestamp = now.toISOString();
    const prepared = normalizeOrThrow(merged, now);
    if (untimed)
      prepared.warnings.unshift(`the payload has no timestamp; using the push time ${now.toISOString()}`);
    return prepared;
  }
  throw new PayloadError([{ path: "", message: "expected a JSON object (v1 payload) or an array of nodes" }]);
}

function applyOverrides(prepared: PreparedPayload, overrides: EnvelopeOverrides): PreparedPayload {
  const payload: Payload = { ...prepared.payload };
  if (overrides.eventType) {
    payload.event_type = overrides.eventType;
    payload.mode = overrides.mode ?? defaultMode(overrides.eventType);
  }
  if (overrides.mode) payload.mode = overrides.mode;
  if (overrides.source) payload.source = overrides.source;
  if (overrides.region !== undefined) payload.region = overrides.region;
  return { ...prepared, payload, json: encodePayload(payload) };
}

function normalizeOrThrow(input: unknown, now: Date): PreparedPayload {
  const result = normalizePayload(input, { now });
  if (!result.ok) throw new PayloadError(result.issues);
  const payload = result.payload;
  return {
    payload,
    rejected: result.rejected,
    warnings: result.warnings,
    contentHash: contentHash(payload.nodes),
    json: encodePayload(payload),
  };
}

/** The node as sent: DESIGN 3.3 fields only (`id` and `node_key` are derived by the receiver). */
function toWireNode(node: NormalizedNode): Record<string, unknown> {
  const { id: _id, node_key: _key, ...wire } = node;
  return wire;
}

/** UTF-8 JSON bytes of a payload as it goes on the wire. */
export function encodePayload(payload: Payload): Uint8Array {
  const wire: Record<string, unknown> = { ...payload, nodes: payload.nodes.map(toWireNode) };
  return new TextEncoder().encode(JSON.stringify(wire));
}
