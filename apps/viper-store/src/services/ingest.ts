import {
  type NodeRejection,
  type NormalizeResult,
  normalizePayload,
  type Payload,
  type PayloadIssue,
  verifyRequest,
} from "@viper/protocol";
import type { Db } from "../db/client.js";
import { countDelivery } from "../db/merge-queries.js";
import { type MergeOutcome, mergeDelivery } from "./merge-delivery.js";

/** What the receiver needs to know to judge a delivery. */
export interface IngestConfig {
  /** WEBHOOK_SECRET (the hunters' secrets, full rights). */
  secrets: string;
  /** PROBER_SECRETS: may only push `measurements`. */
  proberSecrets?: string | undefined;
  toleranceS: number;
  acceptLegacy: boolean;
}

export type IngestRejection =
  | { code: "unauthorized"; message: string }
  | { code: "forbidden"; message: string }
  | { code: "invalid_json"; message: string }
  | { code: "invalid_payload"; message: string; issues: PayloadIssue[] };

export type Authentication =
  | { ok: true; id: string; role: "hunter" | "prober"; timestamp: number }
  | { ok: false; rejection: IngestRejection };

/**
 * Checks the signature over the exact wire bytes. The hunters' secrets are tried first; a
 * request signed only by a prober secret is authentic but limited to measurements.
 */
export function authenticate(
  wire: Uint8Array,
  headers: Record<string, string>,
  config: IngestConfig,
  now: Date,
): Authentication {
  const common = {
    body: wire,
    headers,
    now: Math.floor(now.getTime() / 1000),
    toleranceS: config.toleranceS,
    acceptLegacy: config.acceptLegacy,
  };
  const hunter = verifyRequest({ ...common, secrets: config.secrets });
  if (hunter.ok) return { ok: true, id: hunter.id, role: "hunter", timestamp: hunter.timestamp };
  if (config.proberSecrets && hunter.code === "no_matching_signature") {
    const prober = verifyRequest({ ...common, secrets: config.proberSecrets });
    if (prober.ok) return { ok: true, id: prober.id, role: "prober", timestamp: prober.timestamp };
  }
  return { ok: false, rejection: { code: "unauthorized", message: hunter.reason } };
}

/** Parses JSON text; a UTF-8 BOM is tolerated, invalid UTF-8 or JSON is a 400. */
export function parseJsonBody(
  body: Uint8Array,
): { ok: true; value: unknown } | { ok: false; message: string } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    return { ok: false, message: "body is not valid UTF-8 text" };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: `body is not valid JSON: ${(err as Error).message}` };
  }
}

export type PreparedDelivery =
  | { ok: true; payload: Payload; rejected: NodeRejection[] }
  | { ok: false; rejection: IngestRejection };

/** Normalises a verified body and checks the signer's role; nothing is written. */
export function prepareDelivery(
  json: unknown,
  role: "hunter" | "prober",
  config: IngestConfig,
  receivedAt: Date,
): PreparedDelivery {
  const normalized: NormalizeResult = normalizePayload(json, {
    now: receivedAt,
    toleranceS: config.toleranceS,
  });
  if (!normalized.ok) {
    return {
      ok: false,
      rejection: {
        code: "invalid_payload",
        message: `invalid payload: ${normalized.issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
        issues: normalized.issues,
      },
    };
  }
  if (role === "prober" && normalized.payload.event_type !== "measurements") {
    return {
      ok: false,
      rejection: {
        code: "forbidden",
        message: `signed with a prober secret (PROBER_SECRETS), which may only push event_type "measurements", not "${normalized.payload.event_type}"`,
      },
    };
  }
  if (role === "prober" && RESERVED_SOURCES.has(normalized.payload.source)) {
    return {
      ok: false,
      rejection: {
        code: "forbidden",
        message: `signed with a prober secret (PROBER_SECRETS), which may not write as source "${normalized.payload.source}" (reserved for the hunter and the store itself); name the prober's own source, e.g. "viper-probe"`,
      },
    };
  }
  return { ok: true, payload: normalized.payload, rejected: normalized.rejected };
}

/** Sources a prober key may not write as: its measurements must never pass for the hunter's or the store's own. */
const RESERVED_SOURCES = new Set(["spiderflow", "viper-store", "precision"]);

/** Applies a prepared webhook delivery through the one merge. */
export function applyWebhookDelivery(
  db: Db,
  deliveryId: string,
  prepared: { payload: Payload; rejected: NodeRejection[] },
  receivedAt: Date,
  bytes: number,
): Promise<MergeOutcome> {
  return mergeDelivery(db, {
    deliveryId,
    mechanism: "webhook",
    payload: prepared.payload,
    rejected: prepared.rejected,
    receivedAt,
    bytes,
  });
}

/**
 * Refused requests cost their sender nothing, so they must not cost the database a write each: the
 * first refusal in a second is written at once, the rest of that second in one write when it ends.
 */
const REJECTION_FLUSH_MS = 1000;

interface PendingRejections {
  count: number;
  message: string;
  at: Date;
  lastWriteMs: number;
  timer?: NodeJS.Timeout;
}

const pendingByDb = new WeakMap<Db, PendingRejections>();

/** Counts a refused delivery for the sync status; best effort (the database may be the problem). */
export async function recordRejection(db: Db, message: string, at: Date): Promise<void> {
  let pending = pendingByDb.get(db);
  if (!pending) {
    pending = { count: 0, message, at, lastWriteMs: 0 };
    pendingByDb.set(db, pending);
  }
  pending.count++;
  pending.message = message;
  pending.at = at;
  const sinceWrite = Date.now() - pending.lastWriteMs;
  if (sinceWrite >= REJECTION_FLUSH_MS && !pending.timer) return flushRejections(db, pending);
  if (!pending.timer) {
    const p = pending;
    p.timer = setTimeout(() => {
      p.timer = undefined;
      void flushRejections(db, p);
    }, REJECTION_FLUSH_MS - sinceWrite);
    p.timer.unref();
  }
}

async function flushRejections(db: Db, pending: PendingRejections): Promise<void> {
  const count = pending.count;
  if (count === 0) return;
  pending.count = 0;
  pending.lastWriteMs = Date.now();
  const at = pending.at.toISOString();
  try {
    await countDelivery(
      db,
      "webhook",
      "rejected_count",
      at,
      { last_error: pending.message.slice(0, 500), last_rejected_at: at },
      count,
    );
  } catch {
    // The refusal itself is what the sender needs; a counter must never turn it into a 5xx.
  }
}
