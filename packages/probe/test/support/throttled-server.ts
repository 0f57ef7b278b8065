/**
 * A loopback file server for the precision test, paced to a known rate:
 *   GET /file?bytes=N[&rate=B/s][&ttfb=ms][&send=M][&chunked=1]
 * waits `ttfb` ms, then sends N bytes (or M, to play a server that ignores the asked size) at
 * `rate` bytes per second (unthrottled when absent); `&drop=K` cuts the connection after K bytes. Also /status/<code> and /redirect?to=<url>.
 * Counts requests per path and the body bytes it wrote, so tests can see what reached the server.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ThrottledServer {
  origin: string;
  /** Requests received for a path (`/file`, `/status/503`, …). */
  hits(path: string): number;
  /** Body bytes handed to the socket so far, over all requests. */
  bytesWritten(): number;
  /** Connections currently open. */
  openConnections(): number;
  close(): Promise<void>;
}

const PACE_MS = 5;
const CHUNK = Buffer.alloc(256 * 1024, 0x62);

export async function startThrottledServer(): Promise<ThrottledServer> {
  const hits = new Map<string, number>();
  const sockets = new Set<Socket>();
  let written = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) return void res.writeHead(Number(status[1]), { "content-type": "text/plain" }).end("no\n");
    if (url.pathname === "/redirect") {
      return void res.writeHead(302, { location: url.searchParams.get("to") ?? "/" }).end();
    }
    if (url.pathname !== "/file") return void res.writeHead(404).end();
    const size = Number(url.searchParams.get("send") ?? url.searchParams.get("bytes") ?? 0);
    const rate = Number(url.searchParams.get("rate") ?? 0);
    const ttfb = Number(url.searchParams.get("ttfb") ?? 0);
    const chunked = url.searchParams.get("chunked") === "1";
    const drop = url.searchParams.has("drop") ? Number(url.searchParams.get("drop")) : null;
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        ...(chunked ? {} : { "content-length": size }),
      });
      res.flushHeaders();
      send(
        res,
        drop ?? size,
        rate,
        (n) => {
          written += n;
        },
        drop === null ? () => res.end() : () => res.socket?.end(),
      );
    }, ttfb);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: (path) => hits.get(path) ?? 0,
    bytesWritten: () => written,
    openConnections: () => sockets.size,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Sends `size` bytes at `rate` B/s: every few ms, whatever the clock says is due. */
function send(
  res: ServerResponse,
  size: number,
  rate: number,
  onWrite: (n: number) => void,
  finish: () => void,
): void {
  const started = performance.now();
  let sent = 0;
  const pump = () => {
    if (res.destroyed) return;
    const due = rate > 0 ? Math.min(size, Math.floor((rate * (performance.now() - started)) / 1000)) : size;
    while (sent < due) {
      const n = Math.min(due - sent, CHUNK.length);
      sent += n;
      onWrite(n);
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once("drain", pump);
        return;
      }
    }
    // (A cut connection is a FIN after the data: `end()` flushes, `destroy()` would drop it.)
    if (sent >= size) finish();
    else setTimeout(pump, PACE_MS);
  };
  pump();
}
