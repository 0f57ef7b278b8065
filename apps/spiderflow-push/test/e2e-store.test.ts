/**
 * End to end against a real viper-store (in-memory PGlite) on loopback. Network trouble is made by
 * real servers in front of it (an HTTP front for 503/429, a TCP proxy that drops a reply).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { collapseNodes } from "@viper/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPusher, prepareFromDocument, testWebhookConnection } from "../src/index.js";
import { runCliProcess } from "./cli-helpers.js";
import { makeTempDir, syntheticNodes, testSecret } from "./helpers.js";
import { type RealStore, startRealStore, storeSkipReason } from "./real-store.js";
import { fixtureSnapshots, startHttpFront, startLossyProxy } from "./store-helpers.js";

const secret = testSecret();
let store: RealStore;
let dir: { path: string; remove(): Promise<void> };
let webhook: string;
let historyFile: string;
let run = 0;

async function deliveryIds(): Promise<string[]> {
  const rows = await store.db.query.deliveries.findMany({ columns: { id: true } });
  return rows.map((row) => row.id);
}

async function activeNodeIds(): Promise<Set<string>> {
  const response = await fetch(`${store.url}/api/nodes?limit=500`);
  const page = (await response.json()) as { total: number; nodes: Array<{ id: string }> };
  expect(page.nodes).toHaveLength(page.total);
  return new Set(page.nodes.map((node) => node.id));
}

function pusher(url = webhook, extra: Partial<Parameters<typeof createPusher>[0]> = {}) {
  return createPusher({ url, secrets: secret, retryDelayMs: 50, timeoutMs: 10_000, historyFile, ...extra });
}

describe.skipIf(storeSkipReason !== undefined)(
  `against a real viper-store${storeSkipReason ? ` (skipped: ${storeSkipReason})` : ""}`,
  () => {
    beforeAll(async () => {
      dir = await makeTempDir("spiderflow-push-e2e-");
      store = await startRealStore(secret, dir.path);
      webhook = `${store.url}/webhook/nodes-update`;
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await dir?.remove();
    });
    beforeEach(() => {
      historyFile = join(dir.path, `history-${run++}.jsonl`);
    });

    it("test-connection reports the store, protocol 1 and a small skew", async () => {
      const result = await testWebhookConnection({ url: webhook, secrets: secret });
      expect(result).toMatchObject({ ok: true, receiver: "viper-store", protocolVersion: 1 });
      expect(Math.abs(result.clockSkewS ?? 99)).toBeLessThanOrEqual(1);
    });

    const fixtures = fixtureSnapshots();
    it.skipIf(fixtures.skipReason !== undefined)(
      `pushes every fixture in order; unchanged ones are skipped, the rest applied (${fixtures.skipReason ?? `${fixtures.files.length} files`})`,
      async () => {
        const sender = pusher();
        let lastHash: string | undefined;
        let lastIds = new Set<string>();
        for (const file of fixtures.files) {
          const document: unknown = JSON.parse(await readFile(file, "utf8"));
          const prepared = prepareFromDocument(document);
          const before = (await deliveryIds()).length;
          const outcome = await sender.pushPrepared(prepared);
          if (prepared.contentHash === lastHash) {
            expect(outcome.status, file).toBe("skipped");
            expect((await deliveryIds()).length).toBe(before);
          } else {
            expect(outcome.status, `${file}: ${outcome.reason}`).toBe("delivered");
            expect(outcome.attempts).toHaveLength(1);
            expect(await deliveryIds()).toContain(outcome.deliveryId);
            lastHash = prepared.contentHash;
            lastIds = new Set(collapseNodes(prepared.payload.nodes).map((node) => node.id));
          }
        }
        // Every fixture is a full snapshot of the same source: what is active is the last one's nodes,
        // under the ids the sender computed (the canonical links it sends re-derive the same identity).
        expect(await activeNodeIds()).toEqual(lastIds);
      },
      90_000,
    );

    it("a 401 (wrong secret) is not retried, the store's reason is surfaced, nothing is written", async () => {
      const before = (await deliveryIds()).length;
      const outcome = await pusher(webhook, { secrets: testSecret() }).push(syntheticNodes(3), {
        eventType: "nodes_updated",
      });
      expect(outcome.status).toBe("refused");
      expect(outcome.httpStatus).toBe(401);
      expect(outcome.attempts).toHaveLength(1);
      expect(outcome.reason).toMatch(/signature/);
      expect((await deliveryIds()).length).toBe(before);
    });

    it("503 then success: retried and applied once", async () => {
      const front = await startHttpFront(store.url, (index) => (index === 0 ? { status: 503 } : undefined));
      try {
        const outcome = await pusher(front.url("/webhook/nodes-update")).push(syntheticNodes(4, 11), {
          eventType: "nodes_updated",
        });
        expect(outcome.status).toBe("delivered");
        expect(outcome.attempts.map((a) => a.httpStatus)).toEqual([503, 200]);
        expect((await deliveryIds()).filter((id) => id === outcome.deliveryId)).toHaveLength(1);
        expect(outcome.response).toMatchObject({ status: "success", received: 4 });
      } finally {
        await front.close();
      }
    });

    it("Retry-After from the receiver is honoured before the retry", async () => {
      const front = await startHttpFront(store.url, (index) =>
        index === 0 ? { status: 429, headers: { "Retry-After": "1" } } : undefined,
      );
      try {
        const outcome = await pusher(front.url("/webhook/nodes-update")).push(syntheticNodes(4, 12), {
          eventType: "nodes_updated",
        });
        expect(outcome.status).toBe("delivered");
        expect(outcome.attempts[0]?.retryInMs).toBe(1000);
        const gap = Date.parse(outcome.attempts[1]?.at ?? "") - Date.parse(outcome.attempts[0]?.at ?? "");
        expect(gap).toBeGreaterThanOrEqual(1000);
      } finally {
        await front.close();
      }
    });

    it("a reply lost after the store applied the delivery: the retry is a duplicate, applied once", async () => {
      const port = Number(new URL(store.url).port);
      const proxy = await startLossyProxy(port);
      try {
        const nodes = syntheticNodes(6, 13);
        const before = await store.db.query.nodeMeasurements.findMany({ columns: { id: true } });
        const outcome = await pusher(`http://127.0.0.1:${proxy.port}/webhook/nodes-update`).push(nodes, {
          eventType: "nodes_updated",
        });
        expect(proxy.dropped).toBe(1);
        expect(outcome.attempts).toHaveLength(2);
        expect(outcome.attempts[0]?.httpStatus).toBeUndefined();
        expect(outcome.status).toBe("duplicate");
        expect(outcome.response).toMatchObject({ status: "duplicate", delivery_id: outcome.deliveryId });
        expect((await deliveryIds()).filter((id) => id === outcome.deliveryId)).toHaveLength(1);
        // One measurement row per node from this delivery, not two.
        const after = await store.db.query.nodeMeasurements.findMany({ columns: { id: true } });
        expect(after.length - before.length).toBe(6);
      } finally {
        await proxy.close();
      }
    });

    it("an unchanged second CLI run is skipped; both runs exit 0", async () => {
      const file = join(dir.path, "cli-nodes.json");
      const { writeFile } = await import("node:fs/promises");
      await writeFile(file, JSON.stringify({ event_type: "nodes_updated", nodes: syntheticNodes(8, 14) }));
      const env = { VIPER_WEBHOOK_URL: webhook, WEBHOOK_SECRET: secret, PUSH_HISTORY_FILE: historyFile };
      const before = (await deliveryIds()).length;
      const first = await runCliProcess(["push", file, "--json"], env);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ status: "delivered", nodeCount: 8 });
      const second = await runCliProcess(["push", file, "--json"], env);
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ status: "skipped", deliveryId: null });
      expect((await deliveryIds()).length).toBe(before + 1);
      const connection = await runCliProcess(["test-connection", "--json"], env);
      expect(connection.code).toBe(0);
      expect(JSON.parse(connection.stdout)).toMatchObject({ ok: true, receiver: "viper-store" });
    });
  },
);
