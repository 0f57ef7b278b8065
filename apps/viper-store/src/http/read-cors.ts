import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

const READ_METHODS = ["GET", "HEAD"];

/**
 * CORS for the read endpoints only (`CORS_ORIGINS`). A browser page of an allowed origin may GET the
 * API; it never gets CORS headers for a write (webhook, checks, admin), whose preflight therefore fails
 * in the browser. No origins configured → a no-op: no CORS header on any response.
 */
export function readCors(origins: readonly string[]): MiddlewareHandler {
  const allowAll = origins.includes("*");
  const allowed = new Set(origins);
  const withCors = cors({
    origin: allowAll ? "*" : (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: READ_METHODS,
    maxAge: 600,
  });
  return async function readCorsMiddleware(c, next) {
    if (origins.length === 0) return next();
    const method = c.req.method;
    const preflightOfRead =
      method === "OPTIONS" && READ_METHODS.includes(c.req.header("Access-Control-Request-Method") ?? "");
    if (!READ_METHODS.includes(method) && !preflightOfRead) return next();
    return withCors(c, next);
  };
}
