/** Longest wait a `Retry-After` header can impose; a larger value is capped to this. */
export const MAX_RETRY_AFTER_MS = 5 * 60 * 1000;

/**
 * Parses a `Retry-After` header (RFC 9110 10.2.3: delay-seconds or an HTTP date) into milliseconds
 * from `now`, capped at {@link MAX_RETRY_AFTER_MS}. Returns null for an absent or unreadable value,
 * so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === "") return null;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP date names its day and month ("Sun, 06 Nov 1994 08:49:37 GMT"); Date.parse alone would
  // also read "-5" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return null;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/**
 * Longest backoff between two attempts (before jitter). Without a cap, `PUSH_RETRIES=40` would ask
 * for years; Node's timers fire after 1 ms for any delay over 2^31-1 ms (24.8 days), so an
 * unbounded backoff turns into a tight retry loop.
 */
export const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * Exponential backoff with jitter: `baseMs * 2^(retry-1)` (at most {@link MAX_BACKOFF_MS}), scaled
 * by a random factor in [0.8, 1.2) so that many hunters restarted together do not retry in lockstep.
 */
export function backoffDelay(retry: number, baseMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(baseMs * 2 ** Math.max(0, retry - 1), MAX_BACKOFF_MS);
  return Math.round(exponential * (0.8 + 0.4 * random()));
}
