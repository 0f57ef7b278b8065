import { STATUS_CODES } from "node:http";
import { contentHash, verifyRequest } from "@viper/protocol";
import { request } from "undici";
import type { Db } from "../db/client.js";
import type { DeliveryCounts } from "../db/merge-queries.js";
import { bookTraffic } from "../db/traffic-queries.js";
import { BadEncodingError, BodyTooLargeError, collectCapped, gunzipCapped } from "./capped-body.js";
import { parseJsonBody, prepareDelivery } from "./ingest.js";
import { mergeDelivery } from "./merge-delivery.js";

/**
 * One poll of the hunter's feed (DESIGN 3.5 and 6): conditional GET, the raw body as sent,
 * the signature checked over those bytes with WEBHOOK_SECRET, gunzip with a cap, then the
 * webhook's merge (mechanism `poll`). Every response's bytes are booked in the traffic ledger.
 */

export interface FeedPollConfig {
  /** Full feed URL (SPIDERFLOW_FEED_URL, or SPIDERFLOW_API_URL + /api/nodes/feed). */
  url: string;
  /** WEBHOOK_SECRET: the hunter's secret. A prober secret never authenticates a feed. */
  secrets: string;
  toleranceS: number;
  maxBodyBytes: number;
  timeoutMs: number;
}

/** What the poller remembers between polls (kept in sync_state, key `poll`). */
export interface FeedPollMemory {
  /** ETag of the last content that was applied (sent as If-None-Match). */
  lastEtag: string | null;
  /** Content hash of the last content this poller applied. Webhooks never set it. */
  lastAppliedHash: string | null;
}

export interface PollCounts extends DeliveryCounts {
  rejected: number;
}

export interface PollOutcome {
  /** `changed`: new content applied; `not_modified`: 304 or the content applied already; `error`: nothing applied. */
  result: "changed" | "not_modified" | "error";
  /** Why not modified: `304`, `same_etag` or `same_content_hash`; or `applied_without_changes`. */
  reason?: string;
  error?: string;
  /** HTTP status of the feed's answer (absent when there was none). */
  status?: number;
  etag: string | null;
  content_hash?: string;
  /** The payload's source (when the body was read). */
  source?: string;
  delivery_id?: string;
  counts?: PollCounts;
  /** Bytes on the wire: response (status line, headers, body as sent) and request. */
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  /** What to remember for the next poll. */
  memory: FeedPollMemory;
}

/** Polls once; never throws for feed or network trouble (that is an `error` outcome). */
export async function pollFeedOnce(
  db: Db,
  config: FeedPollConfig,
  memory: FeedPollMemory,
  signal?: AbortSignal,
): Promise<PollOutcome> {
  const started = performance.now();
  const duration = () => Math.round(performance.now() - started);
  const fail = (error: string, extra: Partial<PollOutcome> = {}): PollOutcome => ({
    result: "error",
    error,
    etag: null,
    bytes_in: 0,
    bytes_out: 0,
    ...extra,
    duration_ms: duration(),
    memory,
  });

  const requestHeaders: Record<string, string> = {
    accept: "application/json",
    "accept-encoding": "gzip",
    "user-agent": "viper-store",
  };
  if (memory.lastEtag) requestHeaders["if-none-match"] = memory.lastEtag;
  const target = new URL(config.url);
  const bytesOut = requestSize(target, requestHeaders);
  const timeout = AbortSignal.timeout(config.timeoutMs);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;

  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(target, {
      method: "GET",
      headers: requestHeaders,
      signal: abort,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
  } catch (err) {
    return fail(`feed ${safeUrl(target)} unreachable: ${describe(err, timeout, config.timeoutMs)}`);
  }

  const status = response.statusCode;
  const headers = flatHeaders(response.headers);
  const headerBytes = responseHeadSize(status, response.headers);
  const etag = headers.etag ?? null;
  const book = (bodyBytes: number) =>
    bookTraffic(db, { mechanism: "poll", bytesIn: headerBytes + bodyBytes, bytesOut });
  const traffic = (bodyBytes: number) => ({
    bytes_in: headerBytes + bodyBytes,
    bytes_out: bytesOut,
    status,
    etag,
  });

  if (status === 304) {
    await response.body.dump().catch(() => {});
    await book(0);
    return {
      result: "not_modified",
      reason: "304",
      ...traffic(0),
      duration_ms: duration(),
      memory: { ...memory, lastEtag: etag ?? memory.lastEtag },
    };
  }

  let wire: Uint8Array;
  try {
    wire = await collectCapped(response.body, config.maxBodyBytes);
  } catch (err) {
    response.body.destroy();
    await book(0);
    if (err instanceof BodyTooLargeError) {
      return fail(`feed answer exceeds MAX_BODY_BYTES (${config.maxBodyBytes} bytes)`, traffic(0));
    }
    return fail(`reading the feed answer failed: ${describe(err, timeout, config.timeoutMs)}`, traffic(0));
  }
  await book(wire.byteLength);
  const sent = traffic(wire.byteLength);

  if (status !== 200) {
    const text = new TextDecoder().decode(wire.subarray(0, 300)).trim();
    return fail(`feed answered ${status}${text ? `: ${text}` : ""}`, sent);
  }
  const auth = verifyRequest({
    body: wire,
    headers,
    secrets: config.secrets,
    toleranceS: config.toleranceS,
    acceptLegacy: false,
  });
  if (!auth.ok) {
    return fail(`feed signature refused (checked with WEBHOOK_SECRET): ${auth.reason}`, sent);
  }
  const taggedHash = etag ? etag.replace(/^W\//, "").replace(/^"|"$/g, "") : null;
  if (taggedHash && taggedHash === memory.lastAppliedHash) {
    return {
      result: "not_modified",
      reason: "same_etag",
      ...sent,
      duration_ms: duration(),
      memory: { ...memory, lastEtag: etag },
    };
  }

  let body = wire;
  if ((headers["content-encoding"] ?? "identity").trim().toLowerCase() === "gzip") {
    try {
      body = await gunzipCapped(wire, config.maxBodyBytes);
    } catch (err) {
      if (err instanceof BadEncodingError) return fail(`feed body: ${err.message}`, sent);
      return fail(`feed body exceeds MAX_BODY_BYTES (${config.maxBodyBytes} bytes) after gunzip`, sent);
    }
  }
  const parsed = parseJsonBody(body);
  if (!parsed.ok) return fail(`feed body: ${parsed.message}`, sent);
  const receivedAt = new Date();
  const prepared = prepareDelivery(
    parsed.value,
    "hunter",
    { secrets: config.secrets, toleranceS: config.toleranceS, acceptLegacy: false },
    receivedAt,
  );
  if (!prepared.ok) return fail(`feed ${prepared.rejection.message}`, sent);

  const hash = contentHash(prepared.payload.nodes);
  const source = prepared.payload.source;
  const nextMemory: FeedPollMemory = { lastEtag: etag, lastAppliedHash: hash };
  if (hash === memory.lastAppliedHash) {
    return {
      result: "not_modified",
      reason: "same_content_hash",
      content_hash: hash,
      source,
      ...sent,
      duration_ms: duration(),
      memory: nextMemory,
    };
  }
  // The poller's own id: the same content may arrive again later (A → B → A) and must apply.
  const deliveryId = `poll_${hash.slice(0, 16)}_${receivedAt.getTime()}`;
  const merged = await mergeDelivery(db, {
    deliveryId,
    mechanism: "poll",
    payload: prepared.payload,
    rejected: prepared.rejected,
    receivedAt,
    bytes: wire.byteLength,
    contentHash: hash,
  });
  if (merged.status === "duplicate") {
    return fail(`delivery id ${deliveryId} already exists (two polls in the same millisecond?)`, sent);
  }
  const counts: PollCounts = {
    received: merged.received,
    inserted: merged.inserted,
    updated: merged.updated,
    unchanged: merged.unchanged,
    stale: merged.stale,
    revived: merged.revived,
    rejected: merged.rejected.length,
  };
  // Content a webhook already brought in applies as a no-op: no change, no history rows.
  const changed = counts.inserted + counts.updated + counts.stale > 0;
  return {
    result: changed ? "changed" : "not_modified",
    ...(changed ? {} : { reason: "applied_without_changes" }),
    content_hash: hash,
    source,
    delivery_id: deliveryId,
    counts,
    ...sent,
    duration_ms: duration(),
    memory: nextMemory,
  };
}

/** The feed URL from the environment: SPIDERFLOW_FEED_URL wins; else the API base + /api/nodes/feed. */
export function feedUrlFrom(env: {
  SPIDERFLOW_API_URL?: string | undefined;
  SPIDERFLOW_FEED_URL?: string | undefined;
}) {
  if (env.SPIDERFLOW_FEED_URL) return env.SPIDERFLOW_FEED_URL;
  if (!env.SPIDERFLOW_API_URL) return undefined;
  return `${env.SPIDERFLOW_API_URL.replace(/\/+$/, "")}/api/nodes/feed`;
}

type RawHeaders = Record<string, string | string[] | undefined>;

function flatHeaders(headers: RawHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** Status line + header lines + the blank line, as they crossed the wire (HTTP/1.1). */
function responseHeadSize(status: number, headers: RawHeaders): number {
  let size = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n`.length + 2;
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      size += Buffer.byteLength(`${name}: ${v}\r\n`);
    }
  }
  return size;
}

/** Request line + Host + our headers + the connection header undici adds. */
function requestSize(url: URL, headers: Record<string, string>): number {
  let size = Buffer.byteLength(`GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`);
  size += "connection: keep-alive\r\n".length + 2;
  for (const [name, value] of Object.entries(headers)) size += Buffer.byteLength(`${name}: ${value}\r\n`);
  return size;
}

function safeUrl(url: URL): string {
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  return copy.toString();
}

function describe(err: unknown, timeout: AbortSignal, timeoutMs: number): string {
  if (timeout.aborted) return `no answer within ${timeoutMs} ms`;
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.message || e.cause?.message || String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
