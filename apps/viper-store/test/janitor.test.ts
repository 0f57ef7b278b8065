import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimTick, finishTick } from "../src/db/claim.js";
import { queryRows, toNumber } from "../src/db/client.js";
import { waitFor } from "./feed-server.js";
import {
  drivers,
  envelope,
  push,
  startTestStore,
  synthNode,
  type TestStore,
  tableCounts,
} from "./helpers.js";

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
const snapshot = (nodes: unknown[], days: number) =>
  envelope(nodes, { event_type: "nodes_snapshot", mode: "snapshot", timestamp: daysAgo(days) });

/** 40 days ago: nodes 1-3; 10 days ago: 1, 2 (3 goes stale); 3 days ago: 1 (2 goes stale). */
async function seed(store: TestStore) {
  for (const [nodes, days] of [
    [[synthNode(1), synthNode(2), synthNode(3)], 40],
    [[synthNode(1, { latency: 11 }), synthNode(2, { latency: 12 })], 10],
    [[synthNode(1, { latency: 21 })], 3],
  ] as const) {
    const res = await push(store, snapshot([...nodes], days));
    expect(res.status).toBe(200);
    expect(res.body.stale).toBe(days === 40 ? 0 : 1);
  }
}

async function nodeStates(store: TestStore) {
  const rows = await queryRows<{ name: string; status: string }>(
    store.db,
    sql`select name, status from nodes order by name`,
  );
  return rows.map((r) => `${r.name}:${r.status}`);
}

async function oldestHistoryDays(store: TestStore) {
  const rows = await queryRows<{ d: unknown }>(
    store.db,
    sql`select extract(epoch from now() - min(observed_at)) / 86400 as d from node_measurements`,
  );
  return toNumber(rows[0]?.d);
}

describe.each(drivers)("janitor ($name)", (driver) => {
  it("deletes stale nodes past STALE_PURGE_DAYS and history past HISTORY_RETENTION_DAYS, keeps the rest", async () => {
    const store = await startTestStore(driver, {
      STALE_PURGE_DAYS: 7,
      HISTORY_RETENTION_DAYS: 30,
      syncJobs: { janitorIntervalMs: 300 },
    });
    try {
      // The janitor runs every 300 ms meanwhile, so only the end state is certain.
      await seed(store);
      await waitFor(async () => (await tableCounts(store)).nodes === 2, 5_000, "the janitor's purge");
      // node-3 (stale 10 days) is gone with its rows; node-2 (stale 3 days) and node-1 stay.
      expect(await nodeStates(store)).toEqual(["node-1:active", "node-2:stale"]);
      await waitFor(async () => ((await oldestHistoryDays(store)) ?? 99) < 30, 5_000, "history purge");
      const history = await queryRows<{ name: string; n: unknown }>(
        store.db,
        sql`select n.name, count(*) as n from node_measurements m join nodes n on n.id = m.node_id group by n.name order by n.name`,
      );
      // Rows of 10 and 3 days ago stay; those of 40 days ago are gone.
      expect(history.map((r) => `${r.name}:${toNumber(r.n)}`)).toEqual(["node-1:2", "node-2:1"]);
      expect((await tableCounts(store)).node_current).toBe(2); // current values are not history
      const janitor = await queryRows<{ value: Record<string, unknown> }>(
        store.db,
        sql`select value from sync_state where key = 'janitor'`,
      );
      expect(Number(janitor[0]?.value.run_count)).toBeGreaterThanOrEqual(2);
    } finally {
      await store.stop();
    }
  });

  it("0 days means keep forever: nothing is deleted", async () => {
    const store = await startTestStore(driver, {
      STALE_PURGE_DAYS: 0,
      HISTORY_RETENTION_DAYS: 0,
      syncJobs: { janitorIntervalMs: 100 },
    });
    try {
      await seed(store);
      const before = await tableCounts(store);
      const runs = async () =>
        Number(
          (
            await queryRows<{ value: Record<string, unknown> }>(
              store.db,
              sql`select value from sync_state where key = 'janitor'`,
            )
          )[0]?.value.run_count ?? 0,
        );
      const start = await runs();
      await waitFor(async () => (await runs()) >= start + 2, 5_000, "two janitor runs");
      expect(await tableCounts(store)).toEqual(before);
      expect(await nodeStates(store)).toEqual(["node-1:active", "node-2:stale", "node-3:stale"]);
    } finally {
      await store.stop();
    }
  });
});

describe.each(drivers)("claimTick ($name)", (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore(driver);
  });
  afterAll(async () => store?.stop());

  it("one winner per tick; the lease blocks even a forced claim until finishTick", async () => {
    const first = await claimTick(store.db, "test-tick", 400, "a");
    expect(first.claimed).toBe(true);
    await finishTick(store.db, "test-tick", "a");
    // Not due yet: nobody wins, forced claims aside.
    expect((await claimTick(store.db, "test-tick", 400, "b")).claimed).toBe(false);
    await new Promise((r) => setTimeout(r, 450));
    const second = await claimTick(store.db, "test-tick", 400, "b");
    expect(second.claimed).toBe(true);
    expect(second.value.leader).toBe("b");
    // b holds the lease: a forced claim (poll-now) waits for it.
    expect((await claimTick(store.db, "test-tick", 400, "a", { force: true })).claimed).toBe(false);
    await finishTick(store.db, "test-tick", "a"); // not a's lease: changes nothing
    expect((await claimTick(store.db, "test-tick", 400, "a", { force: true })).claimed).toBe(false);
    await finishTick(store.db, "test-tick", "b", { increment: ["runs"], patch: { note: "x" } });
    const forced = await claimTick(store.db, "test-tick", 400, "a", { force: true });
    expect(forced.claimed).toBe(true);
    expect(forced.value).toMatchObject({ runs: 1, note: "x", leader: "a" });
  });

  it.skipIf(driver.name !== "postgres")(
    "concurrent claims from many connections: exactly one wins",
    async () => {
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => claimTick(store.db, "race-tick", 60_000, `r${i}`)),
      );
      expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    },
  );
});
