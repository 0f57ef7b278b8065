import { gzipSync } from "node:zlib";
import { type Payload, signRequest } from "@viper/protocol";
import { Hono } from "hono";
import { acceptsGzip, ifNoneMatchMatches } from "./negotiation.js";
import {
  encodePayload,
  type NodeInput,
  type PreparedPayload,
  prepareFromDocument,
  prepareFromNodes,
} from "./payload.js";
import { GZIP_THRESHOLD_BYTES } from "./pusher.js";
import { checkSecrets } from "./secrets.js";

/** The feed path (DESIGN 3.5). */
export const FEED_PATH = "/api/nodes/feed";

/**
 * What `getSnapshot` returns: the hunter's current nodes (v1 semantics), or a parsed JSON document
 * (a v1 payload or the legacy nodes.json array). `timestamp` is when the content last changed;
 * without it the feed uses the time it first saw the current content hash.
 */
export type FeedSnapshot =
  | { nodes: readonly NodeInput[]; timestamp?: Date | string }
  | { document: unknown; timestamp?: Date | string };

/** Options of {@link createNodesFeed}. */
export interface NodesFeedOptions {
  /** Called on every request; may be async. Throwing answers 503 with the message. */
  getSnapshot: () => FeedSnapshot | Promise<FeedSnapshot>;
  /** `WEBHOOK_SECRET` as written (one string or a list); the feed is signed with all of them. */
  secrets: string | readonly string[];
  /** Producer id for snapshots built from nodes; default `spiderflow`. */
  source?: string;
  region?: string | null;
  /** Called after each answer (for logs). */
  onRequest?: (info: { status: number; etag: string | null; bytes: number; gzip: boolean }) => void;
}

interface EncodedSnapshot {
  key: string;
  etag: string;
  identity: Uint8Array;
  gzip: Uint8Array | null;
}

/**
 * A Hono app serving `GET /api/nodes/feed`: the current snapshot (`event_type: nodes_snapshot`,
 * `mode: snapshot`), signed as in DESIGN 3.1 over the bytes as sent (after gzip when gzip is used),
 * `webhook-id: feed_<content hash>`, `ETag: "<content hash>"`, `Cache-Control: no-cache`, and `304`
 * for a matching `If-None-Match`. Mount it anywhere: `app.route("/", createNodesFeed(...))`.
 */
export function createNodesFeed(options: NodesFeedOptions): Hono {
  const secrets = checkSecrets(options.secrets);
  const source = options.source ?? "spiderflow";
  // When the snapshot has no timestamp of its own: the first time we saw the current content.
  let seen: { hash: string; since: Date } | undefined;
  let cache: EncodedSnapshot | undefined;

  function prepare(snapshot: FeedSnapshot): PreparedPayload {
    const timestamp = snapshot.timestamp;
    if ("nodes" in snapshot) {
      const prepared = prepareFromNodes(snapshot.nodes, {
        eventType: "nodes_snapshot",
        mode: "snapshot",
        source,
        region: options.region ?? null,
        ...(timestamp ? { timestamp } : {}),
      });
      return timestamp ? prepared : restamp(prepared);
    }
    const prepared = prepareFromDocument(snapshot.document, {
      eventType: "nodes_snapshot",
      mode: "snapshot",
      ...(timestamp ? { timestamp } : {}),
    });
    // A v1 payload keeps its own timestamp; a bare array or an untimed payload gets the change time
    // (not "now", which would move on every request while the content stays the same).
    return timestamp || hasOwnTimestamp(snapshot.document) ? prepared : restamp(prepared);
  }

  /** Sets the payload timestamp (and the node times defaulted from it) to when this content first appeared. */
  function restamp(prepared: PreparedPayload): PreparedPayload {
    if (!seen || seen.hash !== prepared.contentHash) seen = { hash: prepared.contentHash, since: new Date() };
    const since = seen.since.toISOString();
    const previous = prepared.payload.timestamp;
    if (previous === since) return prepared;
    const payload: Payload = {
      ...prepared.payload,
      timestamp: since,
      nodes: prepared.payload.nodes.map((node) =>
        node.tested_at === previous ? { ...node, tested_at: since } : node,
      ),
    };
    return { ...prepared, payload, json: encodePayload(payload) };
  }

  function encode(prepared: PreparedPayload): EncodedSnapshot {
    const key = `${prepared.contentHash}|${prepared.payload.timestamp}`;
    if (cache?.key === key) return cache;
    cache = {
      key,
      etag: `"${prepared.contentHash}"`,
      identity: prepared.json,
      gzip: prepared.json.byteLength > GZIP_THRESHOLD_BYTES ? new Uint8Array(gzipSync(prepared.json)) : null,
    };
    return cache;
  }

  const app = new Hono();
  app.get(FEED_PATH, async (c) => {
    let encoded: EncodedSnapshot;
    try {
      encoded = encode(prepare(await options.getSnapshot()));
    } catch (error) {
      options.onRequest?.({ status: 503, etag: null, bytes: 0, gzip: false });
      return c.json({ error: `the snapshot is not available: ${(error as Error).message}` }, 503);
    }
    const hash = encoded.etag.slice(1, -1);
    c.header("ETag", encoded.etag);
    c.header("Cache-Control", "no-cache");
    c.header("Vary", "Accept-Encoding");
    if (ifNoneMatchMatches(c.req.header("if-none-match"), encoded.etag)) {
      options.onRequest?.({ status: 304, etag: encoded.etag, bytes: 0, gzip: false });
      return c.body(null, 304);
    }
    const gzip = encoded.gzip !== null && acceptsGzip(c.req.header("accept-encoding"));
    const body = gzip && encoded.gzip ? encoded.gzip : encoded.identity;
    const signed = signRequest({
      body,
      secrets,
      id: `feed_${hash}`,
      timestamp: Math.floor(Date.now() / 1000),
    });
    for (const [name, value] of Object.entries(signed)) c.header(name, value);
    c.header("Content-Type", "application/json");
    if (gzip) c.header("Content-Encoding", "gzip");
    options.onRequest?.({ status: 200, etag: encoded.etag, bytes: body.byteLength, gzip });
    return c.body(body as Uint8Array<ArrayBuffer>, 200);
  });
  return app;
}

function hasOwnTimestamp(document: unknown): boolean {
  return (
    document !== null &&
    typeof document === "object" &&
    !Array.isArray(document) &&
    (document as { timestamp?: unknown }).timestamp !== undefined
  );
}
