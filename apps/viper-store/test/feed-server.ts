import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createNodesFeed, type FeedSnapshot } from "@viper/spiderflow-push";
import { Hono } from "hono";
import { SECRET } from "./helpers.js";

export interface TestFeed {
  /** Base URL (SPIDERFLOW_API_URL). */
  url: string;
  port: number;
  /** Requests answered, by status. */
  answers: number[];
  close(): Promise<void>;
}

/** The real hunter feed (@viper/spiderflow-push createNodesFeed) on loopback. */
export async function startFeed(
  getSnapshot: () => FeedSnapshot,
  options: { secret?: string; port?: number } = {},
): Promise<TestFeed> {
  const answers: number[] = [];
  const app = new Hono();
  app.route(
    "/",
    createNodesFeed({
      secrets: options.secret ?? SECRET,
      getSnapshot,
      onRequest: (info) => answers.push(info.status),
    }),
  );
  return serveApp(app, options.port ?? 0, answers);
}

/** Any Hono app on loopback (e.g. a feed that answers with tampered or unsigned bodies). */
export async function serveApp(app: Hono, port = 0, answers: number[] = []): Promise<TestFeed> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve(s)) as Server;
    s.once("error", reject);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (for "feed down"); it may be reused later for the feed. */
export async function freePort(): Promise<number> {
  const probe = await serveApp(new Hono());
  await probe.close();
  return probe.port;
}

/** Polls `check` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
