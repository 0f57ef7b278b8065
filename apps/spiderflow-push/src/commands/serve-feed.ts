import { readFile, stat } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { UsageError } from "../cli-errors.js";
import { createNodesFeed, FEED_PATH, type FeedSnapshot } from "../feed.js";

export interface FeedServerOptions {
  file: string;
  port: number;
  host: string;
  secrets: string;
  log: (line: string) => void;
}

export interface FeedServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a JSON file (v1 payload or legacy nodes.json array) as the signed feed. The file is
 * re-read whenever its mtime or size changes; the snapshot timestamp is its mtime.
 */
export async function startFeedServer(options: FeedServerOptions): Promise<FeedServer> {
  let cached: { mtimeMs: number; size: number; snapshot: FeedSnapshot } | undefined;

  async function loadSnapshot(): Promise<FeedSnapshot> {
    const info = await stat(options.file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.snapshot;
    const text = await readFile(options.file, "utf8");
    let document: unknown;
    try {
      document = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
      throw new Error(`${options.file} is not valid JSON (${(error as Error).message})`);
    }
    const snapshot: FeedSnapshot = { document, timestamp: info.mtime };
    cached = { mtimeMs: info.mtimeMs, size: info.size, snapshot };
    options.log(`loaded ${options.file} (${info.size} bytes, modified ${info.mtime.toISOString()})`);
    return snapshot;
  }

  try {
    await loadSnapshot();
  } catch (error) {
    throw new UsageError(`cannot serve ${options.file}: ${(error as Error).message}`);
  }

  const app = new Hono();
  app.route(
    "/",
    createNodesFeed({
      getSnapshot: loadSnapshot,
      secrets: options.secrets,
      onRequest: ({ status, etag, bytes, gzip }) =>
        options.log(
          `GET ${FEED_PATH} → ${status}${etag ? ` ETag ${etag.slice(0, 14)}…"` : ""} ${bytes} B${gzip ? " gzip" : ""}`,
        ),
    }),
  );
  app.notFound((c) => c.json({ error: `not found; the feed is at ${FEED_PATH}` }, 404));

  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () =>
      resolve(started as Server),
    ) as Server;
    started.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(`cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`),
      ),
    );
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${FEED_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
