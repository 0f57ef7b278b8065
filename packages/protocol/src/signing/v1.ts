import { createHmac } from "node:crypto";
import type { SigningSecret } from "../secrets.js";
import { type HmacInput, type RawBody, toHmacInput } from "./body.js";
import { MISUSE_PREFIX } from "./constants.js";
import { resolveSecrets } from "./secret-cache.js";
import { uuidV7 } from "./uuid-v7.js";

/** Secrets as written in `WEBHOOK_SECRET`: one string (whitespace-separated) or an array. */
export type SecretsInput = string | readonly string[];

/** The three headers of a v1 signed request. */
// A type alias, not an interface, so it is assignable to header records (fetch, verifyRequest).
export type WebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/** Options of {@link signRequest}. */
export interface SignRequestOptions {
  /** The exact body bytes that will be sent (after gzip, if the request is gzipped). */
  body: RawBody;
  /** Every active secret; one `v1,` entry is written per secret. */
  secrets: SecretsInput;
  /** Message id, stable across retries of one message. Default: a fresh UUIDv7. */
  id?: string;
  /** Unix seconds of this attempt. Default: now. Re-sign on every retry. */
  timestamp?: number;
}

/**
 * Signs a request (DESIGN.md 3.1, Standard Webhooks compatible): HMAC-SHA256 over
 * `{id}.{timestamp}.{body}` with each secret.
 *
 * @returns the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers to send with `body`.
 * @throws {TypeError} on a non-bytes body, a bad id or timestamp.
 * @throws {SecretError} when a secret is refused by {@link parseSecrets}.
 */
export function signRequest(options: SignRequestOptions): WebhookHeaders {
  const body = toHmacInput(options.body, "signRequest");
  const secrets = resolveSecrets(options.secrets);
  const id = options.id ?? uuidV7();
  if (!isValidMessageId(id)) {
    throw new TypeError(
      `${MISUSE_PREFIX} signRequest: id must be 1-256 printable ASCII characters without spaces, got ${describeId(id)}`,
    );
  }
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError(
      `${MISUSE_PREFIX} signRequest: timestamp must be whole unix seconds (e.g. Math.floor(Date.now() / 1000)), got ${String(timestamp)}`,
    );
  }
  const ts = String(timestamp);
  const signature = secrets.map((secret) => `v1,${v1Signature(secret, id, ts, body)}`).join(" ");
  return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature };
}

/** base64 HMAC-SHA256 of `{id}.{ts}.{body}`, fed in two parts so the body is never copied. */
export function v1Signature(secret: SigningSecret, id: string, ts: string, body: HmacInput): string {
  return createHmac("sha256", secret.key).update(`${id}.${ts}.`).update(body).digest("base64");
}

/**
 * A message id is opaque: 1-256 visible ASCII characters (0x21-0x7E). Spaces are excluded because HTTP
 * trims them from header values, so an id with one could not survive the trip.
 */
export function isValidMessageId(id: unknown): id is string {
  return typeof id === "string" && /^[\x21-\x7e]{1,256}$/.test(id);
}

function describeId(id: unknown): string {
  if (typeof id !== "string") return typeof id;
  if (id.length === 0) return "an empty string";
  if (id.length > 256) return `${id.length} characters`;
  return "a value with spaces, control or non-ASCII characters";
}
