import { readFileSync } from "node:fs";
import { join } from "node:path";
import { normalizePayload } from "@viper/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/client.js";
import { drivers, fixtureSnapshots, getJson, push, startTestStore, type TestStore } from "./helpers.js";

const { dir, files } = fixtureSnapshots();
if (files.length === 0) console.warn(`skipping fixture replay: no snapshots in ${dir}`);

describe.skipIf(files.length === 0).each(drivers)(
  "replay of the real SpiderFlow snapshots on $name",
  (driver) => {
    let store: TestStore;
    beforeAll(async () => {
      store = await startTestStore(driver);
    });
    afterAll(() => store?.stop());

    it("in time order, as signed snapshot pushes: the active set follows each file, the rest is stale", async () => {
      const everSeen = new Set<string>();
      let lastIds = new Set<string>();
      for (const file of files) {
        const bytes = readFileSync(join(dir, file));
        const res = await push(store, bytes);
        expect(res.status, `${file}: ${JSON.stringify(res.body)}`).toBe(200);
        expect(res.body.status).toBe("success");
        // The expected set, from the file itself: its distinct valid ids.
        const normalized = normalizePayload(JSON.parse(bytes.toString("utf8")));
        if (!normalized.ok) throw new Error(`${file} does not normalise`);
        lastIds = new Set(normalized.payload.nodes.map((n) => n.id));
        for (const id of lastIds) everSeen.add(id);
        expect(res.body.rejected.length).toBe(normalized.rejected.length);

        const active = (await getJson(store, "/api/nodes?limit=500")).body;
        expect(new Set(active.nodes.map((n: { id: string }) => n.id)), file).toEqual(lastIds);
        expect(active.total).toBe(lastIds.size);
      }
      const all = (await getJson(store, "/api/nodes?status=all&limit=500")).body;
      expect(all.total).toBe(everSeen.size);
      const stale = (await getJson(store, "/api/nodes?status=stale&limit=500")).body.nodes as {
        id: string;
        status: string;
      }[];
      expect(new Set(stale.map((n) => n.id))).toEqual(
        new Set([...everSeen].filter((id) => !lastIds.has(id))),
      );
      // Legacy `speed` values are scores: nothing is shown as measured speed.
      expect(all.nodes.every((n: { speed: number | null }) => n.speed === null)).toBe(true);

      // History: every delivery is recorded, with what it did.
      const deliveries = await queryRows<{ n: unknown; inserted: unknown; stale: unknown }>(
        store.db,
        sql`select count(*) as n, sum(inserted) as inserted, sum(stale) as stale from deliveries`,
      );
      expect(Number(deliveries[0]?.n)).toBe(files.length);
      expect(Number(deliveries[0]?.inserted)).toBe(everSeen.size);
      expect(Number(deliveries[0]?.stale)).toBeGreaterThanOrEqual(stale.length);
      const legacy = await queryRows<{ n: unknown }>(
        store.db,
        sql`select count(*) as n from nodes where legacy_score is not null`,
      );
      expect(Number(legacy[0]?.n)).toBeGreaterThan(0);
    });
  },
);
