/** A loopback download: GET /bytes/<n> answers n bytes (for openThroughNode). */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export async function startFileServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const server = createServer((req, res) => {
    const size = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? "")?.[1] ?? 0);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
    let left = size;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
