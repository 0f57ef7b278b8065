/** Header names of both signature schemes (lower case, as Node and `Headers` report them). */
export const SIGNATURE_HEADERS = {
  /** v1 (Standard Webhooks): message id, stable across retries. */
  id: "webhook-id",
  /** v1: unix seconds of this attempt. */
  timestamp: "webhook-timestamp",
  /** v1: space-separated `v1,<base64>` entries, one per secret. */
  signature: "webhook-signature",
  /** Legacy (Python hunters): unix seconds or ISO 8601 with an offset. */
  legacyTimestamp: "x-webhook-timestamp",
  /** Legacy: lowercase hex HMAC-SHA256, optionally prefixed `sha256=`. */
  legacySignature: "x-webhook-signature",
} as const;

/** Default `WEBHOOK_TOLERANCE_S`: how far a timestamp may be from now, in either direction. */
export const DEFAULT_TOLERANCE_S = 300;

/** Every error thrown for misuse starts with this, so its origin is obvious in a stack-less log line. */
export const MISUSE_PREFIX = "@viper/protocol:";
