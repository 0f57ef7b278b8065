import { gzipSync } from "node:zlib";
import { signRequest } from "@viper/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  drivers,
  envelope,
  getJson,
  minutesAgo,
  PROBER_SECRET,
  push,
  resetTables,
  SECRET,
  startTestStore,
  synthNode,
  type TestStore,
  tableCounts,
} from "./helpers.js";

const EMPTY = { nodes: 0, node_current: 0, node_measurements: 0, deliveries: 0 };
const MAX_BODY = 64 * 1024;

describe.each(drivers)("webhook receiver on $name", (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore(driver, {
      PROBER_SECRETS: PROBER_SECRET,
      MAX_BODY_BYTES: MAX_BODY,
      ACCEPT_LEGACY_SIGNATURES: "true",
    });
  });
  afterAll(() => store?.stop());
  beforeEach(() => resetTables(store));

  const expectNothingWritten = async () => expect(await tableCounts(store)).toEqual(EMPTY);

  it("applies a signed delivery and reports the counts", async () => {
    const res = await push(store, envelope([synthNode(1), synthNode(2), { url: "not a link" }]), {
      id: "d-ok",
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "success",
      delivery_id: "d-ok",
      received: 3,
      inserted: 2,
      updated: 0,
      unchanged: 0,
      stale: 0,
      revived: 0,
    });
    expect(res.body.rejected).toEqual([{ index: 2, reason: expect.any(String) }]);
    expect(await tableCounts(store)).toEqual({
      nodes: 2,
      node_current: 2,
      node_measurements: 2,
      deliveries: 1,
    });
  });

  it("accepts gzip bodies, verified before decompression", async () => {
    const res = await push(store, envelope([synthNode(3)]), { gzip: true });
    expect(res.status).toBe(200);
    expect(res.body.inserted).toBe(1);
  });

  it("answers duplicate for a webhook-id already applied and changes nothing", async () => {
    const first = await push(store, envelope([synthNode(1)]), { id: "dup-1" });
    expect(first.body.status).toBe("success");
    const before = await tableCounts(store);
    const again = await push(store, envelope([synthNode(1, { name: "renamed" }), synthNode(9)]), {
      id: "dup-1",
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: "duplicate", delivery_id: "dup-1" });
    expect(await tableCounts(store)).toEqual(before);
    const list = await getJson(store, "/api/nodes");
    expect(list.body.nodes.map((n: { name: string }) => n.name)).toEqual(["node-1"]);
  });

  it("415 when Content-Type is not application/json", async () => {
    const res = await push(store, envelope([synthNode(1)]), { contentType: "text/plain" });
    expect(res.status).toBe(415);
    const none = await push(store, envelope([synthNode(1)]), { contentType: null });
    expect(none.status).toBe(415);
    await expectNothingWritten();
  });

  it("accepts application/json with a charset parameter", async () => {
    const res = await push(store, envelope([synthNode(1)]), {
      contentType: "application/json; charset=utf-8",
    });
    expect(res.status).toBe(200);
  });

  it("415 for an unknown Content-Encoding", async () => {
    const res = await push(store, envelope([synthNode(1)]), { headers: { "content-encoding": "br" } });
    expect(res.status).toBe(415);
    await expectNothingWritten();
  });

  it("400 for JSON that does not parse", async () => {
    const res = await push(store, "{not json");
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_json");
    await expectNothingWritten();
  });

  it("400 for a gzip body that is not gzip", async () => {
    const res = await push(store, "plain text", { headers: { "content-encoding": "gzip" } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/gzip/);
    await expectNothingWritten();
  });

  it("400 with readable issues for an envelope error", async () => {
    const res = await push(store, { event_type: "bogus", timestamp: minutesAgo(1), nodes: [synthNode(1)] });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_payload");
    expect(res.body.issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(res.body.issues)).toMatch(/event_type/);
    const notList = await push(store, { event_type: "nodes_updated", timestamp: minutesAgo(1), nodes: "x" });
    expect(notList.status).toBe(400);
    const future = await push(
      store,
      envelope([synthNode(1)], { timestamp: new Date(Date.now() + 3600_000).toISOString() }),
    );
    expect(future.status).toBe(400);
    await expectNothingWritten();
  });

  it("401 without a signature, with a bad one, outside tolerance", async () => {
    const body = envelope([synthNode(1)]);
    const unsigned = await push(store, body, { unsigned: true });
    expect(unsigned.status).toBe(401);
    const wrong = await push(store, body, { secret: "whsec_" + Buffer.alloc(32, 1).toString("base64") });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toMatch(/signature/);
    const old = await push(store, body, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(old.status).toBe(401);
    const ahead = await push(store, body, { timestamp: Math.floor(Date.now() / 1000) + 3600 });
    expect(ahead.status).toBe(401);
    await expectNothingWritten();
  });

  it("401 when the signed bytes differ from the received bytes", async () => {
    const bytes = Buffer.from(JSON.stringify(envelope([synthNode(1)])));
    const headers = signRequest({ body: bytes, secrets: SECRET });
    const tampered = Buffer.from(JSON.stringify(envelope([synthNode(2)])));
    const res = await fetch(`${store.url}/webhook/nodes-update`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: tampered,
    });
    expect(res.status).toBe(401);
    await expectNothingWritten();
  });

  it("legacy signatures: accepted when enabled, naive timestamp 401", async () => {
    const ok = await push(store, envelope([synthNode(1)]), {
      legacy: { timestamp: String(Math.floor(Date.now() / 1000)) },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.delivery_id).toMatch(/^legacy_/);
    await resetTables(store);
    const naive = await push(store, envelope([synthNode(1)]), {
      legacy: { timestamp: "2026-01-01T12:00:00" },
    });
    expect(naive.status).toBe(401);
    expect(naive.body.message).toMatch(/naive|offset|time ?zone/i);
    await expectNothingWritten();
  });

  it("403 for a prober secret pushing anything but measurements", async () => {
    const res = await push(store, envelope([synthNode(1)]), { secret: PROBER_SECRET });
    expect(res.status).toBe(403);
    await expectNothingWritten();
  });

  it("a prober secret may push measurements (for known nodes only)", async () => {
    const owned = await push(store, envelope([synthNode(1)]));
    const id = (await getJson(store, "/api/nodes")).body.nodes[0].id;
    expect(owned.status).toBe(200);
    const res = await push(
      store,
      {
        event_type: "measurements",
        timestamp: minutesAgo(30),
        source: "prober-eu",
        region: "eu-west",
        nodes: [synthNode(1, { latency: 5 }), synthNode(77)],
      },
      { secret: PROBER_SECRET },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ inserted: 0, updated: 1, stale: 0 });
    expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/unknown node/) }]);
    const list = (await getJson(store, "/api/nodes")).body;
    expect(list.nodes).toHaveLength(1);
    expect(list.nodes[0]).toMatchObject({ id, latency: 5, source: "prober-eu" });
  });

  it("413 by Content-Length, by streamed size and after gunzip; nothing applied", async () => {
    const big = envelope(Array.from({ length: 1000 }, (_, i) => synthNode(i)));
    const declared = await push(store, big);
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_BODY);
    expect(declared.status).toBe(413);

    // Chunked (no Content-Length): the cap is enforced while reading the stream.
    const bytes = Buffer.from(JSON.stringify(big));
    const headers = { ...signRequest({ body: bytes, secrets: SECRET }), "content-type": "application/json" };
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.subarray(i, i + 8192));
        controller.close();
      },
    });
    const chunked = await fetch(`${store.url}/webhook/nodes-update`, {
      method: "POST",
      headers,
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);

    // A small gzip that inflates past the cap.
    const bomb = gzipSync(
      Buffer.from(JSON.stringify(envelope([synthNode(1, { name: "x".repeat(MAX_BODY * 4) })]))),
    );
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const inflated = await push(store, bomb, { headers: { "content-encoding": "gzip" } });
    expect(inflated.status).toBe(413);
    await expectNothingWritten();
  });

  it("test_push is verified and recorded but applies nothing", async () => {
    const res = await push(store, envelope([synthNode(1)], { event_type: "test_push" }), { id: "tp-1" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "success", received: 1, inserted: 0, updated: 0 });
    const counts = await tableCounts(store);
    expect(counts).toEqual({ ...EMPTY, deliveries: 1 });
    const again = await push(store, envelope([synthNode(1)], { event_type: "test_push" }), { id: "tp-1" });
    expect(again.body.status).toBe("duplicate");
  });

  it("test-connection: signed (empty body) → connected; unsigned → 401", async () => {
    const ts = Math.floor(Date.now() / 1000) - 2;
    const ok = await push(store, "", { path: "/webhook/test-connection", timestamp: ts, contentType: null });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "connected", receiver: "viper-store", protocol_version: 1 });
    expect(Date.parse(ok.body.server_time)).not.toBeNaN();
    expect(ok.body.clock_skew_s).toBeGreaterThanOrEqual(1);
    expect(ok.body.clock_skew_s).toBeLessThanOrEqual(5);
    const unsigned = await push(store, "", { path: "/webhook/test-connection", unsigned: true });
    expect(unsigned.status).toBe(401);
    await expectNothingWritten();
  });

  it("healthz and readyz", async () => {
    expect((await getJson(store, "/healthz")).status).toBe(200);
    const ready = await getJson(store, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.migrations).toBe("applied");
  });
});

describe.each(drivers)("database unavailable on $name", (driver) => {
  it("503 for a delivery and not-ready, never 500", async () => {
    const store = await startTestStore(driver);
    try {
      await store.database.close();
      const res = await push(store, envelope([synthNode(1)]));
      expect(res.status).toBe(503);
      expect((await getJson(store, "/readyz")).status).toBe(503);
      expect((await getJson(store, "/api/nodes")).status).toBe(503);
    } finally {
      await store.stop();
    }
  });
});
