/**
 * POST /api/nodes/precision-test and GET /api/nodes/:id/precision-tests against real servers on
 * loopback: @viper/probe's paced file server (counts its requests and bytes), a real v2ray server
 * with http and vmess inbounds as the nodes, the store on a real port. Every refusal is shown to
 * download nothing (the file server saw no request) and to write no row.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startThrottledServer,
  type ThrottledServer,
} from "../../../packages/probe/test/support/throttled-server.js";
import { selfSignedCert } from "../../../packages/probe/test/support/tls-cert.js";
import { startV2rayServer, type V2rayServer } from "../../../packages/probe/test/support/v2ray-server.js";
import { queryRows, toNumber } from "../src/db/client.js";
import { precisionTests } from "../src/db/schema.js";
import { monthTraffic } from "../src/db/traffic-queries.js";
import { startStore } from "../src/store.js";
import {
  drivers,
  envelope,
  getJson,
  hasPostgres,
  push,
  SECRET,
  startTestStore,
  type TestDriver,
  type TestStore,
} from "./helpers.js";
import { closedPort, hunterNode, NODES_SKIP_REASON, needsNodes, V2RAY } from "./probe-world.js";

const MB = 1_000_000;
const RATE = 4 * MB; // the file server's pace: a 1 MB test takes 0.25 s
const MAX_MB = 5;
const MAX_SECONDS = 5;
const REGION = "lab";

interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

async function precision(store: TestStore, body: unknown): Promise<Reply> {
  const res = await fetch(`${store.url}/api/nodes/precision-test`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

interface SseEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  data: any;
  at: number;
}

/**
 * Opens the SSE variant and collects events; `stopAfter(events)` returning true disconnects the
 * client right there. Resolves with the events once the stream ends (or was cut).
 */
async function precisionStream(
  store: TestStore,
  body: unknown,
  stopAfter?: (events: SseEvent[]) => boolean,
): Promise<{ status: number; events: SseEvent[] }> {
  const client = new AbortController();
  const res = await fetch(`${store.url}/api/nodes/precision-test`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify(body),
    signal: client.signal,
  });
  const events: SseEvent[] = [];
  if (!res.body) return { status: res.status, events };
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n");
        events.push({ event, data: JSON.parse(data), at: performance.now() });
        end = buffer.indexOf("\n\n");
      }
      if (stopAfter?.(events)) {
        client.abort();
        break;
      }
    }
  } catch (err) {
    if (!client.signal.aborted) throw err;
  }
  return { status: res.status, events };
}

async function nodeIds(store: TestStore): Promise<Map<string, string>> {
  const { body } = await getJson(store, "/api/nodes?status=all&limit=500");
  return new Map((body.nodes as { name: string; id: string }[]).map((n) => [n.name, n.id]));
}

async function testRows(store: TestStore, nodeId?: string) {
  const rows = await store.db.select().from(precisionTests);
  return nodeId ? rows.filter((r) => r.nodeId === nodeId) : rows;
}

async function precisionLedger(store: TestStore) {
  return (await monthTraffic(store.db, new Date())).precision;
}

async function precisionCurrent(store: TestStore, nodeId: string) {
  const rows = await queryRows<Record<string, unknown>>(
    store.db,
    sql`select region, method, speed, latency, availability from node_current where node_id = ${nodeId} and source = 'precision'`,
  );
  return rows.map((r) => ({ ...r, speed: toNumber(r.speed) }));
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

const REALITY = {
  security: "reality",
  realityPublicKey: "pbk",
  sni: "node.example",
} as const;

describe.skipIf(NODES_SKIP_REASON !== null)(needsNodes("precision test through real nodes"), () => {
  let files: ThrottledServer;
  let nodes: V2rayServer;
  let urls: string;
  let deadPort: number;
  beforeAll(async () => {
    deadPort = await closedPort();
    const pem = selfSignedCert();
    if (!pem) throw new Error("openssl is needed for the test certificate");
    [files, nodes] = await Promise.all([startThrottledServer(), startV2rayServer(V2RAY!, pem)]);
    urls = `${files.origin}/file?bytes={bytes}&rate=${RATE}`;
  });
  afterAll(async () => {
    await Promise.all([files?.close(), nodes?.close()]);
  });

  async function storeWithNodes(driver: TestDriver, overrides: Record<string, string | number>) {
    const store = await startTestStore(driver, {
      PRECISION_TEST_URLS: urls,
      PRECISION_MAX_MB: MAX_MB,
      PRECISION_MAX_SECONDS: MAX_SECONDS,
      PROBE_STALE_AFTER: 0,
      POLL_INTERVAL: 0,
      V2RAY_BIN: V2RAY!,
      REGION,
      ...overrides,
    });
    const r = await push(
      store,
      envelope([
        hunterNode("http-node", nodes.nodes.http),
        hunterNode("vmess-node", nodes.nodes.vmess),
        hunterNode("reality-node", { ...nodes.nodes.vless, ...REALITY }),
        hunterNode("dead-http-node", { ...nodes.nodes.http, port: deadPort }),
      ]),
    );
    expect(r.status).toBe(200);
    return { store, ids: await nodeIds(store) };
  }

  describe.each(drivers)("$name", (driver: TestDriver) => {
    let store: TestStore;
    let ids: Map<string, string>;
    const id = (name: string) => ids.get(name)!;
    beforeAll(async () => {
      ({ store, ids } = await storeWithNodes(driver, {
        PRECISION_MAX_CONCURRENT: 1,
        PRECISION_PER_IP_PER_HOUR: 100,
      }));
    });
    afterAll(() => store?.stop());

    it("asks for confirmation (428) with the traffic it will cost, downloading nothing", async () => {
      const hits = files.hits("/file");
      const r = await precision(store, { node_id: id("http-node"), size_mb: 2 });
      expect(r.status).toBe(428);
      expect(r.body).toMatchObject({
        requires_confirmation: true,
        estimated_traffic_bytes: 2 * MB,
        message: "将下载2MB文件，消耗2MB流量",
      });
      expect(r.body.message_en).toContain("2 MB");
      const notConfirmed = await precision(store, { node_id: id("http-node"), size_mb: 2, confirm: false });
      expect(notConfirmed.status).toBe(428);
      expect(files.hits("/file")).toBe(hits);
      expect(await testRows(store)).toHaveLength(0);
    });

    it("refuses any URL in the request (400), wherever it is, before downloading", async () => {
      const hits = files.hits("/file");
      const base = { node_id: id("http-node"), size_mb: 1, confirm: true };
      for (const [body, field] of [
        [{ ...base, url: `${files.origin}/file?bytes=1000000` }, "url"],
        [{ ...base, test_url: "anything" }, "test_url"],
        [{ ...base, via: "http://169.254.169.254/latest/meta-data/" }, "via"],
        [{ ...base, options: { source: "https://evil.example/x" } }, "options.source"],
        [{ ...base, node_id: "//evil.example/file" }, "node_id"],
      ] as const) {
        const r = await precision(store, body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error).toBe("url_not_allowed");
        expect(r.body.parameter).toBe(field);
        expect(r.body.message).toContain("PRECISION_TEST_URLS");
      }
      expect(files.hits("/file")).toBe(hits);
      expect(await testRows(store)).toHaveLength(0);
    });

    it("refuses a size over PRECISION_MAX_MB, fractional or zero (400 naming size_mb), and bad bodies", async () => {
      const hits = files.hits("/file");
      for (const size of [MAX_MB + 1, 1.5, 0, -1, "2"]) {
        const r = await precision(store, { node_id: id("http-node"), size_mb: size, confirm: true });
        expect(r.status, String(size)).toBe(400);
        expect(r.body.parameter).toBe("size_mb");
        expect(r.body.message).toContain("PRECISION_MAX_MB");
      }
      const unknownField = await precision(store, {
        node_id: id("http-node"),
        size_mb: 1,
        confirm: true,
        speed: 9,
      });
      expect(unknownField.status).toBe(400);
      expect(unknownField.body.parameter).toBe("speed");
      const badVia = await precision(store, {
        node_id: id("http-node"),
        size_mb: 1,
        confirm: true,
        via: "moon",
      });
      expect(badVia.status).toBe(400);
      expect(badVia.body.parameter).toBe("via");
      expect((await precision(store, "{not json")).status).toBe(400);
      const huge = { node_id: id("http-node"), size_mb: 1, confirm: true, pad: "x".repeat(20_000) };
      expect((await precision(store, huge)).status).toBe(413);
      expect(files.hits("/file")).toBe(hits);
      expect(await testRows(store)).toHaveLength(0);
    });

    it("answers 404 for an unknown node and 422 for a node that cannot be tested through", async () => {
      const unknown = await precision(store, { node_id: "n_0000000000000000", size_mb: 1, confirm: true });
      expect(unknown.status).toBe(404);
      const reality = await precision(store, { node_id: id("reality-node"), size_mb: 1, confirm: true });
      expect(reality.status).toBe(422);
      expect(reality.body.error).toBe("untestable");
      expect(reality.body.message).toMatch(/reality/i);
      // Even unconfirmed: no point confirming traffic for a test that cannot run.
      expect((await precision(store, { node_id: id("reality-node"), size_mb: 1 })).status).toBe(422);
      expect(await testRows(store)).toHaveLength(0);
    });

    it("measures through an http node: result, row, ledger and a precision measurement", async () => {
      const ledgerBefore = await precisionLedger(store);
      const r = await precision(store, { node_id: id("http-node"), size_mb: 2, confirm: true });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        status: "success",
        via: "node",
        path: "native",
        bytes_downloaded: 2 * MB,
        node_id: id("http-node"),
        size_bytes: 2 * MB,
        error: null,
      });
      // The meter's ±5 % is @viper/probe's suite; on this shared machine the store only needs sense.
      expect(r.body.mb_per_s).toBeGreaterThan((RATE / MB) * 0.5);
      expect(r.body.mb_per_s).toBeLessThan((RATE / MB) * 1.1);
      expect(r.body.mbit_per_s).toBeCloseTo(r.body.mb_per_s * 8, 2);
      expect(r.body.ttfb_ms).toBeGreaterThanOrEqual(0);
      expect(r.body.traffic_consumed_bytes).toBeGreaterThan(2 * MB);
      expect(r.body.traffic_consumed_bytes).toBeLessThan(2 * MB + 64 * 1024);
      expect(r.body).not.toHaveProperty("note");

      const ledgerAfter = await precisionLedger(store);
      expect(ledgerAfter.bytes_in - ledgerBefore.bytes_in).toBe(r.body.traffic_consumed_bytes);
      expect(ledgerAfter.count - ledgerBefore.count).toBe(1);
      const [row] = await testRows(store, id("http-node"));
      expect(row).toMatchObject({ id: r.body.test_id, status: "success", via: "node", sizeBytes: 2 * MB });
      expect(row?.finishedAt).not.toBeNull();
      expect(Number(row?.trafficConsumedBytes)).toBe(r.body.traffic_consumed_bytes);
      expect(await precisionCurrent(store, id("http-node"))).toEqual([
        { region: REGION, method: "precision", speed: r.body.mb_per_s, latency: null, availability: null },
      ]);
    });

    it("a test that fails says why, is stored and booked, and is no measurement", async () => {
      const ledgerBefore = await precisionLedger(store);
      const r = await precision(store, { node_id: id("dead-http-node"), size_mb: 1, confirm: true });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: "failed", via: "node", bytes_downloaded: 0, mb_per_s: null });
      expect(r.body.error).toMatch(/no test URL answered/);
      const [row] = await testRows(store, id("dead-http-node"));
      expect(row).toMatchObject({ status: "failed", error: r.body.error });
      const ledgerAfter = await precisionLedger(store);
      expect(ledgerAfter.count - ledgerBefore.count).toBe(1);
      expect(ledgerAfter.bytes_in - ledgerBefore.bytes_in).toBe(r.body.traffic_consumed_bytes);
      expect(await precisionCurrent(store, id("dead-http-node"))).toEqual([]);
    });

    it("measures through a vmess node with a v2ray core", async () => {
      const r = await precision(store, { node_id: id("vmess-node"), size_mb: 1, confirm: true });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: "success", via: "node", path: "core", bytes_downloaded: MB });
      expect(r.body.mb_per_s).toBeGreaterThan((RATE / MB) * 0.5);
      expect((await precisionCurrent(store, id("vmess-node")))[0]?.speed).toBe(r.body.mb_per_s);
    });

    it("via direct only when asked, labelled as the store's own link, and no node measurement", async () => {
      const ask = await precision(store, { node_id: id("reality-node"), size_mb: 1, via: "direct" });
      expect(ask.status).toBe(428);
      expect(ask.body.note).toMatch(/store's own link/);
      const r = await precision(store, {
        node_id: id("reality-node"),
        size_mb: 1,
        confirm: true,
        via: "direct",
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        status: "success",
        via: "direct",
        path: "direct",
        bytes_downloaded: MB,
      });
      expect(r.body.note).toMatch(/store's own link.*not the node/);
      expect(await precisionCurrent(store, id("reality-node"))).toEqual([]);
      expect((await testRows(store, id("reality-node")))[0]).toMatchObject({
        via: "direct",
        status: "success",
      });
    });

    it("streams progress at least 4 times a second, then the result", async () => {
      const started = performance.now();
      const { status, events } = await precisionStream(store, {
        node_id: id("http-node"),
        size_mb: 4,
        confirm: true,
      });
      const elapsedS = (performance.now() - started) / 1000;
      expect(status).toBe(200);
      const progress = events.filter((e) => e.event === "progress");
      expect(events.at(-1)?.event).toBe("result");
      expect(events.at(-1)?.data).toMatchObject({ status: "success", bytes_downloaded: 4 * MB });
      expect(elapsedS).toBeGreaterThan(0.9);
      expect(progress.length).toBeGreaterThanOrEqual(Math.floor(elapsedS * 4) - 1);
      const gaps = progress.slice(1).map((e, i) => e.at - progress[i]!.at);
      expect(Math.max(...gaps)).toBeLessThan(500);
      expect(progress[0]?.data).toHaveProperty("bytes");
      expect(progress[0]?.data).toHaveProperty("percent");
      expect(progress[0]?.data).toHaveProperty("current_mb_per_s");
      const mid = progress.find((e) => e.data.percent > 20 && e.data.percent < 100);
      expect(mid?.data.current_mb_per_s).toBeGreaterThan(1);
    });

    it("a client that disconnects stops the download at the file server; the bytes are still booked", async () => {
      const ledgerBefore = await precisionLedger(store);
      const written = files.bytesWritten();
      const { events } = await precisionStream(
        store,
        { node_id: id("http-node"), size_mb: MAX_MB, confirm: true },
        (seen) => seen.filter((e) => e.event === "progress" && e.data.bytes > 0).length >= 2,
      );
      expect(events.some((e) => e.event === "result")).toBe(false);
      // The server side sees its connection close, and no more bytes go out.
      expect(await until(() => files.openConnections() === 0, 3000)).toBe(true);
      const sent = files.bytesWritten() - written;
      await new Promise((r) => setTimeout(r, 300));
      expect(files.bytesWritten() - written).toBe(sent);
      expect(sent).toBeLessThan(MAX_MB * MB * 0.6);
      const finished = await until(
        async () => (await testRows(store, id("http-node"))).some((r) => r.status === "aborted"),
        3000,
      );
      expect(finished).toBe(true);
      const aborted = (await testRows(store, id("http-node"))).find((r) => r.status === "aborted")!;
      expect(aborted.finishedAt).not.toBeNull();
      expect(Number(aborted.bytesDownloaded)).toBeGreaterThan(0);
      const ledgerAfter = await precisionLedger(store);
      expect(ledgerAfter.bytes_in - ledgerBefore.bytes_in).toBe(Number(aborted.trafficConsumedBytes));
    });

    it("a JSON client that disconnects aborts the test too", async () => {
      const client = new AbortController();
      const request = fetch(`${store.url}/api/nodes/precision-test`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ node_id: id("vmess-node"), size_mb: MAX_MB, confirm: true }),
        signal: client.signal,
      }).catch((err: Error) => err);
      await until(
        async () => (await testRows(store, id("vmess-node"))).some((r) => r.status === "running"),
        3000,
      );
      await new Promise((r) => setTimeout(r, 300));
      client.abort();
      expect(await request).toBeInstanceOf(Error);
      const aborted = await until(
        async () => (await testRows(store, id("vmess-node"))).some((r) => r.status === "aborted"),
        3000,
      );
      expect(aborted).toBe(true);
      expect(await until(() => files.openConnections() === 0, 3000)).toBe(true);
    });

    it("one running test per node (409) and PRECISION_MAX_CONCURRENT overall (429), with Retry-After", async () => {
      let refusals: Reply[] = [];
      let asked = false;
      const first = precisionStream(
        store,
        { node_id: id("http-node"), size_mb: 4, confirm: true },
        // While the first test runs: the same node again, then another node.
        (seen) => {
          if (!asked && seen.length > 0) {
            asked = true;
            void Promise.all([
              precision(store, { node_id: id("http-node"), size_mb: 1, confirm: true }),
              precision(store, { node_id: id("vmess-node"), size_mb: 1, confirm: true }),
            ]).then((r) => {
              refusals = r;
            });
          }
          return false;
        },
      );
      const { events } = await first;
      expect(events.at(-1)?.data.status).toBe("success");
      expect(await until(() => refusals.length === 2, 2000)).toBe(true);
      const [sameNode, otherNode] = refusals;
      expect(sameNode?.status).toBe(409);
      expect(sameNode?.body.error).toBe("precision_test_running");
      expect(Number(sameNode?.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(otherNode?.status).toBe(429);
      expect(otherNode?.body.error).toBe("precision_concurrency");
      expect(otherNode?.body.message).toContain("PRECISION_MAX_CONCURRENT");
      expect(Number(otherNode?.headers.get("retry-after"))).toBeGreaterThan(0);
      // Once it has finished, the next test runs.
      expect((await precision(store, { node_id: id("vmess-node"), size_mb: 1, confirm: true })).status).toBe(
        200,
      );
    });

    it("a running row left by a crashed replica blocks nothing once older than the time cap", async () => {
      const startedAt = new Date(Date.now() - (MAX_SECONDS + 61) * 1000);
      await store.db.insert(precisionTests).values({
        id: "pt_crashed",
        nodeId: id("vmess-node"),
        via: "node",
        sizeBytes: MB,
        reservedBytes: MB,
        status: "running",
        clientIp: "192.0.2.1",
        startedAt,
      });
      const r = await precision(store, { node_id: id("vmess-node"), size_mb: 1, confirm: true });
      expect(r.status).toBe(200);
      const crashed = (await testRows(store)).find((row) => row.id === "pt_crashed");
      expect(crashed?.status).toBe("abandoned");
      expect(crashed?.finishedAt).not.toBeNull();
    });

    it("lists a node's tests newest first, with a limit", async () => {
      const all = await getJson(store, `/api/nodes/${id("http-node")}/precision-tests`);
      expect(all.status).toBe(200);
      const tests = all.body.tests as { started_at: string; status: string; id: string }[];
      expect(tests.length).toBe(await testRows(store, id("http-node")).then((r) => r.length));
      const times = tests.map((t) => t.started_at);
      expect([...times].sort().reverse()).toEqual(times);
      expect(tests.map((t) => t.status)).toContain("aborted");
      expect(tests[0]).toMatchObject({
        via: "node",
        size_bytes: expect.any(Number),
        mb_per_s: expect.any(Number),
      });
      const two = await getJson(store, `/api/nodes/${id("http-node")}/precision-tests?limit=2`);
      expect(two.body.tests.map((t: { id: string }) => t.id)).toEqual(tests.slice(0, 2).map((t) => t.id));
      expect((await getJson(store, "/api/nodes/n_0000000000000000/precision-tests")).status).toBe(404);
      expect((await getJson(store, `/api/nodes/${id("http-node")}/precision-tests?limit=0`)).status).toBe(
        400,
      );
    });

    it("(last: stops the store) graceful shutdown ends a running SSE test at once, recording it first", async () => {
      let closed: Promise<number> | undefined;
      const { events } = await precisionStream(
        store,
        { node_id: id("http-node"), size_mb: MAX_MB, confirm: true },
        (seen) => {
          if (!closed && seen.some((e) => e.event === "progress" && e.data.bytes > 0)) {
            const t0 = performance.now();
            closed = store.stop().then(() => performance.now() - t0);
          }
          return false;
        },
      );
      const closeMs = await closed!;
      // Without the abort the stream would hold server.close() until the 5 s cap (1.25 s of file).
      expect(closeMs).toBeLessThan(1000);
      expect(events.at(-1)).toMatchObject({ event: "result", data: { status: "aborted" } });
      expect(events.at(-1)?.data.bytes_downloaded).toBeLessThan(MAX_MB * MB);
    });
  });

  it.skipIf(!hasPostgres)("limits hold across two replicas on one Postgres (concurrency 1)", async () => {
    const { store: first, ids } = await storeWithNodes({ name: "postgres" }, { PRECISION_MAX_CONCURRENT: 1 });
    const second = await startStore({
      PORT: 0,
      HOST: "127.0.0.1",
      DATA_DIR: mkdtempSync(join(tmpdir(), "viper-store-test-")),
      DATABASE_URL: first.env.DATABASE_URL,
      WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN: "test-admin-token-0123456789",
      PRECISION_TEST_URLS: urls,
      PRECISION_MAX_SECONDS: MAX_SECONDS,
      PRECISION_MAX_CONCURRENT: 1,
      PROBE_STALE_AFTER: 0,
      POLL_INTERVAL: 0,
      V2RAY_BIN: V2RAY!,
      log: () => {},
    });
    try {
      // Three at once, on two replicas, for three nodes: the database lets exactly one through.
      const replies = await Promise.all([
        precision(first, { node_id: ids.get("http-node")!, size_mb: 1, confirm: true }),
        precision(second as TestStore, { node_id: ids.get("vmess-node")!, size_mb: 1, confirm: true }),
        precision(second as TestStore, {
          node_id: ids.get("reality-node")!,
          size_mb: 1,
          confirm: true,
          via: "direct",
        }),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 429, 429]);
      for (const r of replies.filter((x) => x.status === 429))
        expect(r.body.error).toBe("precision_concurrency");
      expect((await testRows(first)).length).toBe(1);
    } finally {
      await second.close();
      await first.stop();
    }
  });

  describe.each(drivers)("$name: the month's budget and the per-IP allowance", (driver: TestDriver) => {
    let store: TestStore;
    let ids: Map<string, string>;
    beforeAll(async () => {
      ({ store, ids } = await storeWithNodes(driver, {
        // 2.5 MB: one 1 MB test fits, then a 2 MB one no longer does (the first one's bytes count).
        TRAFFIC_BUDGET_GB: "0.0025",
        PRECISION_PER_IP_PER_HOUR: 2,
        PRECISION_MAX_CONCURRENT: 2,
      }));
    });
    afterAll(() => store?.stop());

    it("refuses past the budget (429 with the figures), then past the hourly allowance (429 + Retry-After)", async () => {
      const node = ids.get("http-node")!;
      expect((await precision(store, { node_id: node, size_mb: 1, confirm: true })).status).toBe(200);

      const hits = files.hits("/file");
      const rows = (await testRows(store)).length;
      const over = await precision(store, { node_id: node, size_mb: 2, confirm: true });
      expect(over.status).toBe(429);
      expect(over.body.error).toBe("traffic_budget_exhausted");
      expect(over.body.message).toContain("TRAFFIC_BUDGET_GB");
      expect(over.body.budget_bytes).toBe(2_500_000);
      expect(over.body.used_bytes).toBeGreaterThan(MB);
      expect(over.body.requested_bytes).toBeGreaterThan(2 * MB);
      expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(files.hits("/file")).toBe(hits);
      expect((await testRows(store)).length).toBe(rows);

      expect((await precision(store, { node_id: node, size_mb: 1, confirm: true })).status).toBe(200);
      const third = await precision(store, { node_id: node, size_mb: 1, confirm: true });
      expect(third.status).toBe(429);
      expect(third.body.error).toBe("rate_limited");
      expect(third.body.message).toContain("PRECISION_PER_IP_PER_HOUR");
      const retryAfter = Number(third.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(3500);
      expect(retryAfter).toBeLessThanOrEqual(3600);
    });
  });
});
