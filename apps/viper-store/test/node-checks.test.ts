/**
 * POST /api/nodes/:id/check and /quick-test against real nodes on loopback (a v2ray server), and
 * the scheduler's re-checks: results land as measurements (source viper-store, region $REGION)
 * through the one merge and in the traffic ledger.
 */
import { liveChildPids } from "@viper/probe";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, toNumber } from "../src/db/client.js";
import { monthTraffic } from "../src/db/traffic-queries.js";
import {
  drivers,
  envelope,
  freshPostgresDatabase,
  getJson,
  hasPostgres,
  minutesAgo,
  type PushResult,
  push,
  startTestStore,
  type TestDriver,
  type TestStore,
} from "./helpers.js";
import { hunterNode, NODES_SKIP_REASON, needsNodes, startWorld, V2RAY, type World } from "./probe-world.js";

const REGION = "test-east";
const LIMIT = 12;

async function nodeIds(store: TestStore): Promise<Map<string, string>> {
  const { body } = await getJson(store, "/api/nodes?status=all&limit=500");
  return new Map((body.nodes as { name: string; id: string }[]).map((n) => [n.name, n.id]));
}

async function currentRows(store: TestStore, id: string) {
  const rows = await queryRows<Record<string, unknown>>(
    store.db,
    sql`select source, region, method, latency, speed, availability from node_current where node_id = ${id} order by source, region`,
  );
  return rows.map((r) => ({
    source: r.source,
    region: r.region,
    method: r.method,
    latency: toNumber(r.latency),
    speed: toNumber(r.speed),
    availability: toNumber(r.availability),
  }));
}

async function post(store: TestStore, path: string): Promise<PushResult> {
  const res = await fetch(store.url + path, { method: "POST" });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe.skipIf(NODES_SKIP_REASON !== null)(needsNodes("store checks through real nodes"), () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(V2RAY!);
  });
  afterAll(() => world?.close());

  describe.each(drivers)("$name", (driver: TestDriver) => {
    let store: TestStore;
    let ids: Map<string, string>;
    beforeAll(async () => {
      store = await startTestStore(driver, {
        PROBE_URL: world.target.url,
        PROBE_TIMEOUT_MS: 2000,
        V2RAY_BIN: V2RAY!,
        REGION,
        PROBE_PER_IP_PER_MINUTE: LIMIT,
        PROBE_STALE_AFTER: 0,
      });
      const { nodes } = world.server;
      const r = await push(
        store,
        envelope([
          hunterNode("live-vmess", nodes.vmess, { latency: 80, speed: 3 }),
          hunterNode("live-socks", nodes.socks),
          hunterNode("dead-trojan", { ...nodes.trojanNoTls, port: world.closedPort }),
          hunterNode("reality", {
            ...nodes.vless,
            security: "reality",
            realityPublicKey: "pbk",
            sni: "node.example",
          }),
        ]),
      );
      expect(r.status).toBe(200);
      ids = await nodeIds(store);
    });
    afterAll(() => store?.stop());

    it("a live vmess node passes through the core; the measurement and the ledger row land", async () => {
      const id = ids.get("live-vmess")!;
      const before = (await monthTraffic(store.db, new Date())).probe;
      const r = await post(store, `/api/nodes/${id}/check`);
      // The core of this check has exited before the response was sent.
      expect(liveChildPids()).toEqual([]);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: true, method: "through-node", error: null });
      expect(r.body.latency_ms).toBeGreaterThan(0);
      expect(await currentRows(store, id)).toContainEqual({
        source: "viper-store",
        region: REGION,
        method: "through-node",
        latency: r.body.latency_ms,
        speed: null,
        availability: 100,
      });
      const after = (await monthTraffic(store.db, new Date())).probe;
      expect(after.count).toBe(before.count + 1);
      expect(after.bytes_in).toBeGreaterThan(before.bytes_in);
      expect(after.bytes_out).toBeGreaterThan(before.bytes_out);
      // The hunter's speed stays in the view: a check invents no speed.
      const view = await getJson(store, `/api/nodes?region=${REGION}`);
      expect(view.body.nodes.map((n: { id: string }) => n.id)).toContain(id);
    });

    it("a dead node fails with 200 and is stored as availability 0", async () => {
      const id = ids.get("dead-trojan")!;
      const started = performance.now();
      const r = await post(store, `/api/nodes/${id}/check`);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: false, method: "through-node", latency_ms: null });
      expect(r.body.error).toEqual(expect.any(String));
      expect(await currentRows(store, id)).toEqual([
        {
          source: "viper-store",
          region: REGION,
          method: "through-node",
          latency: null,
          speed: null,
          availability: 0,
        },
      ]);
    });

    it("a REALITY node is unsupported (ok null) and no measurement is written", async () => {
      const id = ids.get("reality")!;
      const r = await post(store, `/api/nodes/${id}/check`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: null, method: "unsupported", latency_ms: null });
      expect(r.body.error).toMatch(/REALITY/);
      expect(await currentRows(store, id)).toEqual([]);
    });

    it("an unknown id is 404 for both endpoints", async () => {
      for (const path of ["check", "quick-test"]) {
        const r = await post(store, `/api/nodes/n_0000000000000000/${path}`);
        expect(r.status).toBe(404);
        expect(r.body).toMatchObject({ error: "not_found" });
      }
    });

    it("quick-test: 3 TCP connects, median latency; booked, not stored as a measurement", async () => {
      const id = ids.get("live-socks")!;
      const before = (await monthTraffic(store.db, new Date())).probe.count;
      const r = await post(store, `/api/nodes/${id}/quick-test`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: true, availability: 100, method: "tcp" });
      expect(r.body.latency_ms).toBeGreaterThan(0);
      expect(await currentRows(store, id)).toEqual([]);
      expect((await monthTraffic(store.db, new Date())).probe.count).toBe(before + 1);

      const dead = await post(store, `/api/nodes/${ids.get("dead-trojan")}/quick-test`);
      expect(dead.body).toMatchObject({ ok: false, availability: 0, latency_ms: null, method: "tcp" });
    });

    it("past PROBE_PER_IP_PER_MINUTE requests from one address: 429 with Retry-After", async () => {
      const statuses: number[] = [];
      let limited: PushResult | undefined;
      for (let i = 0; i <= LIMIT && !limited; i++) {
        const r = await post(store, "/api/nodes/n_0000000000000000/quick-test");
        statuses.push(r.status);
        if (r.status === 429) limited = r;
      }
      expect(limited, `statuses: ${statuses.join(",")}`).toBeDefined();
      expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(limited!.body.message).toMatch(/PROBE_PER_IP_PER_MINUTE/);
      // The checks share the budget.
      expect((await post(store, `/api/nodes/${ids.get("live-vmess")}/check`)).status).toBe(429);
    });
  });

  describe.each(drivers)("scheduled re-checks ($name)", (driver: TestDriver) => {
    let store: TestStore;
    beforeAll(async () => {
      store = await startTestStore(driver, {
        PROBE_URL: world.target.url,
        PROBE_TIMEOUT_MS: 2000,
        V2RAY_BIN: V2RAY!,
        REGION,
        PROBE_STALE_AFTER: 3600,
        probeSchedule: { tickMs: 150, batchSize: 2 },
      });
    });
    afterAll(() => store?.stop());

    it("re-checks a node unobserved for PROBE_STALE_AFTER and one never measured, not a fresh one", async () => {
      const { nodes } = world.server;
      const old = envelope([hunterNode("due-vmess", nodes.vmessWs, { latency: 90 })], {
        timestamp: minutesAgo(120),
      });
      const never = envelope([hunterNode("never-measured", nodes.ssGcm)], { timestamp: minutesAgo(1) });
      const fresh = envelope([hunterNode("fresh-trojan", nodes.trojanNoTls, { latency: 70 })], {
        timestamp: minutesAgo(1),
      });
      // Never measured (so first in line) but untestable: they must not fill the batches of 2.
      const untestable = envelope(
        [
          ...[1, 2, 3].map((i) =>
            hunterNode(`reality-${i}`, {
              ...nodes.vless,
              port: 40_000 + i,
              security: "reality",
              realityPublicKey: "k",
            }),
          ),
          { url: "hysteria2://pw@127.0.0.1:443?sni=node.example#hy2", name: "hy2" },
        ],
        { timestamp: minutesAgo(1) },
      );
      for (const p of [untestable, old, never, fresh]) expect((await push(store, p)).status).toBe(200);
      const ids = await nodeIds(store);

      const deadline = Date.now() + 15_000;
      let due: Awaited<ReturnType<typeof currentRows>> = [];
      let neverRows: typeof due = [];
      while (Date.now() < deadline) {
        due = await currentRows(store, ids.get("due-vmess")!);
        neverRows = await currentRows(store, ids.get("never-measured")!);
        if (due.length > 1 && neverRows.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(due).toContainEqual(
        expect.objectContaining({
          source: "viper-store",
          region: REGION,
          method: "through-node",
          availability: 100,
        }),
      );
      expect(neverRows).toEqual([expect.objectContaining({ source: "viper-store", availability: 100 })]);
      // Several more ticks pass: the fresh node is never checked, the checked ones not again.
      await new Promise((r) => setTimeout(r, 600));
      expect((await currentRows(store, ids.get("fresh-trojan")!)).map((r) => r.source)).toEqual([
        "spiderflow",
      ]);
      // Each due node was checked once: once observed, it is no longer due.
      const checks = await queryRows<{ node_id: string; n: unknown }>(
        store.db,
        sql`select node_id, count(*) as n from node_measurements where source = 'viper-store' group by node_id order by node_id`,
      );
      expect(checks.map((r) => [r.node_id, toNumber(r.n)])).toEqual(
        [ids.get("due-vmess")!, ids.get("never-measured")!].sort().map((id) => [id, 1]),
      );
      expect((await monthTraffic(store.db, new Date())).probe.count).toBe(2);
      expect(await currentRows(store, ids.get("reality-1")!)).toEqual([]);
      expect(liveChildPids()).toEqual([]);
    });
  });
});

describe.skipIf(NODES_SKIP_REASON !== null)(needsNodes("closing the store during a tick"), () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(V2RAY!);
  });
  afterAll(() => world?.close());

  it("stops the running tick at once: its core is gone before close() resolves", async () => {
    const store = await startTestStore(
      { name: "pglite" },
      {
        PROBE_URL: world.target.url,
        PROBE_TIMEOUT_MS: 20_000,
        V2RAY_BIN: V2RAY!,
        PROBE_STALE_AFTER: 3600,
        probeSchedule: { tickMs: 100 },
      },
    );
    try {
      // A vmess "node" that accepts TCP and never answers: the tick's check hangs in the core.
      const hanging = { ...world.server.nodes.vmess, port: world.blackhole.port };
      expect((await push(store, envelope([hunterNode("hanging", hanging)]))).status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (liveChildPids().length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(liveChildPids()).toHaveLength(1);
    } finally {
      const started = performance.now();
      await store.stop();
      expect(performance.now() - started).toBeLessThan(3000);
    }
    expect(liveChildPids()).toEqual([]);
  });
});

describe.skipIf(NODES_SKIP_REASON !== null || !hasPostgres)(
  needsNodes(`two replicas on one Postgres${hasPostgres ? "" : " [skipped: DATABASE_URL_TEST not set]"}`),
  () => {
    let world: World;
    let pg: Awaited<ReturnType<typeof freshPostgresDatabase>>;
    let replicas: TestStore[] = [];
    beforeAll(async () => {
      world = await startWorld(V2RAY!);
      pg = await freshPostgresDatabase();
      const options = {
        DATABASE_URL: pg.url,
        PROBE_URL: world.target.url,
        PROBE_TIMEOUT_MS: 2000,
        V2RAY_BIN: V2RAY!,
        REGION,
        PROBE_STALE_AFTER: 3600,
        probeSchedule: { tickMs: 100, batchSize: 4 },
      };
      // The first migrates; then both run their schedulers against the same schedule row.
      replicas = [await startTestStore({ name: "postgres" }, options)];
      replicas.push(await startTestStore({ name: "postgres" }, options));
    });
    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
      await pg?.drop();
      await world?.close();
    });

    it("never check the same batch twice in one tick: every due node is checked exactly once", async () => {
      const { nodes } = world.server;
      const links = [nodes.vmess, nodes.vmessWs, nodes.vless, nodes.trojanNoTls, nodes.ssGcm, nodes.ssChacha];
      const r = await push(
        replicas[0]!,
        envelope(
          links.map((l, i) => hunterNode(`due-${i}`, l, { latency: 50 })),
          { timestamp: minutesAgo(120) },
        ),
      );
      expect(r.status).toBe(200);
      const deadline = Date.now() + 15_000;
      let measured = 0;
      while (Date.now() < deadline && measured < links.length) {
        const rows = await queryRows<{ n: unknown }>(
          replicas[1]!.db,
          sql`select count(distinct node_id) as n from node_current where source = 'viper-store'`,
        );
        measured = toNumber(rows[0]?.n) ?? 0;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(measured).toBe(links.length);
      await new Promise((res) => setTimeout(res, 500));
      const history = await queryRows<{ node_id: string; n: unknown }>(
        replicas[0]!.db,
        sql`select node_id, count(*) as n from node_measurements where source = 'viper-store' group by node_id`,
      );
      expect(history).toHaveLength(links.length);
      for (const row of history) expect(toNumber(row.n), row.node_id).toBe(1);
      // Batches of 4: at least two ticks were needed, and they were taken one at a time.
      const deliveries = await queryRows<{ n: unknown }>(
        replicas[0]!.db,
        sql`select count(*) as n from deliveries where mechanism = 'probe'`,
      );
      expect(toNumber(deliveries[0]?.n)).toBeGreaterThanOrEqual(2);
    });
  },
);
