import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows, toNumber } from "../src/db/client.js";
import { freePort, serveApp, startFeed, type TestFeed, waitFor } from "./feed-server.js";
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

const ADMIN = "test-admin-token-0123456789";

async function pollNow(store: { url: string }, token: string | null = ADMIN) {
  const res = await fetch(`${store.url}/api/sync/poll-now`, {
    method: "POST",
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function latencyOf(store: TestStore, name: string): Promise<number | null> {
  const rows = await queryRows<{ latency: unknown }>(
    store.db,
    sql`select latency from nodes where name = ${name}`,
  );
  return rows[0] ? toNumber(rows[0].latency) : null;
}

async function pollTraffic(store: TestStore) {
  return (await getJson(store, "/api/stats/traffic")).body.mechanisms.poll as {
    bytes_in: number;
    bytes_out: number;
    count: number;
  };
}

describe.each(drivers)("polling the hunter's feed ($name)", (driver) => {
  let feed: TestFeed;
  let store: TestStore;
  // The feed serves whatever these hold; tests swap them.
  let nodes: Record<string, unknown>[] = [];
  let snapshotTime: string | undefined;

  beforeAll(async () => {
    feed = await startFeed(() => ({ nodes, ...(snapshotTime ? { timestamp: snapshotTime } : {}) }));
    // POLL_INTERVAL 0: no scheduled polls; every poll here is a poll-now (deterministic).
    store = await startTestStore(driver, { SPIDERFLOW_API_URL: feed.url, POLL_INTERVAL: 0 });
  });
  afterAll(async () => {
    await store?.stop();
    await feed?.close();
  });
  beforeEach(async () => {
    await resetTables(store);
    await store.db.execute(sql`truncate traffic_ledger`);
    nodes = [synthNode(1), synthNode(2)];
    snapshotTime = minutesAgo(30);
  });

  it("poll-now needs the admin token: 401 without it or with a wrong one, nothing polled", async () => {
    const before = feed.answers.length;
    expect((await pollNow(store, null)).status).toBe(401);
    expect((await pollNow(store, "wrong-token-0123456789")).status).toBe(401);
    expect(feed.answers.length).toBe(before);
    expect((await tableCounts(store)).nodes).toBe(0);
    const ok = await pollNow(store);
    expect(ok.status).toBe(200);
    expect(ok.body.result).toBe("changed");
    expect(ok.body.counts.inserted).toBe(2);
  });

  it("test 1: pushes refused (wrong secret) → the next poll brings the store up to date", async () => {
    const refused = await push(store, envelope(nodes, { timestamp: snapshotTime }), {
      secret: PROBER_SECRET,
    });
    expect(refused.status).toBe(401);
    expect((await tableCounts(store)).nodes).toBe(0);
    const polled = await pollNow(store);
    expect(polled.body).toMatchObject({ result: "changed", counts: { inserted: 2 } });
    expect((await tableCounts(store)).nodes).toBe(2);
    const status = (await getJson(store, "/api/sync/status")).body;
    expect(status.webhook.rejected_count).toBe(1);
    expect(status.poll).toMatchObject({ last_result: "changed", poll_count: 1, changed_count: 1 });
    expect(status.last_change_source).toBe("spiderflow");
    expect(status.recent_deliveries[0]).toMatchObject({
      mechanism: "poll",
      source: "spiderflow",
      inserted: 2,
    });
  });

  it("test 2: webhook and poll carry the same content → one change, no duplicate history", async () => {
    const pushed = await push(
      store,
      envelope(nodes, { event_type: "nodes_snapshot", mode: "snapshot", timestamp: snapshotTime }),
    );
    expect(pushed.body.inserted).toBe(2);
    const before = await tableCounts(store);
    const polled = await pollNow(store);
    expect(polled.body.result).toBe("not_modified");
    expect(polled.body.counts).toMatchObject({ inserted: 0, updated: 0, stale: 0, unchanged: 2 });
    const after = await tableCounts(store);
    expect(after.node_measurements).toBe(before.node_measurements);
    expect(after.nodes).toBe(2);
    const status = (await getJson(store, "/api/sync/status")).body;
    expect(status.poll.changed_count).toBe(0);
    expect(status.last_change_at).toBeTruthy();
    // The one change is the webhook's.
    expect(
      status.recent_deliveries.filter(
        (d: { inserted: number; updated: number }) => d.inserted + d.updated > 0,
      ),
    ).toHaveLength(1);
  });

  it("test 3: an older feed snapshot after a newer webhook → no regression, nothing staled", async () => {
    await push(
      store,
      envelope([synthNode(1, { latency: 50 }), synthNode(2)], {
        event_type: "nodes_snapshot",
        mode: "snapshot",
        timestamp: minutesAgo(5),
      }),
    );
    nodes = [synthNode(1, { latency: 999 })];
    snapshotTime = minutesAgo(120);
    const before = await tableCounts(store);
    const polled = await pollNow(store);
    // Applied, but an older observation changes no current value: it lands in history only.
    expect(polled.body).toMatchObject({ result: "not_modified", reason: "applied_without_changes" });
    expect((await tableCounts(store)).node_measurements).toBe((before.node_measurements ?? 0) + 1);
    expect(await latencyOf(store, "node-1")).toBe(50);
    const stale = await queryRows(store.db, sql`select id from nodes where status = 'stale'`);
    expect(stale).toHaveLength(0);
  });

  it("test 5: unchanged feed → 304; the ledger books header bytes only", async () => {
    const first = await pollNow(store);
    expect(first.body.result).toBe("changed");
    const booked = await pollTraffic(store);
    expect(booked.count).toBe(1);
    expect(booked.bytes_in).toBe(first.body.bytes_in);
    const second = await pollNow(store);
    expect(second.body).toMatchObject({ result: "not_modified", reason: "304", status: 304 });
    const after = await pollTraffic(store);
    expect(after.count).toBe(2);
    const delta = after.bytes_in - booked.bytes_in;
    expect(delta).toBe(second.body.bytes_in);
    // Status line + headers, no body: a few hundred bytes (the changed poll carried the body).
    expect(delta).toBeGreaterThan(100);
    expect(delta).toBeLessThan(400);
    expect(delta).toBeLessThan(first.body.bytes_in);
    expect(after.bytes_out - booked.bytes_out).toBe(second.body.bytes_out);
    expect((await getJson(store, "/api/sync/status")).body.poll).toMatchObject({
      poll_count: 2,
      changed_count: 1,
      last_result: "not_modified",
    });
  });

  it("test 6: content A → B → A → each change applied, history for each", async () => {
    const a = [synthNode(1, { latency: 10 })];
    const b = [synthNode(1, { latency: 20 })];
    const results: string[] = [];
    const latencies: (number | null)[] = [];
    for (const [i, content] of [a, b, a].entries()) {
      nodes = content;
      snapshotTime = minutesAgo(30 - i * 10); // each content is newer than the last
      results.push((await pollNow(store)).body.result);
      latencies.push(await latencyOf(store, "node-1"));
    }
    expect(results).toEqual(["changed", "changed", "changed"]);
    expect(latencies).toEqual([10, 20, 10]);
    expect((await tableCounts(store)).node_measurements).toBe(3);
    const ids = await queryRows<{ id: string }>(
      store.db,
      sql`select id from deliveries where mechanism = 'poll'`,
    );
    expect(new Set(ids.map((r) => r.id)).size).toBe(3);
  });

  it("a webhook never makes a later poll skip data: poll A, webhook B, feed A again → A applied", async () => {
    nodes = [synthNode(1, { latency: 10 })];
    snapshotTime = minutesAgo(30);
    expect((await pollNow(store)).body.result).toBe("changed");
    const pushed = await push(
      store,
      envelope([synthNode(1, { latency: 20 })], {
        event_type: "nodes_snapshot",
        mode: "snapshot",
        timestamp: minutesAgo(20),
      }),
    );
    expect(pushed.body.updated).toBe(1);
    expect(await latencyOf(store, "node-1")).toBe(20);
    // The hunter went back to A (same content hash and ETag as the poller's last): no 304 skip.
    snapshotTime = minutesAgo(10);
    const polled = await pollNow(store);
    expect(polled.body).toMatchObject({ result: "changed", status: 200 });
    expect(await latencyOf(store, "node-1")).toBe(10);
    // With nothing new from webhooks, the next poll is a 304 again.
    expect((await pollNow(store)).body).toMatchObject({ result: "not_modified", reason: "304" });
  });

  it("traffic endpoint: shape, webhook bookings visible when the push returns", async () => {
    const body = envelope([synthNode(3)]);
    const pushed = await push(store, body);
    expect(pushed.status).toBe(200);
    const traffic = (await getJson(store, "/api/stats/traffic")).body;
    expect(Object.keys(traffic.mechanisms).sort()).toEqual(["poll", "precision", "probe", "webhook"]);
    expect(traffic.month).toBe(new Date().toISOString().slice(0, 7));
    const webhook = traffic.mechanisms.webhook;
    expect(webhook.count).toBe(1);
    expect(webhook.bytes_in).toBeGreaterThan(JSON.stringify(body).length); // body + headers
    expect(webhook.bytes_out).toBeGreaterThan(100);
    const sum = Object.values(
      traffic.mechanisms as Record<string, { bytes_in: number; bytes_out: number }>,
    ).reduce((s, m) => s + m.bytes_in + m.bytes_out, 0);
    expect(traffic.total_bytes).toBe(sum);
    expect(traffic.projected_month_bytes).toBeGreaterThanOrEqual(sum);
    expect(traffic.budget_bytes).toBe(100e9);
    // A refused push is traffic too.
    await push(store, body, { unsigned: true });
    expect((await getJson(store, "/api/stats/traffic")).body.mechanisms.webhook.count).toBe(2);
  });
});

describe("feeds the store must not trust (pglite)", () => {
  let store: TestStore;
  let fake: TestFeed;
  let answer: () => Response;

  beforeAll(async () => {
    const app = new Hono();
    app.get("/api/nodes/feed", () => answer());
    fake = await serveApp(app);
    store = await startTestStore(
      { name: "pglite" },
      { SPIDERFLOW_FEED_URL: `${fake.url}/api/nodes/feed`, POLL_INTERVAL: 0 },
    );
  });
  afterAll(async () => {
    await store?.stop();
    await fake?.close();
  });

  /** A real, correctly signed feed answer, recorded from the real feed app. */
  async function realAnswer(secret = SECRET) {
    const { createNodesFeed } = await import("@viper/spiderflow-push");
    const feedApp = createNodesFeed({ secrets: secret, getSnapshot: () => ({ nodes: [synthNode(7)] }) });
    const res = await feedApp.request("/api/nodes/feed");
    return { headers: new Headers(res.headers), body: new Uint8Array(await res.arrayBuffer()) };
  }

  it("a tampered body (valid headers, one byte changed) → error, nothing applied", async () => {
    const real = await realAnswer();
    const tampered = Buffer.from(new TextDecoder().decode(real.body).replace("node-7", "node-8"));
    answer = () => new Response(tampered, { headers: real.headers });
    const polled = await pollNow(store);
    expect(polled.body.result).toBe("error");
    expect(polled.body.error).toMatch(/signature/);
    expect(await tableCounts(store)).toMatchObject({ nodes: 0, deliveries: 0, node_measurements: 0 });
    const status = (await getJson(store, "/api/sync/status")).body;
    expect(status.poll.last_result).toBe("error");
    expect(status.poll.last_error).toMatch(/signature/);
    expect(status.poll.last_etag).toBeNull(); // a refused answer is never used for If-None-Match
  });

  it("unsigned, or signed with a prober secret only → error, nothing applied", async () => {
    const real = await realAnswer();
    answer = () => new Response(real.body, { headers: { "content-type": "application/json" } });
    expect((await pollNow(store)).body.result).toBe("error");
    const prober = await realAnswer(PROBER_SECRET);
    answer = () => new Response(prober.body, { headers: prober.headers });
    const polled = await pollNow(store);
    expect(polled.body).toMatchObject({ result: "error" });
    expect(polled.body.error).toMatch(/WEBHOOK_SECRET/);
    expect((await tableCounts(store)).nodes).toBe(0);
    // The genuine answer applies.
    answer = () => new Response(real.body, { headers: real.headers });
    expect((await pollNow(store)).body.result).toBe("changed");
  });

  it("a gzip bomb → error naming MAX_BODY_BYTES, nothing applied", async () => {
    await resetTables(store);
    const { gzipSync } = await import("node:zlib");
    const { signRequest } = await import("@viper/protocol");
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32));
    const signed = signRequest({ body: bomb, secrets: SECRET, id: "feed_bomb" });
    answer = () =>
      new Response(bomb, {
        headers: { ...signed, "content-type": "application/json", "content-encoding": "gzip" },
      });
    const polled = await pollNow(store);
    expect(polled.body.result).toBe("error");
    expect(polled.body.error).toMatch(/MAX_BODY_BYTES/);
    expect((await tableCounts(store)).nodes).toBe(0);
  });
});

describe("sync state survives a restart (PGlite on disk)", () => {
  it("poll counters, the ETag and the schedule come back; the next poll is a 304", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { startStore } = await import("../src/store.js");
    const dataDir = mkdtempSync(join(tmpdir(), "viper-poll-restart-"));
    const feed = await startFeed(() => ({ nodes: [synthNode(5)], timestamp: minutesAgo(10) }));
    const options = {
      PORT: 0,
      DATA_DIR: dataDir,
      WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN: ADMIN,
      SPIDERFLOW_API_URL: feed.url,
      POLL_INTERVAL: 600,
      log: () => {},
    };
    try {
      const first = await startStore(options);
      // The scheduled first tick is due at start.
      await waitFor(async () => (await getJson(first, "/api/sync/status")).body.poll.poll_count === 1);
      const before = (await getJson(first, "/api/sync/status")).body.poll;
      await first.close();
      const second = await startStore(options);
      try {
        const after = (await getJson(second, "/api/sync/status")).body.poll;
        expect(after).toMatchObject({ poll_count: 1, changed_count: 1, last_result: "changed" });
        expect(after.next_poll_at).toBe(before.next_poll_at); // not due: the restart did not poll
        expect(after.last_etag).toMatch(/^"[0-9a-f]{64}"$/);
        expect((await pollNow(second)).body).toMatchObject({ result: "not_modified", reason: "304" });
      } finally {
        await second.close();
      }
    } finally {
      await feed.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("scheduled polling (pglite)", () => {
  it("test 4: feed down → backoff, status shows the error; recovery when it comes back", async () => {
    const port = await freePort();
    const lines: string[] = [];
    const store = await startTestStore(
      { name: "pglite" },
      {
        SPIDERFLOW_API_URL: `http://127.0.0.1:${port}`,
        POLL_INTERVAL: 3,
        log: (m) => lines.push(`${Date.now()} ${m}`),
        syncJobs: { pollBackoffBaseMs: 150 },
      },
    );
    let feed: TestFeed | undefined;
    try {
      const errorTimes = () =>
        lines.filter((l) => l.includes(": error (")).map((l) => Number(l.split(" ")[0]));
      await waitFor(async () => errorTimes().length >= 4, 15_000, "4 failed polls");
      const status = (await getJson(store, "/api/sync/status")).body.poll;
      expect(status.enabled).toBe(true);
      expect(status.last_result).toBe("error");
      expect(status.last_error).toMatch(/unreachable/);
      expect(status.consecutive_errors).toBeGreaterThanOrEqual(4);
      const t = errorTimes();
      const gaps = t.slice(1).map((v, i) => v - t[i]!);
      // 150, 300, 600 ms …: each wait about doubles (timers are coarse: allow slack).
      expect(gaps[0]!).toBeGreaterThanOrEqual(140);
      expect(gaps[2]!).toBeGreaterThan(gaps[0]! * 2.5);
      expect(Math.max(...gaps)).toBeLessThan(3300 + 500); // capped at the interval (+10% jitter)
      feed = await startFeed(() => ({ nodes: [synthNode(4)] }), { port });
      await waitFor(
        async () => (await getJson(store, "/api/sync/status")).body.poll.last_result === "changed",
        10_000,
        "recovery",
      );
      const recovered = (await getJson(store, "/api/sync/status")).body.poll;
      expect(recovered).toMatchObject({ last_error: null, consecutive_errors: 0, changed_count: 1 });
      expect((await tableCounts(store)).nodes).toBe(1);
      expect(Date.parse(recovered.next_poll_at) - Date.parse(recovered.last_poll_at)).toBeGreaterThan(2000);
    } finally {
      await store.stop();
      await feed?.close();
    }
  });
});
