import { createHmac } from "node:crypto";
import type { SigningSecret } from "../secrets.js";
import { type HmacInput, type RawBody, toHmacInput } from "./body.js";
import { MISUSE_PREFIX } from "./constants.js";
import { resolveSecrets } from "./secret-cache.js";
import type { SecretsInput } from "./v1.js";

/** The two headers of a legacy signed request. */
// A type alias, not an interface, so it is assignable to header records (fetch, verifyRequest).
export type LegacyWebhookHeaders = {
  "x-webhook-timestamp": string;
  "x-webhook-signature": string;
};

/** Options of {@link signLegacyRequest}. */
export interface SignLegacyRequestOptions {
  /** The exact body bytes that will be sent. */
  body: RawBody;
  /** Secrets as in `WEBHOOK_SECRET`; legacy carries one signature, made with the first secret. */
  secrets: SecretsInput;
  /**
   * Unix seconds (number) or the header text exactly as it will be sent (e.g. ISO 8601 with an offset).
   * Default: now, in unix seconds.
   */
  timestamp?: number | string;
  /** Write `sha256=<hex>` instead of bare hex. Default false. */
  prefix?: boolean;
}

/**
 * Signs a request the way the Python hunters do (DESIGN.md 3.2): lowercase hex HMAC-SHA256 over
 * `{body}.{X-Webhook-Timestamp}`. For tests and for documenting the Python side; new senders use
 * {@link signRequest}.
 *
 * @throws {TypeError} on a non-bytes body or a timestamp that cannot be a header value.
 * @throws {SecretError} when a secret is refused by {@link parseSecrets}.
 */
export function signLegacyRequest(options: SignLegacyRequestOptions): LegacyWebhookHeaders {
  const body = toHmacInput(options.body, "signLegacyRequest");
  const [secret] = resolveSecrets(options.secrets);
  const raw = options.timestamp ?? Math.floor(Date.now() / 1000);
  const ts = String(raw);
  // Printable ASCII without surrounding spaces: anything else would not arrive as sent (or split the header).
  const headerSafe =
    typeof raw === "number"
      ? Number.isFinite(raw) && raw >= 0
      : /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(ts);
  if (!headerSafe) {
    throw new TypeError(
      `${MISUSE_PREFIX} signLegacyRequest: timestamp must be unix seconds or printable ASCII header text, got ${JSON.stringify(ts)}`,
    );
  }
  const hex = legacySignature(secret!, body, ts);
  return { "x-webhook-timestamp": ts, "x-webhook-signature": options.prefix ? `sha256=${hex}` : hex };
}

/** Lowercase hex HMAC-SHA256 of `{body}.{ts}`. */
export function legacySignature(secret: SigningSecret, body: HmacInput, ts: string): string {
  return createHmac("sha256", secret.key).update(body).update(`.${ts}`).digest("hex");
}
