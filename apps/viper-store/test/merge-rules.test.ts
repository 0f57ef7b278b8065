import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/client.js";
import { drivers, getJson, push, resetTables, startTestStore, synthNode, type TestStore } from "./helpers.js";

interface View {
  id: string;
  name: string;
  status: string;
  latency: number | null;
  speed: number | null;
  availability: number | null;
  last_seen_at: string;
  observed_at: string | null;
  source: string | null;
}

describe.each(drivers)("merge rules on $name", (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore(driver);
  });
  afterAll(() => store?.stop());
  beforeEach(() => resetTables(store));

  // T(1) < T(2) < … fixed instants in the past, as the store prints them.
  const BASE = Math.floor(Date.now() / 1000) * 1000 - 1000 * 60_000;
  const T = (n: number) => new Date(BASE + n * 600_000).toISOString();
  const send = async (body: Record<string, unknown>) => {
    const res = await push(store, { source: "spiderflow", ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const all = async (): Promise<Map<string, View>> => {
    const res = await getJson(store, "/api/nodes?status=all&limit=500");
    return new Map(res.body.nodes.map((n: View) => [n.name.replace(/^renamed-/, "node-"), n]));
  };
  const history = async (id: string) =>
    queryRows<{ latency: number | null; source: string }>(
      store.db,
      sql`select latency, source from node_measurements where node_id = ${id} order by observed_at, id`,
    );

  it("an older delivery never regresses current values or descriptive fields", async () => {
    await send({
      event_type: "nodes_updated",
      timestamp: T(2),
      nodes: [synthNode(1, { latency: 10, name: "renamed-1" })],
    });
    const older = await send({
      event_type: "nodes_updated",
      timestamp: T(1),
      nodes: [synthNode(1, { latency: 99 })],
    });
    expect(older).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    const node = (await all()).get("node-1")!;
    expect(node).toMatchObject({ latency: 10, name: "renamed-1", last_seen_at: T(2), observed_at: T(2) });
    // The older observation lands in history only.
    expect((await history(node.id)).map((h) => h.latency)).toEqual([99, 10]);
  });

  it("history: one row per delivery whose metrics changed", async () => {
    await send({ event_type: "nodes_updated", timestamp: T(1), nodes: [synthNode(1, { latency: 10 })] });
    const same = await send({
      event_type: "nodes_updated",
      timestamp: T(2),
      nodes: [synthNode(1, { latency: 10 })],
    });
    expect(same.updated).toBe(1); // last_seen_at and observed_at moved forward
    await send({ event_type: "nodes_updated", timestamp: T(3), nodes: [synthNode(1, { latency: 12 })] });
    const node = (await all()).get("node-1")!;
    expect(node).toMatchObject({ latency: 12, observed_at: T(3), last_seen_at: T(3) });
    expect((await history(node.id)).map((h) => h.latency)).toEqual([10, 12]);
  });

  it("an unchanged re-push reports unchanged and writes nothing new", async () => {
    const body = { event_type: "nodes_snapshot", timestamp: T(1), nodes: [synthNode(1), synthNode(2)] };
    await send(body);
    const versions = () =>
      queryRows<{ v: string }>(
        store.db,
        sql`select string_agg(xmin::text, ',' order by id) as v from nodes
            union all select string_agg(xmin::text, ',' order by node_id) from node_current`,
      );
    const before = await versions();
    const again = await send(body);
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 2, stale: 0 });
    // No row was rewritten (a rewrite gives the row a new xmin).
    expect(await versions()).toEqual(before);
    const rows = await queryRows<{ n: unknown }>(store.db, sql`select count(*) as n from node_measurements`);
    expect(Number(rows[0]?.n)).toBe(2);
  });

  it("duplicates inside one payload collapse, the last record wins", async () => {
    const res = await send({
      event_type: "nodes_updated",
      timestamp: T(1),
      nodes: [synthNode(1, { latency: 1, name: "first" }), synthNode(1, { latency: 2, name: "last" })],
    });
    expect(res).toMatchObject({ received: 2, inserted: 1 });
    const nodes = (await getJson(store, "/api/nodes")).body.nodes;
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ name: "last", latency: 2 });
  });

  it("snapshot stales the owner's unlisted nodes; older snapshots neither stale nor revive", async () => {
    await send({
      event_type: "nodes_snapshot",
      timestamp: T(2),
      nodes: [synthNode(1), synthNode(2), synthNode(3)],
    });
    // Older snapshot without node-2 and node-3: stales nothing.
    const older = await send({ event_type: "nodes_snapshot", timestamp: T(1), nodes: [synthNode(1)] });
    expect(older.stale).toBe(0);
    expect([...(await all()).values()].every((n) => n.status === "active")).toBe(true);

    const newer = await send({
      event_type: "nodes_snapshot",
      timestamp: T(4),
      nodes: [synthNode(1), synthNode(3)],
    });
    expect(newer.stale).toBe(1);
    let nodes = await all();
    expect(nodes.get("node-2")!.status).toBe("stale");
    expect(nodes.get("node-2")!.last_seen_at).toBe(T(2));

    // Listed by a delivery older than stale_since: not revived.
    const late = await send({ event_type: "nodes_updated", timestamp: T(3), nodes: [synthNode(2)] });
    expect(late.revived).toBe(0);
    expect((await all()).get("node-2")!.status).toBe("stale");
    // Stale nodes are hidden by default.
    const active = (await getJson(store, "/api/nodes")).body;
    expect(active.nodes.map((n: View) => n.name).sort()).toEqual(["node-1", "node-3"]);

    // Newer than stale_since: revived.
    const revive = await send({ event_type: "nodes_updated", timestamp: T(5), nodes: [synthNode(2)] });
    expect(revive).toMatchObject({ revived: 1, updated: 1 });
    nodes = await all();
    expect(nodes.get("node-2")).toMatchObject({ status: "active", last_seen_at: T(5) });
  });

  it("a snapshot with no valid node stales nothing and says so", async () => {
    await send({ event_type: "nodes_snapshot", timestamp: T(1), nodes: [synthNode(1)] });
    const empty = await send({ event_type: "nodes_snapshot", timestamp: T(2), nodes: [{ url: "garbage" }] });
    expect(empty.stale).toBe(0);
    expect(empty.rejected).toHaveLength(1);
    expect(empty.warnings.join(" ")).toMatch(/no valid node/);
    const none = await send({ event_type: "nodes_snapshot", timestamp: T(3), nodes: [] });
    expect(none.stale).toBe(0);
    expect((await all()).get("node-1")!.status).toBe("active");
  });

  it("a snapshot only stales nodes its own source owns", async () => {
    await send({ event_type: "nodes_snapshot", timestamp: T(1), nodes: [synthNode(1)] });
    await send({
      source: "other-hunter",
      event_type: "nodes_snapshot",
      timestamp: T(1),
      nodes: [synthNode(2)],
    });
    const res = await send({ event_type: "nodes_snapshot", timestamp: T(2), nodes: [synthNode(3)] });
    expect(res.stale).toBe(1);
    const nodes = await all();
    expect(nodes.get("node-1")!.status).toBe("stale");
    expect(nodes.get("node-2")!.status).toBe("active");
  });

  it("a delta never stales anything", async () => {
    await send({ event_type: "nodes_snapshot", timestamp: T(1), nodes: [synthNode(1), synthNode(2)] });
    const res = await send({ event_type: "nodes_updated", timestamp: T(2), nodes: [synthNode(3)] });
    expect(res.stale).toBe(0);
    expect([...(await all()).values()].every((n) => n.status === "active")).toBe(true);
  });

  it("the view shows per metric the newest non-null over every (source, region)", async () => {
    await send({
      event_type: "nodes_updated",
      timestamp: T(1),
      nodes: [synthNode(1, { latency: 100, speed: 5, availability: 90 })],
    });
    const m = (timestamp: string, region: string, extra: Record<string, unknown>) =>
      send({ event_type: "measurements", source: "prober", region, timestamp, nodes: [synthNode(1, extra)] });
    await m(T(2), "eu", { latency: 40, speed: null, availability: null });
    let node = (await all()).get("node-1")!;
    expect(node).toMatchObject({
      latency: 40,
      speed: 5,
      availability: 90,
      source: "prober",
      observed_at: T(2),
    });
    // An older measurement from another region: history only, the view keeps the newest.
    await m(T(1), "us", { latency: 300, speed: null, availability: null });
    node = (await all()).get("node-1")!;
    expect(node).toMatchObject({ latency: 40, source: "prober", observed_at: T(2) });
    // Measurements never move last_seen_at or ownership.
    expect(node.last_seen_at).toBe(T(1));
    const current = await queryRows<{ source: string; region: string }>(
      store.db,
      sql`select source, region from node_current where node_id = ${node.id} order by source, region`,
    );
    expect(current).toEqual([
      { source: "prober", region: "eu" },
      { source: "prober", region: "us" },
      { source: "spiderflow", region: "" },
    ]);
  });

  it("measurements never create nodes", async () => {
    const res = await send({
      event_type: "measurements",
      source: "prober",
      timestamp: T(1),
      nodes: [synthNode(1)],
    });
    expect(res).toMatchObject({ inserted: 0, updated: 0 });
    expect(res.rejected).toHaveLength(1);
    expect((await all()).size).toBe(0);
  });

  it("last_seen_at is the payload timestamp, not receipt time; receipt time is on the delivery", async () => {
    const res = await send({ event_type: "nodes_updated", timestamp: T(1), nodes: [synthNode(1)] });
    expect((await all()).get("node-1")!.last_seen_at).toBe(T(1));
    const rows = await queryRows<{ received_at: Date; payload_timestamp: Date; mechanism: string }>(
      store.db,
      sql`select received_at, payload_timestamp, mechanism from deliveries where id = ${res.delivery_id}`,
    );
    expect(rows[0]!.mechanism).toBe("webhook");
    expect(new Date(rows[0]!.payload_timestamp).toISOString()).toBe(T(1));
    expect(Date.now() - new Date(rows[0]!.received_at).getTime()).toBeLessThan(60_000);
  });

  it("one transaction per delivery: a failure after the delivery row leaves nothing behind", async () => {
    await send({ event_type: "nodes_snapshot", timestamp: T(1), nodes: [synthNode(1), synthNode(2)] });
    const before = await queryRows(store.db, sql`select id, status, last_seen_at from nodes order by id`);
    const delivery = {
      source: "spiderflow",
      event_type: "nodes_snapshot",
      timestamp: T(2),
      nodes: [synthNode(1, { latency: 1 }), synthNode(3)],
    };
    // Fails the statement that comes after the delivery row and every node effect.
    await store.db.execute(sql`
      create or replace function fail_sync_state() returns trigger language plpgsql as
      $$ begin raise exception 'forced failure after the delivery row'; end $$`);
    await store.db.execute(sql`
      create trigger fail_sync_state before insert or update on sync_state
      for each row execute function fail_sync_state()`);
    try {
      const res = await push(
        store,
        {
          source: "spiderflow",
          event_type: "nodes_snapshot",
          timestamp: T(2),
          nodes: [synthNode(1, { latency: 1 }), synthNode(3)],
        },
        { id: "atomic-1" },
      );
      expect(res.status).toBe(500);
    } finally {
      await store.db.execute(sql`drop trigger fail_sync_state on sync_state`);
    }
    expect(await queryRows(store.db, sql`select id, status, last_seen_at from nodes order by id`)).toEqual(
      before,
    );
    const counts = await queryRows<{ d: unknown; m: unknown; c: unknown }>(
      store.db,
      sql`select (select count(*) from deliveries where id = 'atomic-1') as d,
        (select count(*) from node_measurements) as m, (select count(*) from node_current) as c`,
    );
    expect([Number(counts[0]!.d), Number(counts[0]!.m), Number(counts[0]!.c)]).toEqual([0, 2, 2]);
    // The same delivery, retried, applies (it was never recorded as applied).
    const retry = await push(store, delivery, { id: "atomic-1" });
    expect(retry.body).toMatchObject({ status: "success", inserted: 1, stale: 1 });
  });

  it("a stale node listed by a measurement stays stale; last_seen_at and ownership do not move", async () => {
    await send({ event_type: "nodes_snapshot", timestamp: T(1), nodes: [synthNode(1), synthNode(2)] });
    await send({ event_type: "nodes_snapshot", timestamp: T(2), nodes: [synthNode(1)] });
    const res = await send({
      event_type: "measurements",
      source: "prober",
      timestamp: T(5),
      nodes: [synthNode(2, { latency: 7 })],
    });
    expect(res).toMatchObject({ revived: 0, stale: 0, inserted: 0 });
    const node = (await all()).get("node-2")!;
    expect(node).toMatchObject({ status: "stale", last_seen_at: T(1), latency: 7, source: "prober" });
    // A measurement snapshot never stales the listed source's nodes either.
    const snap = await send({
      event_type: "measurements",
      mode: "snapshot",
      source: "spiderflow",
      timestamp: T(6),
      nodes: [synthNode(2)],
    });
    expect(snap.stale).toBe(0);
    expect((await all()).get("node-1")!.status).toBe("active");
  });

  it("a snapshot stales only nodes last seen before its timestamp", async () => {
    await send({ event_type: "nodes_updated", timestamp: T(1), nodes: [synthNode(1)] });
    await send({ event_type: "nodes_updated", timestamp: T(3), nodes: [synthNode(2)] });
    const res = await send({ event_type: "nodes_snapshot", timestamp: T(2), nodes: [synthNode(3)] });
    expect(res.stale).toBe(1);
    const nodes = await all();
    expect(nodes.get("node-1")).toMatchObject({ status: "stale" });
    expect(nodes.get("node-2")).toMatchObject({ status: "active", last_seen_at: T(3) });
    // stale_since is the snapshot's timestamp: a delivery at exactly that time does not revive.
    const same = await send({ event_type: "nodes_updated", timestamp: T(2), nodes: [synthNode(1)] });
    expect(same.revived).toBe(0);
    expect((await all()).get("node-1")!.status).toBe("stale");
  });

  it("last_seen_at is the payload timestamp even when the node's tested_at is older", async () => {
    await send({ event_type: "nodes_updated", timestamp: T(3), nodes: [synthNode(1, { tested_at: T(1) })] });
    expect((await all()).get("node-1")).toMatchObject({ last_seen_at: T(3), observed_at: T(1) });
  });

  it("duplicates in one payload give one history row per node (the last record's metrics)", async () => {
    await send({
      event_type: "nodes_updated",
      timestamp: T(1),
      nodes: [synthNode(1, { latency: 1 }), synthNode(1, { latency: 2 }), synthNode(1, { latency: 3 })],
    });
    const node = (await all()).get("node-1")!;
    expect((await history(node.id)).map((h) => h.latency)).toEqual([3]);
  });

  it("an older observation from the same (source, region) lands in history, never in current", async () => {
    const m = (timestamp: string, latency: number) =>
      send({
        event_type: "measurements",
        source: "prober",
        region: "eu",
        timestamp,
        nodes: [synthNode(1, { latency })],
      });
    await send({ event_type: "nodes_updated", timestamp: T(1), nodes: [synthNode(1, { latency: 100 })] });
    await m(T(4), 40);
    const older = await m(T(3), 30);
    expect(older).toMatchObject({ updated: 0, unchanged: 1 });
    const node = (await all()).get("node-1")!;
    expect(node).toMatchObject({ latency: 40, observed_at: T(4) });
    const current = await queryRows<{ latency: number }>(
      store.db,
      sql`select latency from node_current where node_id = ${node.id} and source = 'prober' and region = 'eu'`,
    );
    expect(current).toEqual([{ latency: 40 }]);
    expect((await history(node.id)).map((h) => h.latency)).toEqual([100, 30, 40]);
  });
});
