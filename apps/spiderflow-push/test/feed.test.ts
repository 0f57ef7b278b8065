import { gunzipSync } from "node:zlib";
import { verifyRequest } from "@viper/protocol";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createNodesFeed, FEED_PATH, type FeedSnapshot, PushConfigError } from "../src/index.js";
import { syntheticNodes, testSecret } from "./helpers.js";

const secret = testSecret();

function feedOf(getSnapshot: () => FeedSnapshot) {
  return createNodesFeed({ getSnapshot, secrets: secret });
}

async function rawBody(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

describe("nodes feed", () => {
  it("serves a signed snapshot with ETag and Cache-Control, then 304 for the same ETag", async () => {
    const feed = feedOf(() => ({ nodes: syntheticNodes(3), timestamp: "2026-01-01T00:00:00Z" }));
    const first = await feed.request(FEED_PATH);
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    expect(first.headers.get("webhook-id")).toBe(`feed_${etag?.slice(1, -1)}`);
    const body = await rawBody(first);
    const verdict = verifyRequest({ body, headers: first.headers, secrets: secret });
    expect(verdict.ok).toBe(true);
    const payload = JSON.parse(new TextDecoder().decode(body));
    expect(payload).toMatchObject({
      event_type: "nodes_snapshot",
      mode: "snapshot",
      timestamp: "2026-01-01T00:00:00.000Z",
    });
    expect(payload.nodes).toHaveLength(3);

    const second = await feed.request(FEED_PATH, { headers: { "If-None-Match": etag ?? "" } });
    expect(second.status).toBe(304);
    expect(second.headers.get("etag")).toBe(etag);
    expect((await rawBody(second)).byteLength).toBe(0);

    const weak = await feed.request(FEED_PATH, { headers: { "If-None-Match": `"nope", W/${etag}` } });
    expect(weak.status).toBe(304);
    const star = await feed.request(FEED_PATH, { headers: { "If-None-Match": "*" } });
    expect(star.status).toBe(304);
    const stale = await feed.request(FEED_PATH, { headers: { "If-None-Match": '"0000"' } });
    expect(stale.status).toBe(200);
  });

  it("gzips when asked and signs the gzip bytes as sent", async () => {
    const feed = feedOf(() => ({ nodes: syntheticNodes(40) }));
    const response = await feed.request(FEED_PATH, { headers: { "Accept-Encoding": "gzip" } });
    expect(response.headers.get("content-encoding")).toBe("gzip");
    const wire = await rawBody(response);
    expect(verifyRequest({ body: wire, headers: response.headers, secrets: secret }).ok).toBe(true);
    const payload = JSON.parse(gunzipSync(wire).toString("utf8"));
    expect(payload.nodes).toHaveLength(40);
    // The gunzipped bytes are not what was signed.
    expect(verifyRequest({ body: gunzipSync(wire), headers: response.headers, secrets: secret }).ok).toBe(
      false,
    );
    const plain = await feed.request(FEED_PATH);
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(plain.headers.get("etag")).toBe(response.headers.get("etag"));
  });

  it("a tampered body fails verification", async () => {
    const feed = feedOf(() => ({ nodes: syntheticNodes(3) }));
    const response = await feed.request(FEED_PATH);
    const body = await rawBody(response);
    const tampered = new TextEncoder().encode(new TextDecoder().decode(body).replace('"node 0"', '"node X"'));
    expect(tampered).not.toEqual(body);
    const verdict = verifyRequest({ body: tampered, headers: response.headers, secrets: secret });
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? "" : verdict.reason).toMatch(/signature/);
  });

  it("timestamps a nodes-only snapshot with when its content last changed", async () => {
    let variant = 0;
    const feed = feedOf(() => ({ nodes: syntheticNodes(3, variant) }));
    const read = async () =>
      JSON.parse(await (await feed.request(FEED_PATH)).text()) as { timestamp: string };
    const first = await read();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await read()).timestamp).toBe(first.timestamp);
    variant = 1;
    const changed = await read();
    expect(Date.parse(changed.timestamp)).toBeGreaterThan(Date.parse(first.timestamp));
  });

  it("an untimed v1 document is timed by when its content last changed, not by each request", async () => {
    let variant = 0;
    const feed = feedOf(() => ({
      document: { event_type: "nodes_snapshot", nodes: syntheticNodes(3, variant) },
    }));
    const read = async () =>
      JSON.parse(await (await feed.request(FEED_PATH)).text()) as {
        timestamp: string;
        nodes: { tested_at: string }[];
      };
    const first = await read();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await read();
    expect(again.timestamp).toBe(first.timestamp);
    expect(again.nodes[0]?.tested_at).toBe(first.timestamp);
    variant = 1;
    expect(Date.parse((await read()).timestamp)).toBeGreaterThan(Date.parse(first.timestamp));
  });

  it("serves a legacy nodes.json array with the given timestamp", async () => {
    const legacy = [
      { protocol: "http", host: "192.0.2.9", port: 3128, country: "US", speed: 50, link: null },
    ];
    const feed = feedOf(() => ({ document: legacy, timestamp: new Date("2026-01-02T03:04:05Z") }));
    const payload = JSON.parse(await (await feed.request(FEED_PATH)).text());
    expect(payload).toMatchObject({
      event_type: "nodes_snapshot",
      mode: "snapshot",
      timestamp: "2026-01-02T03:04:05.000Z",
    });
    expect(payload.nodes[0]).toMatchObject({ legacy_score: 50, speed: null });
  });

  it("answers 503 with the reason when the snapshot cannot be built", async () => {
    const feed = createNodesFeed({
      getSnapshot: () => {
        throw new Error("nodes.json is not valid JSON");
      },
      secrets: secret,
    });
    const response = await feed.request(FEED_PATH);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: expect.stringContaining("not valid JSON") });
  });

  it("refuses a bad secret at creation", () => {
    expect(() => createNodesFeed({ getSnapshot: () => ({ nodes: [] }), secrets: "too-short" })).toThrow(
      PushConfigError,
    );
  });

  it("mounts in another Hono app", async () => {
    const app = new Hono();
    app.get("/healthz", (c) => c.text("ok"));
    app.route(
      "/",
      feedOf(() => ({ nodes: syntheticNodes(1) })),
    );
    expect((await app.request(FEED_PATH)).status).toBe(200);
    expect((await app.request("/healthz")).status).toBe(200);
  });
});
