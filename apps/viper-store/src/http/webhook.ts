import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Db } from "../db/client.js";
import { isDatabaseUnavailable } from "../services/db-errors.js";
import {
  applyWebhookDelivery,
  authenticate,
  type IngestConfig,
  type IngestRejection,
  parseJsonBody,
  prepareDelivery,
  recordRejection,
} from "../services/ingest.js";
import { BadEncodingError, BodyTooLargeError, gunzipCapped, readBodyCapped } from "./read-body.js";
import { bookRequestTraffic, noteRequestBodyBytes } from "./traffic-booking.js";

export interface WebhookDeps {
  db: Db;
  ingest: IngestConfig;
  maxBodyBytes: number;
  /** Registers work that graceful shutdown must wait for. */
  track<T>(work: Promise<T>): Promise<T>;
  log(message: string): void;
}

const STATUS: Record<IngestRejection["code"], ContentfulStatusCode> = {
  unauthorized: 401,
  forbidden: 403,
  invalid_json: 400,
  invalid_payload: 400,
};

/** `POST /webhook/nodes-update` and `POST /webhook/test-connection` (DESIGN 4). */
export function webhookRoutes(deps: WebhookDeps): Hono {
  const app = new Hono();
  app.use("*", bookRequestTraffic(deps.db, "webhook", deps.log));

  app.post("/nodes-update", (c) => deps.track(handleNodesUpdate(c, deps)));

  app.post("/test-connection", async (c) => {
    const now = new Date();
    let wire: Uint8Array;
    try {
      wire = await readBodyCapped(c.req.raw, deps.maxBodyBytes);
    } catch (err) {
      return tooLarge(c, err);
    }
    noteRequestBodyBytes(c.req.raw, wire.byteLength);
    const auth = authenticate(wire, headerRecord(c.req.raw.headers), deps.ingest, now);
    if (!auth.ok) return refuse(c, auth.rejection);
    return c.json({
      status: "connected",
      receiver: "viper-store",
      protocol_version: 1,
      server_time: now.toISOString(),
      clock_skew_s: Math.round(now.getTime() / 1000 - auth.timestamp),
    });
  });

  return app;
}

type Decoded =
  | { ok: true; id: string; role: "hunter" | "prober"; json: unknown; bytes: number }
  | { ok: false; response: Response };

async function handleNodesUpdate(c: Context, deps: WebhookDeps): Promise<Response> {
  const receivedAt = new Date();
  const reject = async (rejection: IngestRejection) => {
    await recordRejection(deps.db, rejection.message, receivedAt);
    return refuse(c, rejection);
  };
  const decoded = await decodeDelivery(c, deps, receivedAt, reject);
  if (!decoded.ok) return decoded.response;
  const prepared = prepareDelivery(decoded.json, decoded.role, deps.ingest, receivedAt);
  // The parsed body can be hundreds of MB of objects for a 30 MB snapshot: let it go before the merge.
  decoded.json = undefined;
  if (!prepared.ok) return reject(prepared.rejection);

  try {
    const outcome = await applyWebhookDelivery(deps.db, decoded.id, prepared, receivedAt, decoded.bytes);
    if (outcome.status === "duplicate") return c.json(outcome, 200);
    const { duration_ms, ...reply } = outcome;
    c.header("Server-Timing", `merge;dur=${duration_ms}`);
    return c.json(reply, 200);
  } catch (err) {
    if (isDatabaseUnavailable(err)) {
      deps.log(`viper-store: database unavailable while applying ${decoded.id}: ${(err as Error).message}`);
      c.header("Retry-After", "5");
      return c.json(errorBody("database_unavailable", "the database is unavailable; retry later"), 503);
    }
    throw err;
  }
}

/** Media type → size-capped raw bytes → signature over those bytes → gunzip (capped) → JSON. */
async function decodeDelivery(
  c: Context,
  deps: WebhookDeps,
  receivedAt: Date,
  reject: (r: IngestRejection) => Promise<Response>,
): Promise<Decoded> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") {
    const got = JSON.stringify(c.req.header("content-type") ?? "(none)");
    return {
      ok: false,
      response: c.json(
        errorBody("unsupported_media_type", `Content-Type must be application/json, got ${got}`),
        415,
      ),
    };
  }
  const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    const message = `Content-Encoding must be gzip or absent, got ${JSON.stringify(encoding)}`;
    return { ok: false, response: c.json(errorBody("unsupported_media_type", message), 415) };
  }

  let wire: Uint8Array;
  try {
    wire = await readBodyCapped(c.req.raw, deps.maxBodyBytes);
  } catch (err) {
    return { ok: false, response: tooLarge(c, err) };
  }
  noteRequestBodyBytes(c.req.raw, wire.byteLength);
  const auth = authenticate(wire, headerRecord(c.req.raw.headers), deps.ingest, receivedAt);
  if (!auth.ok) return { ok: false, response: await reject(auth.rejection) };

  let body = wire;
  if (encoding === "gzip") {
    try {
      body = await gunzipCapped(wire, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BadEncodingError) {
        return { ok: false, response: await reject({ code: "invalid_json", message: err.message }) };
      }
      return { ok: false, response: tooLarge(c, err) };
    }
  }
  const parsed = parseJsonBody(body);
  if (!parsed.ok)
    return { ok: false, response: await reject({ code: "invalid_json", message: parsed.message }) };
  return { ok: true, id: auth.id, role: auth.role, json: parsed.value, bytes: wire.byteLength };
}

function refuse(c: Context, rejection: IngestRejection): Response {
  const body: Record<string, unknown> = errorBody(rejection.code, rejection.message);
  if (rejection.code === "invalid_payload") body.issues = rejection.issues;
  return c.json(body, STATUS[rejection.code]);
}

/** 413, and close the connection: the rest of that body is never read or applied. */
function tooLarge(c: Context, err: unknown): Response {
  if (!(err instanceof BodyTooLargeError)) {
    // The sender went away mid-body (or the stream broke): nobody reads this answer, but it is the
    // sender's fault, not ours — a 400, not a 500 with a stack trace in the log.
    c.header("Connection", "close");
    return c.json(
      errorBody("incomplete_body", `the request body could not be read: ${(err as Error).message}`),
      400,
    );
  }
  c.header("Connection", "close");
  return c.json(errorBody("payload_too_large", `${err.message}; send smaller batches`), 413);
}

function errorBody(error: string, message: string): Record<string, unknown> {
  return { status: "error", error, message };
}

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}
