/** Shared test helpers: secrets, synthetic nodes, a loopback receiver that verifies signatures. */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { verifyRequest } from "@viper/protocol";
import { Hono } from "hono";

export function testSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** `count` vless nodes on documentation addresses; `variant` changes their metrics (new content). */
export function syntheticNodes(count: number, variant = 0): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, index) => {
    const uuid = `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
    const host = `${["192.0.2", "198.51.100", "203.0.113"][index % 3]}.${(index % 250) + 1}`;
    return {
      url: `vless://${uuid}@${host}:${443 + Math.floor(index / 250)}?type=ws&security=tls&sni=n${index}.example&path=%2Fws#node-${index}`,
      name: `node ${index}`,
      country: ["SG", "JP", "US", "DE"][index % 4],
      latency: 50 + ((index * 7 + variant) % 300),
      speed: Math.round((1 + ((index + variant) % 40) / 3) * 100) / 100,
      availability: 90 + (index % 10),
    };
  });
}

export async function makeTempDir(
  prefix = "spiderflow-push-",
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  at: number;
  path: string;
  headers: Record<string, string>;
  raw: Uint8Array;
  verified: boolean;
  verifyReason?: string;
  /** Parsed JSON of the (gunzipped) body, when verified and non-empty. */
  json?: unknown;
}

/** How the receiver answers request number `index` (0-based). */
export type ReceiverReply =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | { destroy: true };

export interface TestReceiver {
  url: string;
  origin: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on loopback standing in for network conditions (503s, Retry-After, stalls,
 * dropped connections). It verifies every request with `@viper/protocol` over the raw bytes.
 * Unsigned or badly signed requests get 401, like the store.
 */
export async function startTestReceiver(
  secret: string,
  reply: (index: number, request: ReceivedRequest) => ReceiverReply = () => ({
    status: 200,
    body: { status: "success" },
  }),
): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = [];
  const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
  app.post("*", async (c) => {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const headers = Object.fromEntries(c.req.raw.headers.entries());
    const verdict = verifyRequest({ body: raw, headers: c.req.raw.headers, secrets: secret });
    const request: ReceivedRequest = { at: Date.now(), path: c.req.path, headers, raw, verified: verdict.ok };
    if (!verdict.ok) request.verifyReason = verdict.reason;
    if (verdict.ok && raw.byteLength > 0) {
      const plain = headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
      request.json = JSON.parse(new TextDecoder().decode(plain));
    }
    const index = requests.push(request) - 1;
    if (!verdict.ok) return c.json({ error: verdict.reason }, 401);
    const answer = reply(index, request);
    if ("destroy" in answer) {
      c.env.incoming.socket.destroy();
      return c.body(null, 500);
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    for (const [name, value] of Object.entries(answer.headers ?? {})) c.header(name, value);
    return c.json((answer.body ?? {}) as object, answer.status as 200);
  });
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(started as Server),
    ) as Server;
  });
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/webhook/nodes-update`,
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The fixtures directory: FIXTURES_DIR, else <repo>/../shared/fixtures (callers check that it exists). */
export function fixturesDir(): string {
  return process.env.FIXTURES_DIR ?? join(import.meta.dirname, "..", "..", "..", "..", "shared", "fixtures");
}

/** The parsed body of the receiver's request number `index`; fails the test when there is none. */
export function bodyAt<T>(receiver: TestReceiver, index: number): T {
  const request = receiver.requests[index];
  if (!request || request.json === undefined) throw new Error(`the receiver has no JSON request #${index}`);
  return request.json as T;
}
