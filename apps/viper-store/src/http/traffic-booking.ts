import { STATUS_CODES } from "node:http";
import type { MiddlewareHandler } from "hono";
import type { Db } from "../db/client.js";
import { bookTraffic, type TrafficMechanism } from "../db/traffic-queries.js";

/** Body sizes as read off the wire by the handler (a chunked body has no Content-Length). */
const wireBodySizes = new WeakMap<Request, number>();

/** Called by a handler once it has read a request body: the ledger books these bytes. */
export function noteRequestBodyBytes(request: Request, bytes: number): void {
  wireBodySizes.set(request, bytes);
}

/**
 * Books every request of the routes below it in the traffic ledger once the response is
 * known: bytes in = request line + header lines + body; bytes out = status line + header lines
 * + body. Header bytes are approximated from the header lines Node sees (HTTP/1.1 framing).
 * The booking is awaited, so the entry is visible when the client has its answer; a failed
 * booking is logged and never changes the answer.
 */
export function bookRequestTraffic(
  db: Db,
  mechanism: TrafficMechanism,
  log: (message: string) => void,
): MiddlewareHandler {
  return async function bookTrafficOfRequest(c, next) {
    await next();
    try {
      const request = c.req.raw;
      const url = new URL(request.url);
      const declared = Number(request.headers.get("content-length") ?? 0);
      const bodyIn = wireBodySizes.get(request) ?? (Number.isFinite(declared) ? declared : 0);
      const bytesIn =
        headLength(`${request.method} ${url.pathname}${url.search} HTTP/1.1`, request.headers) + bodyIn;
      const response = c.res;
      const bodyOut = response.body ? (await response.clone().arrayBuffer()).byteLength : 0;
      const statusLine = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`;
      // Node adds Date, Connection/Keep-Alive and Content-Length or Transfer-Encoding itself.
      const added =
        "date: Thu, 01 Jan 2026 00:00:00 GMT\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n";
      const bytesOut = headLength(statusLine, response.headers) + added.length + bodyOut;
      await bookTraffic(db, { mechanism, bytesIn, bytesOut });
    } catch (err) {
      log(`viper-store: booking ${mechanism} traffic failed: ${(err as Error).message}`);
    }
  };
}

function headLength(startLine: string, headers: Headers): number {
  let size = Buffer.byteLength(`${startLine}\r\n`) + 2;
  headers.forEach((value, name) => {
    size += Buffer.byteLength(`${name}: ${value}\r\n`);
  });
  return size;
}
