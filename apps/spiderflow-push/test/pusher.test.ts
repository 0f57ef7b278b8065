import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPusher, getPushHistory, PushConfigError } from "../src/index.js";
import {
  bodyAt,
  closedPort,
  makeTempDir,
  startTestReceiver,
  syntheticNodes,
  type TestReceiver,
  testSecret,
} from "./helpers.js";

let dir: { path: string; remove(): Promise<void> };
let receiver: TestReceiver | undefined;
const secret = testSecret();

beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await dir.remove();
});

function pusherFor(url: string, overrides: Partial<Parameters<typeof createPusher>[0]> = {}) {
  return createPusher({
    url,
    secrets: secret,
    retryDelayMs: 20,
    timeoutMs: 2000,
    historyFile: join(dir.path, "history.jsonl"),
    ...overrides,
  });
}

describe("createPusher configuration", () => {
  it("refuses a bad secret, URL or retry count at creation", () => {
    expect(() => createPusher({ url: "http://127.0.0.1:1/x", secrets: "short" })).toThrow(PushConfigError);
    expect(() =>
      createPusher({ url: "http://127.0.0.1:1/x", secrets: "spiderflow-viper-sync-2026" }),
    ).toThrow(/published/);
    expect(() => createPusher({ url: "ftp://x.example/", secrets: secret })).toThrow(/http/);
    expect(() => createPusher({ url: "http://127.0.0.1:1/x", secrets: secret, retries: -1 })).toThrow(
      /retries/,
    );
  });
});

describe("push", () => {
  it("delivers a gzip body signed over the bytes as sent, with the normalised nodes", async () => {
    receiver = await startTestReceiver(secret);
    const outcome = await pusherFor(receiver.url).push(syntheticNodes(50), {
      eventType: "batch_test_complete",
    });
    expect(outcome.status).toBe("delivered");
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.gzip).toBe(true);
    expect(outcome.bytes).toBeLessThan(outcome.jsonBytes);
    const [request] = receiver.requests;
    expect(request?.verified).toBe(true);
    expect(request?.headers["content-encoding"]).toBe("gzip");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["webhook-id"]).toBe(outcome.deliveryId);
    expect(outcome.deliveryId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    const body = request?.json as {
      event_type: string;
      mode: string;
      source: string;
      nodes: Array<{ url: string }>;
    };
    expect(body.event_type).toBe("batch_test_complete");
    expect(body.mode).toBe("snapshot");
    expect(body.source).toBe("spiderflow");
    expect(body.nodes).toHaveLength(50);
    expect(body.nodes[0]?.url).toMatch(/^vless:\/\//);
  });

  it("sends a small body uncompressed", async () => {
    receiver = await startTestReceiver(secret);
    const outcome = await pusherFor(receiver.url).push(syntheticNodes(1), { eventType: "nodes_updated" });
    expect(outcome.status).toBe("delivered");
    expect(outcome.gzip).toBe(false);
    expect(receiver.requests[0]?.headers["content-encoding"]).toBeUndefined();
    expect(bodyAt<{ mode: string }>(receiver, 0).mode).toBe("delta");
  });

  it("reports rejected nodes and does not send them", async () => {
    receiver = await startTestReceiver(secret);
    const nodes = [...syntheticNodes(3), { url: "vmess://not-base64-json!!", name: "broken" }];
    const outcome = await pusherFor(receiver.url).push(nodes, { eventType: "nodes_updated" });
    expect(outcome.status).toBe("delivered");
    expect(outcome.nodeCount).toBe(3);
    expect(outcome.rejected).toEqual([expect.objectContaining({ index: 3 })]);
    expect(bodyAt<{ nodes: unknown[] }>(receiver, 0).nodes).toHaveLength(3);
  });

  it("retries a 503, signing each attempt afresh under the same webhook-id", async () => {
    receiver = await startTestReceiver(secret, (index) =>
      index === 0
        ? { status: 503, body: { error: "database not ready" } }
        : { status: 200, body: { status: "success" } },
    );
    const outcome = await pusherFor(receiver.url, { retryDelayMs: 1100 }).push(syntheticNodes(5), {
      eventType: "nodes_updated",
    });
    expect(outcome.status).toBe("delivered");
    expect(outcome.attempts.map((a) => a.httpStatus)).toEqual([503, 200]);
    expect(outcome.attempts[0]?.error).toContain("database not ready");
    const [first, second] = receiver.requests;
    expect(first?.headers["webhook-id"]).toBe(second?.headers["webhook-id"]);
    // The wait (≥ 0.8 × 1100 ms) crosses a second boundary, so the timestamp and signature must differ.
    expect(Number(second?.headers["webhook-timestamp"])).toBeGreaterThan(
      Number(first?.headers["webhook-timestamp"]),
    );
    expect(second?.headers["webhook-signature"]).not.toBe(first?.headers["webhook-signature"]);
    expect(second?.verified).toBe(true);
  });

  it("does not retry a 401 and surfaces the receiver's reason", async () => {
    receiver = await startTestReceiver(testSecret()); // a different secret: every request fails verification
    const outcome = await pusherFor(receiver.url).push(syntheticNodes(2), { eventType: "nodes_updated" });
    expect(outcome.status).toBe("refused");
    expect(outcome.httpStatus).toBe(401);
    expect(outcome.attempts).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
    expect(outcome.reason).toMatch(/401.*signature/);
  });

  it.each([400, 403, 404, 410, 413, 415])("treats %i as final", async (status) => {
    receiver = await startTestReceiver(secret, () => ({ status, body: { error: `no (${status})` } }));
    const outcome = await pusherFor(receiver.url).push(syntheticNodes(2), { eventType: "nodes_updated" });
    expect(outcome.status).toBe("refused");
    expect(receiver.requests).toHaveLength(1);
    expect(outcome.reason).toContain(`no (${status})`);
  });

  it("does not follow a redirect (a POST must not turn into a GET) and names the new location", async () => {
    receiver = await startTestReceiver(secret, () => ({
      status: 308,
      headers: { Location: "https://store.example/webhook/nodes-update" },
    }));
    const outcome = await pusherFor(receiver.url).push(syntheticNodes(2), { eventType: "nodes_updated" });
    expect(outcome.status).toBe("refused");
    expect(outcome.httpStatus).toBe(308);
    expect(outcome.reason).toMatch(/redirected to https:\/\/store\.example\/webhook\/nodes-update/);
    expect(receiver.requests).toHaveLength(1);
  });

  it.each([408, 429, 500, 502])("retries %i", async (status) => {
    receiver = await startTestReceiver(secret, (index) =>
      index === 0 ? { status, body: {} } : { status: 200, body: { status: "success" } },
    );
    const outcome = await pusherFor(receiver.url).push(syntheticNodes(2), { eventType: "nodes_updated" });
    expect(outcome.status).toBe("delivered");
    expect(receiver.requests).toHaveLength(2);
  });

  it("honours Retry-After in seconds over its own (shorter) backoff", async () => {
    receiver = await startTestReceiver(secret, (index) =>
      index === 0
        ? { status: 429, body: { error: "slow down" }, headers: { "Retry-After": "1" } }
        : { status: 200, body: { status: "success" } },
    );
    const outcome = await pusherFor(receiver.url, { retryDelayMs: 10 }).push(syntheticNodes(2), {
      eventType: "nodes_updated",
    });
    expect(outcome.status).toBe("delivered");
    expect(outcome.attempts[0]?.retryInMs).toBe(1000);
    const gap = (receiver.requests[1]?.at ?? 0) - (receiver.requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
  });

  it("honours Retry-After as an HTTP date", async () => {
    receiver = await startTestReceiver(secret, (index) =>
      index === 0
        ? { status: 503, headers: { "Retry-After": new Date(Date.now() + 2000).toUTCString() } }
        : { status: 200, body: { status: "success" } },
    );
    const outcome = await pusherFor(receiver.url, { retryDelayMs: 10 }).push(syntheticNodes(2), {
      eventType: "nodes_updated",
    });
    expect(outcome.status).toBe("delivered");
    // An HTTP date has whole-second precision: the wait is 1–2 s, far above the 10 ms backoff.
    expect(outcome.attempts[0]?.retryInMs).toBeGreaterThan(900);
    const gap = (receiver.requests[1]?.at ?? 0) - (receiver.requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(outcome.attempts[0]?.retryInMs ?? 0);
  });

  it("times out a stalled attempt and retries it", async () => {
    receiver = await startTestReceiver(secret, (index) =>
      index === 0
        ? { status: 200, body: { status: "success" }, delayMs: 1500 }
        : { status: 200, body: { status: "duplicate" } },
    );
    const outcome = await pusherFor(receiver.url, { timeoutMs: 300 }).push(syntheticNodes(2), {
      eventType: "nodes_updated",
    });
    expect(outcome.attempts[0]?.error).toMatch(/timed out/);
    expect(outcome.attempts[0]?.httpStatus).toBeUndefined();
    expect(outcome.status).toBe("duplicate");
  });

  it("reports a retry after a dropped connection as duplicate when the receiver says so", async () => {
    receiver = await startTestReceiver(secret, (index) =>
      index === 0 ? { destroy: true } : { status: 200, body: { status: "duplicate" } },
    );
    const outcome = await pusherFor(receiver.url).push(syntheticNodes(2), { eventType: "nodes_updated" });
    expect(outcome.status).toBe("duplicate");
    expect(outcome.attempts).toHaveLength(2);
    expect(outcome.attempts[0]?.httpStatus).toBeUndefined();
    expect(outcome.attempts[0]?.error).toBeTruthy();
  });

  it("backs off exponentially against a dead receiver, gives up after retries+1 attempts, and records it", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/webhook/nodes-update`;
    const pusher = pusherFor(url, { retryDelayMs: 100, retries: 3 });
    const outcome = await pusher.push(syntheticNodes(2), { eventType: "nodes_updated" });
    expect(outcome.status).toBe("gave_up");
    expect(outcome.attempts).toHaveLength(4);
    expect(outcome.reason).toMatch(/gave up after 4 attempts.*ECONNREFUSED/);
    const waits = outcome.attempts.map((a) => a.retryInMs);
    expect(waits[3]).toBeUndefined();
    // 100·2^(n-1) ± 20%: 80–120, 160–240, 320–480 ms.
    expect(waits[0]).toBeGreaterThanOrEqual(80);
    expect(waits[0]).toBeLessThan(120);
    expect(waits[1]).toBeGreaterThanOrEqual(160);
    expect(waits[2]).toBeGreaterThanOrEqual(320);
    const starts = outcome.attempts.map((a) => Date.parse(a.at));
    expect((starts[3] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(
      (waits[0] ?? 0) + (waits[1] ?? 0) + (waits[2] ?? 0) - 5,
    );
    const history = await getPushHistory({ historyFile: pusher.historyFile ?? "" });
    expect(history[0]).toMatchObject({ kind: "outcome", status: "gave_up", attempts: 4, receiverUrl: url });
    expect(history.filter((r) => r.kind === "attempt")).toHaveLength(4);
  });

  it("skips an unchanged push, sends changed content, and force overrides", async () => {
    receiver = await startTestReceiver(secret);
    const pusher = pusherFor(receiver.url);
    expect((await pusher.push(syntheticNodes(5), { eventType: "nodes_updated" })).status).toBe("delivered");
    const second = await pusher.push(syntheticNodes(5), { eventType: "nodes_updated" });
    expect(second.status).toBe("skipped");
    expect(second.reason).toMatch(/unchanged/);
    expect(second.deliveryId).toBeNull();
    expect(receiver.requests).toHaveLength(1);
    expect((await pusher.push(syntheticNodes(5, 1), { eventType: "nodes_updated" })).status).toBe(
      "delivered",
    );
    expect(
      (await pusher.push(syntheticNodes(5, 1), { eventType: "nodes_updated", force: true })).status,
    ).toBe("delivered");
    expect(receiver.requests).toHaveLength(3);
  });

  it("does not count a refused push as delivered for skip-unchanged", async () => {
    let refuse = true;
    receiver = await startTestReceiver(secret, () =>
      refuse ? { status: 400, body: { error: "bad" } } : { status: 200, body: { status: "success" } },
    );
    const pusher = pusherFor(receiver.url);
    expect((await pusher.push(syntheticNodes(3), { eventType: "nodes_updated" })).status).toBe("refused");
    refuse = false;
    expect((await pusher.push(syntheticNodes(3), { eventType: "nodes_updated" })).status).toBe("delivered");
  });

  it("a test_push, another mode, source or region is not 'unchanged' for the next push", async () => {
    receiver = await startTestReceiver(secret);
    const pusher = pusherFor(receiver.url);
    const nodes = syntheticNodes(4);
    expect((await pusher.push(nodes, { eventType: "test_push" })).status).toBe("delivered");
    // The store applied nothing for the test_push: the real push must go out.
    expect((await pusher.push(nodes, { eventType: "nodes_updated" })).status).toBe("delivered");
    expect((await pusher.push(nodes, { eventType: "nodes_updated", mode: "snapshot" })).status).toBe(
      "delivered",
    );
    const document = { event_type: "nodes_updated", mode: "snapshot", nodes };
    expect((await pusher.pushDocument({ ...document, source: "hunter-b" })).status).toBe("delivered");
    expect((await pusher.pushDocument({ ...document, source: "hunter-b", region: "eu" })).status).toBe(
      "delivered",
    );
    expect((await pusher.pushDocument({ ...document, source: "hunter-b", region: "eu" })).status).toBe(
      "skipped",
    );
    expect(receiver.requests).toHaveLength(5);
  });

  it("does not count a push that gave up as delivered for skip-unchanged", async () => {
    let unavailable = true;
    receiver = await startTestReceiver(secret, () =>
      unavailable ? { status: 503, body: { error: "down" } } : { status: 200, body: { status: "success" } },
    );
    const pusher = pusherFor(receiver.url, { retries: 1 });
    expect((await pusher.push(syntheticNodes(3), { eventType: "nodes_updated" })).status).toBe("gave_up");
    unavailable = false;
    expect((await pusher.push(syntheticNodes(3), { eventType: "nodes_updated" })).status).toBe("delivered");
    expect(receiver.requests).toHaveLength(3);
  });

  it("keeps the last delivered hash per receiver URL", async () => {
    receiver = await startTestReceiver(secret);
    const other = await startTestReceiver(secret);
    try {
      const historyFile = join(dir.path, "shared.jsonl");
      const a = pusherFor(receiver.url, { historyFile });
      const b = pusherFor(other.url, { historyFile });
      expect((await a.push(syntheticNodes(3), { eventType: "nodes_updated" })).status).toBe("delivered");
      expect((await b.push(syntheticNodes(3), { eventType: "nodes_updated" })).status).toBe("delivered");
      expect((await a.push(syntheticNodes(3), { eventType: "nodes_updated" })).status).toBe("skipped");
    } finally {
      await other.close();
    }
  });

  it("accepts a legacy nodes.json array and keeps its speed as legacy_score", async () => {
    receiver = await startTestReceiver(secret);
    const legacy = [
      { protocol: "http", host: "192.0.2.7", port: 8080, country: "UNK", speed: 70, name: "h", link: null },
    ];
    const outcome = await pusherFor(receiver.url).pushDocument(legacy);
    expect(outcome.status).toBe("delivered");
    const body = receiver.requests[0]?.json as {
      event_type: string;
      mode: string;
      nodes: Array<Record<string, unknown>>;
    };
    expect(body.event_type).toBe("batch_test_complete");
    expect(body.mode).toBe("snapshot");
    expect(body.nodes[0]).toMatchObject({
      url: expect.stringMatching(/^http:\/\/192\.0\.2\.7:8080/),
      speed: null,
      legacy_score: 70,
      country: null,
    });
  });

  it("runs concurrent pushes one after another, so an identical second one is skipped", async () => {
    receiver = await startTestReceiver(secret, () => ({
      status: 200,
      body: { status: "success" },
      delayMs: 100,
    }));
    const pusher = pusherFor(receiver.url);
    const [a, b] = await Promise.all([
      pusher.push(syntheticNodes(4), { eventType: "nodes_updated" }),
      pusher.push(syntheticNodes(4), { eventType: "nodes_updated" }),
    ]);
    expect([a.status, b.status]).toEqual(["delivered", "skipped"]);
    expect(receiver.requests).toHaveLength(1);
  });

  it("stops during backoff when the caller aborts, reporting it", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/webhook/nodes-update`;
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("hunter shutting down")), 200);
    const outcome = await pusherFor(url, { retryDelayMs: 10_000 }).push(syntheticNodes(2), {
      eventType: "nodes_updated",
      signal: controller.signal,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outcome.status).toBe("gave_up");
    expect(outcome.reason).toMatch(/cancelled.*hunter shutting down/);
    expect(outcome.attempts).toHaveLength(1);
  });
});
