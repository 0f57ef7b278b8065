/**
 * Remote probers (PROBER_SECRETS): their key pushes measurements only, measurements never create
 * nodes, and every region is kept side by side — shown by GET /api/nodes/:id and ranked by
 * GET /api/nodes?region=.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startStore } from "../src/store.js";
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
  type TestDriver,
  type TestStore,
  tableCounts,
} from "./helpers.js";

/** A prober's measurement of node `i` (synthNode's link). */
function measurement(i: number, latency: number, availability = 100) {
  return { url: synthNode(i).url, latency, availability };
}

function measurements(region: string, nodes: unknown[], minutes = 5) {
  return {
    event_type: "measurements",
    timestamp: minutesAgo(minutes),
    source: `prober-${region}`,
    region,
    nodes,
  };
}

describe.each(drivers)("probers and regions ($name)", (driver: TestDriver) => {
  let store: TestStore;
  let ids: string[];
  beforeAll(async () => {
    store = await startTestStore(driver, { PROBER_SECRETS: PROBER_SECRET, PROBE_STALE_AFTER: 0 });
  });
  afterAll(() => store?.stop());
  beforeEach(async () => {
    await resetTables(store);
    const r = await push(store, envelope([0, 1, 2, 3].map((i) => synthNode(i))));
    expect(r.status).toBe(200);
    const list = await getJson(store, "/api/nodes?limit=500");
    const byUrl = new Map((list.body.nodes as { url: string; id: string }[]).map((n) => [n.url, n.id]));
    ids = [0, 1, 2, 3].map((i) => {
      const id = [...byUrl.entries()].find(([url]) => url.includes(`pass-${i}@`))?.[1];
      expect(id, `node ${i}`).toBeDefined();
      return id!;
    });
  });

  it.each(["nodes_snapshot", "nodes_updated", "batch_test_complete"])(
    "a prober's key cannot push %s: 403 with the reason, nothing written",
    async (eventType) => {
      const before = await tableCounts(store);
      const r = await push(store, envelope([synthNode(10), synthNode(0)], { event_type: eventType }), {
        secret: PROBER_SECRET,
      });
      expect(r.status).toBe(403);
      expect(r.body.message).toMatch(/PROBER_SECRETS/);
      expect(r.body.message).toContain(eventType);
      expect(await tableCounts(store)).toEqual(before);
      // The hunter's node set is untouched: no stale, no new node.
      const list = await getJson(store, "/api/nodes?status=all");
      expect(list.body.total).toBe(4);
      expect(list.body.nodes.every((n: { status: string }) => n.status === "active")).toBe(true);
    },
  );

  it.each(["spiderflow", "viper-store", "precision"])(
    "a prober's key cannot write measurements as source %s: 403, nothing written",
    async (source) => {
      const before = await tableCounts(store);
      const r = await push(
        store,
        { ...measurements("eu", [measurement(0, 1)]), source },
        { secret: PROBER_SECRET },
      );
      expect(r.status).toBe(403);
      expect(r.body.message).toContain(source);
      expect(await tableCounts(store)).toEqual(before);
    },
  );

  it("a measurement for an unknown node is rejected for that node; the known one lands", async () => {
    const before = await tableCounts(store);
    const r = await push(
      store,
      measurements("eu", [measurement(0, 40), { url: synthNode(99).url, latency: 10, availability: 100 }]),
      { secret: PROBER_SECRET },
    );
    expect(r.status).toBe(200);
    expect(r.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/unknown node/) }]);
    const after = await tableCounts(store);
    expect(after.nodes).toBe(before.nodes);
    expect(after.node_current).toBe(before.node_current! + 1);
    expect((await getJson(store, "/api/nodes/n_0000000000000000")).status).toBe(404);
  });

  it("two probers in different regions: the store keeps both, per node", async () => {
    const eu = await push(
      store,
      measurements(
        "eu",
        [0, 1, 2].map((i) => measurement(i, 100 + i)),
      ),
      { secret: PROBER_SECRET },
    );
    const asia = await push(
      store,
      measurements(
        "asia",
        [0, 1, 2].map((i) => measurement(i, 300 - i, 50)),
      ),
      { secret: PROBER_SECRET },
    );
    expect([eu.status, asia.status]).toEqual([200, 200]);
    const detail = await getJson(store, `/api/nodes/${ids[1]}`);
    expect(detail.status).toBe(200);
    const current = detail.body.current as { source: string; region: string | null; latency: number }[];
    expect(current).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: "prober-eu", region: "eu", latency: 101 }),
        expect.objectContaining({ source: "prober-asia", region: "asia", latency: 299 }),
      ]),
    );
  });

  it("?region= lists only nodes measured there, with that region's metrics, ranked by them", async () => {
    // eu: node 0 slow, node 2 fast; asia: the other way round, and node 3 only there.
    await push(store, measurements("eu", [measurement(0, 400), measurement(2, 30)]), {
      secret: PROBER_SECRET,
    });
    await push(
      store,
      measurements("asia", [measurement(0, 20), measurement(2, 500, 50), measurement(3, 90)]),
      { secret: PROBER_SECRET },
    );
    const eu = await getJson(store, "/api/nodes?region=eu&sort=latency");
    expect(eu.status).toBe(200);
    expect(eu.body.total).toBe(2);
    expect(eu.body.filtered).toBe(true);
    expect(eu.body.nodes.map((n: { id: string; latency: number }) => [n.id, n.latency])).toEqual([
      [ids[2], 30],
      [ids[0], 400],
    ]);
    expect(eu.body.nodes[0].source).toBe("prober-eu");

    const asia = await getJson(store, "/api/nodes?region=asia&sort=latency");
    expect(asia.body.nodes.map((n: { id: string }) => n.id)).toEqual([ids[0], ids[3], ids[2]]);
    // Metric filters read the region's values too.
    const reliable = await getJson(store, "/api/nodes?region=asia&min_availability=90&sort=-latency");
    expect(reliable.body.nodes.map((n: { id: string }) => n.id)).toEqual([ids[3], ids[0]]);
    expect(reliable.body.total).toBe(2);
    // Without region the view mixes every source: node 1 (never probed) is listed too.
    const all = await getJson(store, "/api/nodes");
    expect(all.body.total).toBe(4);
    // A region nobody measured from: an empty list, not an error.
    const none = await getJson(store, "/api/nodes?region=mars");
    expect(none.body).toMatchObject({ total: 0, nodes: [] });
    // Export takes the same filter.
    const exported = await fetch(`${store.url}/api/nodes/export?format=json&region=eu`);
    expect(((await exported.json()) as unknown[]).length).toBe(2);
  });

  it("an empty region= is a 400 naming the parameter", async () => {
    const r = await getJson(store, "/api/nodes?region=");
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe("region");
  });
});

describe("probe configuration", () => {
  it("a V2RAY_BIN that is not an executable stops the store at start, naming it", async () => {
    await expect(
      startStore({
        PORT: 0,
        DATABASE_URL: "pglite:memory",
        WEBHOOK_SECRET: SECRET,
        ADMIN_TOKEN: "test-admin-token-0123456789",
        V2RAY_BIN: "/nonexistent/v2ray",
        log: () => {},
      }),
    ).rejects.toThrow(/V2RAY_BIN="\/nonexistent\/v2ray" is not an executable file/);
  });
});
