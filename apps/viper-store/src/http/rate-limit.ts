import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";

export interface RateLimitOptions {
  /** Requests allowed per window and client address. */
  limit: number;
  windowMs: number;
  /** Shown in the 429 message, e.g. "PROBE_PER_IP_PER_MINUTE". */
  variable: string;
  now?: () => number;
}

/** The client's address as the socket sees it (IPv4-mapped IPv6 unwrapped); X-Forwarded-For is not trusted. */
export function clientAddress(c: Context): string {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    address = undefined; // app.request() in tests has no socket
  }
  if (!address) return "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * Per-address fixed-window limit for the costly public endpoints (DESIGN 5): over the limit → 429
 * with `Retry-After`. Kept in this process's memory: a limit per replica, which is what protects
 * each replica's probes; global limits (precision concurrency, budget) live in the database.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new Error("rateLimit: limit must be ≥ 1");
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  return async function rateLimitMiddleware(c, next) {
    const t = now();
    const key = clientAddress(c);
    let w = windows.get(key);
    if (!w || t - w.start >= options.windowMs) {
      if (windows.size > 10_000)
        for (const [k, v] of windows) if (t - v.start >= options.windowMs) windows.delete(k);
      w = { start: t, count: 0 };
      windows.set(key, w);
    }
    if (w.count >= options.limit) {
      const retryAfterS = Math.max(1, Math.ceil((w.start + options.windowMs - t) / 1000));
      c.header("Retry-After", String(retryAfterS));
      return c.json(
        {
          status: "error",
          error: "rate_limited",
          message: `too many requests from ${key}: at most ${options.limit} per ${options.windowMs / 1000} s (${options.variable}); retry in ${retryAfterS} s`,
        },
        429,
      );
    }
    w.count++;
    await next();
  };
}
