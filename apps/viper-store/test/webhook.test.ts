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

  it("a burst of refused requests is counted in full, in coalesced writes", async () => {
    const countNow = async () =>
      Number((await getJson(store, "/api/sync/status")).body.webhook.rejected_count ?? 0);
    // Refusals of earlier tests may still be pending their write: let that second end first.
    await new Promise((r) => setTimeout(r, 1100));
    const before = await countNow();
    const body = envelope([synthNode(1)]);
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => push(store, body, { unsigned: true })),
    );
    expect(answers.every((a) => a.status === 401)).toBe(true);
    // Within the second, fewer than all may be written; once it ends, every refusal is there.
    await new Promise((r) => setTimeout(r, 1300));
    expect((await countNow()) - before).toBe(25);
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

describe.each(drivers)("hostile bodies on $name (a 4xx or a success, never a 500)", (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore(driver, { MAX_BODY_BYTES: MAX_BODY });
  });
  afterAll(() => store?.stop());
  beforeEach(() => resetTables(store));

  it("an unsigned garbage body is 401 (the signature is checked before parsing)", async () => {
    const res = await push(store, "\u0000\u00ff{{{ not json", { unsigned: true });
    expect(res.status).toBe(401);
    const wrong = await push(store, "{not json", {
      secret: "whsec_" + Buffer.alloc(32, 1).toString("base64"),
    });
    expect(wrong.status).toBe(401);
    expect((await tableCounts(store)).deliveries).toBe(0);
  });

  it.each([
    ["an empty body", ""],
    ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    [
      "a deeply nested node",
      `{"event_type":"nodes_updated","nodes":[${"[".repeat(20_000)}${"]".repeat(20_000)}]}`,
    ],
    ["a JSON string", '"nodes"'],
    ["null", "null"],
    ["a huge number as timestamp", '{"event_type":"nodes_updated","timestamp":1e999,"nodes":[]}'],
  ])("%s → 400, nothing written", async (_label, body) => {
    const res = await push(store, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    await expect(tableCounts(store)).resolves.toEqual(EMPTY);
  });

  it("a deeply nested bare array is a legacy snapshot whose one node is rejected; nothing stales", async () => {
    const res = await push(store, "[".repeat(30_000) + "]".repeat(30_000));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 1, inserted: 0, stale: 0 });
    expect(res.body.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/object/) }]);
    expect(await tableCounts(store)).toEqual({ ...EMPTY, deliveries: 1 });
  });

  it("Content-Encoding: gzip with an empty body → 400; upper-case GZIP is understood", async () => {
    const empty = await push(store, "", { headers: { "content-encoding": "gzip" } });
    expect(empty.status).toBe(400);
    const upper = await push(store, gzipSync(Buffer.from(JSON.stringify(envelope([synthNode(1)])))), {
      headers: { "content-encoding": "GZIP" },
    });
    expect(upper.status, JSON.stringify(upper.body)).toBe(200);
    expect(upper.body.inserted).toBe(1);
  });

  it("gzip of non-JSON → 400", async () => {
    const res = await push(store, gzipSync(Buffer.from("hello, not json")), {
      headers: { "content-encoding": "gzip" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_json");
    await expect(tableCounts(store)).resolves.toEqual(EMPTY);
  });

  it("a UTF-8 BOM and odd Content-Type casing are accepted", async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify(envelope([synthNode(1)]))),
    ]);
    const res = await push(store, bytes, { contentType: "Application/JSON; Charset=UTF-8" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.inserted).toBe(1);
  });

  it("__proto__ keys neither pollute nor break the merge", async () => {
    const text = JSON.stringify(envelope([synthNode(1)])).replace(
      '"nodes":[{',
      '"__proto__":{"event_type":"measurements","polluted":true},"nodes":[{"__proto__":{"latency":1},"constructor":{"prototype":{"polluted":true}},',
    );
    const res = await push(store, text);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.inserted).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("huge and odd numbers are rejected per node or stored as unknown, never a 500", async () => {
    const text = JSON.stringify(envelope([synthNode(1), synthNode(2), synthNode(3), synthNode(4)]))
      .replace('"latency":21', '"latency":1e999')
      .replace('"port":', '"port":')
      .replace('"speed":7.4', '"speed":-1e308')
      .replace('"availability":53', '"availability":1e400');
    const res = await push(store, text);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const port = await push(store, envelope([{ protocol: "socks", host: "192.0.2.9", port: 1e20 }]));
    expect(port.status, JSON.stringify(port.body)).toBe(200);
    expect(port.body.rejected).toHaveLength(1);
  });

  it("a node name with a lone surrogate or NUL is stored, not a 500", async () => {
    const nodes = [
      synthNode(1, { name: "broken emoji \ud83d" }),
      synthNode(2, { name: "nul \u0000 inside" }),
      synthNode(3, { name: "fine" }),
    ];
    const res = await push(store, envelope(nodes));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.inserted + res.body.rejected.length).toBe(3);
    const list = (await getJson(store, "/api/nodes?limit=10")).body;
    expect(list.nodes.map((n: { name: string }) => n.name)).toContain("fine");
  });

  it("a link whose credential or path holds a NUL or a lone surrogate: that node rejected, the rest applied", async () => {
    const nodes = [
      { url: "vless://0a1b2c3d-0000-4000-8000-000000000001@192.0.2.7:443?type=ws&path=%2Fa%00b#nul-path" },
      { url: "trojan://pa%00ss@192.0.2.8:443#nul-pass" },
      { url: "trojan://pa\ud83dss@192.0.2.10:443#surrogate-pass" },
      { url: "bo\u0000gus\ud800://192.0.2.12:443#echoed-in-the-reason" },
      synthNode(3),
    ];
    const res = await push(store, envelope(nodes));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ received: 5, inserted: 2 });
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1, 3]);
    expect(res.body.rejected[0].reason).toMatch(/NUL/);
    // The delivery row (with its rejection reasons) was stored too.
    expect(await tableCounts(store)).toMatchObject({ nodes: 2, deliveries: 1 });
  });

  it("a measurement with a lone surrogate in its source is a 4xx or applied, not a 500", async () => {
    await push(store, envelope([synthNode(1)]));
    const res = await push(store, {
      event_type: "measurements",
      source: "prober-\ud800",
      region: "eu-\u0000",
      timestamp: minutesAgo(5),
      nodes: [synthNode(1, { latency: 3 })],
    });
    expect([200, 400]).toContain(res.status);
  });
});
