import { createHash, timingSafeEqual } from "node:crypto";
import type { SigningSecret } from "../secrets.js";
import { type HmacInput, type RawBody, toHmacInput } from "./body.js";
import { DEFAULT_TOLERANCE_S, SIGNATURE_HEADERS as H, MISUSE_PREFIX } from "./constants.js";
import { type HeaderReader, type HeadersInput, headerReader } from "./headers.js";
import { legacySignature } from "./legacy.js";
import { resolveSecrets } from "./secret-cache.js";
import { parseLegacyTimestamp, parseUnixSeconds } from "./timestamp.js";
import { isValidMessageId, type SecretsInput, v1Signature } from "./v1.js";

/** Options of {@link verifyRequest}. */
export interface VerifyRequestOptions {
  /** The exact body bytes received (before any gunzip or JSON parsing). */
  body: RawBody;
  /** The request's headers. */
  headers: HeadersInput;
  /** The receiver's secrets as written in `WEBHOOK_SECRET`; any of them may match. */
  secrets: SecretsInput;
  /** Current unix seconds. Default: now. */
  now?: number;
  /** `WEBHOOK_TOLERANCE_S`: accepted |now − timestamp| in seconds. Default 300. */
  toleranceS?: number;
  /** `ACCEPT_LEGACY_SIGNATURES`: accept the Python hunters' X-Webhook-* scheme. Default false. */
  acceptLegacy?: boolean;
}

/** Why a request was not accepted. */
export type VerifyFailureCode =
  | "missing_headers"
  | "malformed_id"
  | "malformed_timestamp"
  | "naive_timestamp"
  | "outside_tolerance"
  | "no_matching_signature";

/** An authentic request. */
export interface VerifySuccess {
  ok: true;
  /** Message id to deduplicate on: `webhook-id`, or `legacy_` + sha256 hex of the legacy signature. */
  id: string;
  scheme: "v1" | "legacy";
  /** The signed timestamp in unix seconds (legacy ISO or decimal values may carry a fraction). */
  timestamp: number;
  /** Position (0-based) in the parsed `secrets` of the secret that matched, e.g. to see a rotation finish. */
  secretIndex: number;
}

/** A request to refuse (401). `reason` is safe to show to the sender. */
export interface VerifyFailure {
  ok: false;
  code: VerifyFailureCode;
  reason: string;
}

/** What verifyRequest returns: check `ok` first. */
export type VerifyResult = VerifySuccess | VerifyFailure;

/**
 * Verifies a signed request (DESIGN.md 3.1 and 3.2). A request with any `webhook-*` header is judged by
 * v1 alone; the legacy X-Webhook-* scheme is considered only without them and only if `acceptLegacy`.
 * A bad signature is a normal result, not an exception.
 *
 * @throws {TypeError} on misuse: a parsed object as body, bad `now`/`toleranceS`, secrets not strings.
 * @throws {SecretError} when a configured secret is refused by {@link parseSecrets}.
 */
export function verifyRequest(options: VerifyRequestOptions): VerifyResult {
  const body = toHmacInput(options.body, "verifyRequest");
  const secrets = resolveSecrets(options.secrets);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const toleranceS = options.toleranceS ?? DEFAULT_TOLERANCE_S;
  if (!Number.isFinite(now)) throw new TypeError(`${MISUSE_PREFIX} verifyRequest: now must be unix seconds`);
  if (!Number.isFinite(toleranceS) || toleranceS < 0) {
    throw new TypeError(`${MISUSE_PREFIX} verifyRequest: toleranceS must be a number of seconds ≥ 0`);
  }
  const get = headerReader(options.headers);
  const window = { now, toleranceS };
  if (get(H.id) !== undefined || get(H.timestamp) !== undefined || get(H.signature) !== undefined) {
    return verifyV1(get, body, secrets, window);
  }
  if (get(H.legacyTimestamp) === undefined && get(H.legacySignature) === undefined) {
    return fail(
      "missing_headers",
      "the request is not signed: no webhook-id, webhook-timestamp and webhook-signature headers",
    );
  }
  if (options.acceptLegacy !== true) {
    return fail(
      "missing_headers",
      "the request carries only legacy X-Webhook-Timestamp/X-Webhook-Signature headers and legacy signatures " +
        "are disabled: sign with webhook-id/webhook-timestamp/webhook-signature, or set " +
        "ACCEPT_LEGACY_SIGNATURES=true on the receiver",
    );
  }
  return verifyLegacy(get, body, secrets, window);
}

interface Window {
  now: number;
  toleranceS: number;
}

function verifyV1(
  get: HeaderReader,
  body: HmacInput,
  secrets: readonly SigningSecret[],
  window: Window,
): VerifyResult {
  const id = get(H.id);
  const ts = get(H.timestamp);
  const signature = get(H.signature);
  if (id === undefined || ts === undefined || signature === undefined) {
    const missing = [H.id, H.timestamp, H.signature].filter((name) => get(name) === undefined);
    return fail(
      "missing_headers",
      `missing ${missing.join(", ")} header(s); a signed request carries all three`,
    );
  }
  if (!isValidMessageId(id)) {
    return fail("malformed_id", "webhook-id must be 1-256 printable ASCII characters without spaces");
  }
  const parsed = parseUnixSeconds(ts);
  if (!parsed.ok) {
    return fail("malformed_timestamp", "webhook-timestamp must be whole unix seconds (digits only)");
  }
  const late = checkWindow(H.timestamp, parsed.seconds, window);
  if (late) return late;

  // Entries of other versions (v1a, v2, ...) are skipped, as Standard Webhooks asks. A trailing comma is
  // dropped because Node joins a repeated header with ", " and base64 never contains one.
  const candidates: Buffer[] = [];
  for (const entry of signature.split(/\s+/)) {
    // UTF-8, not latin1: latin1 keeps only the low byte of each character, so "\u0141" would equal "A".
    if (entry.startsWith("v1,")) candidates.push(Buffer.from(entry.slice(3).replace(/,$/, ""), "utf8"));
  }
  if (candidates.length === 0) {
    return fail("no_matching_signature", "webhook-signature holds no v1,<base64> signature entry");
  }
  for (let i = 0; i < secrets.length; i++) {
    const expected = Buffer.from(v1Signature(secrets[i]!, id, ts, body), "latin1");
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        return { ok: true, id, scheme: "v1", timestamp: parsed.seconds, secretIndex: i };
      }
    }
  }
  return noMatch(`${candidates.length} v1 entr${candidates.length === 1 ? "y" : "ies"}`, secrets.length);
}

function verifyLegacy(
  get: HeaderReader,
  body: HmacInput,
  secrets: readonly SigningSecret[],
  window: Window,
): VerifyResult {
  const ts = get(H.legacyTimestamp);
  const signature = get(H.legacySignature);
  if (ts === undefined || signature === undefined) {
    const which = ts === undefined ? "X-Webhook-Timestamp" : "X-Webhook-Signature";
    return fail("missing_headers", `legacy request without ${which} header`);
  }
  const parsed = parseLegacyTimestamp(ts);
  if (!parsed.ok) {
    return parsed.naive
      ? fail(
          "naive_timestamp",
          "X-Webhook-Timestamp has no UTC offset, so its instant is ambiguous: send unix seconds, or ISO 8601 " +
            "ending in Z or ±hh:mm (Python: datetime.now(timezone.utc).isoformat())",
        )
      : fail("malformed_timestamp", "X-Webhook-Timestamp must be unix seconds or ISO 8601 with an offset");
  }
  const late = checkWindow("X-Webhook-Timestamp", parsed.seconds, window);
  if (late) return late;
  const hex = signature.startsWith("sha256=") ? signature.slice(7) : signature;
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    return fail(
      "no_matching_signature",
      "X-Webhook-Signature must be a lowercase hex HMAC-SHA256 signature (64 characters, optionally sha256=)",
    );
  }
  const candidate = Buffer.from(hex, "latin1");
  for (let i = 0; i < secrets.length; i++) {
    const expected = Buffer.from(legacySignature(secrets[i]!, body, ts), "latin1");
    if (timingSafeEqual(candidate, expected)) {
      // Legacy has no message id: the signature itself stands in (a replayed copy has the same one).
      const id = `legacy_${createHash("sha256").update(hex).digest("hex")}`;
      return { ok: true, id, scheme: "legacy", timestamp: parsed.seconds, secretIndex: i };
    }
  }
  return noMatch("the X-Webhook-Signature", secrets.length);
}

function checkWindow(
  header: string,
  seconds: number,
  { now, toleranceS }: Window,
): VerifyFailure | undefined {
  const skew = now - seconds;
  if (Math.abs(skew) <= toleranceS) return undefined;
  const direction = skew > 0 ? "in the past" : "in the future";
  return fail(
    "outside_tolerance",
    `timestamp outside tolerance: ${header} is ${Math.round(Math.abs(skew))} s ${direction}, more than the ` +
      `${toleranceS} s accepted; check the sender's clock and sign each attempt afresh`,
  );
}

function noMatch(what: string, secretCount: number): VerifyFailure {
  return fail(
    "no_matching_signature",
    `no matching signature: ${what} matched none of the receiver's ${secretCount} secret(s); check that both ` +
      "sides share WEBHOOK_SECRET and that the exact body bytes as sent are verified",
  );
}

function fail(code: VerifyFailureCode, reason: string): VerifyFailure {
  return { ok: false, code, reason };
}
