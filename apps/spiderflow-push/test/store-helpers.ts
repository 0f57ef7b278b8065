/** End-to-end helpers: a real viper-store on loopback, and network misbehaviour in front of it. */
import { existsSync, readdirSync } from "node:fs";
import type { Server } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { fixturesDir } from "./helpers.js";

/** Fixture snapshot files in commit order, or the reason they cannot be used. */
export function fixtureSnapshots(): { files: string[]; skipReason?: string } {
  const dir = join(fixturesDir(), "spiderflow-snapshots");
  if (!existsSync(dir)) return { files: [], skipReason: `fixtures not found at ${dir} (set FIXTURES_DIR)` };
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => join(dir, name));
  return files.length ? { files } : { files, skipReason: `no fixture snapshots in ${dir}` };
}

export interface Front {
  url: (path: string) => string;
  /** Requests seen, in order. */
  count: number;
  close(): Promise<void>;
}

/**
 * An HTTP front that answers request `index` itself when `intercept` returns a reply, and
 * otherwise forwards the exact bytes and headers to `upstream` (the real store) and relays its answer.
 */
export async function startHttpFront(
  upstream: string,
  intercept: (index: number) => { status: number; headers?: Record<string, string> } | undefined,
): Promise<Front> {
  const front: Front = { url: () => "", count: 0, close: async () => {} };
  const app = new Hono();
  app.all("*", async (c) => {
    const index = front.count++;
    const reply = intercept(index);
    if (reply)
      return c.json(
        { status: "error", error: "intercepted", message: `front answered ${reply.status}` },
        reply.status as 503,
        reply.headers,
      );
    const body = new Uint8Array(await c.req.arrayBuffer());
    const headers = new Headers(c.req.raw.headers);
    headers.delete("host");
    headers.delete("content-length");
    const answer = await fetch(`${upstream}${c.req.path}`, { method: c.req.method, headers, body });
    return new Response(await answer.arrayBuffer(), {
      status: answer.status,
      headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
    });
  });
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(started as Server),
    ) as Server;
  });
  const { port } = server.address() as { port: number };
  front.url = (path) => `http://127.0.0.1:${port}${path}`;
  front.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return front;
}

/**
 * A TCP proxy to the store that, on its first connection, lets the request through but destroys the
 * client socket as soon as the store starts answering: the delivery is applied, the reply is lost.
 */
export async function startLossyProxy(
  upstreamPort: number,
): Promise<{ port: number; dropped: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { port: 0, dropped: 0, close: async () => {} };
  let connections = 0;
  const server = createServer((client) => {
    const first = connections++ === 0;
    const store = connect(upstreamPort, "127.0.0.1");
    sockets.add(client).add(store);
    client.pipe(store);
    if (first) {
      store.once("data", () => {
        state.dropped++;
        client.destroy();
        store.destroy();
      });
    } else {
      store.pipe(client);
    }
    const cleanup = () => {
      client.destroy();
      store.destroy();
    };
    client.on("error", cleanup).on("close", cleanup);
    store.on("error", cleanup).on("close", cleanup);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as { port: number }).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return state;
}
