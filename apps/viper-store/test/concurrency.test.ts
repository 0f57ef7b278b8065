import { signRequest } from "@viper/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  envelope,
  hasPostgres,
  SECRET,
  startTestStore,
  synthNode,
  type TestStore,
  tableCounts,
} from "./helpers.js";

// PGlite is one connection and serialises transactions, so it cannot show a race: real Postgres only.
if (!hasPostgres)
  console.warn("skipping concurrency tests: DATABASE_URL_TEST is not set (PGlite cannot race)");

describe.skipIf(!hasPostgres)("concurrent deliveries on postgres", () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore({ name: "postgres" });
  });
  afterAll(() => store?.stop());

  const send = (bytes: Buffer, headers: Record<string, string>) =>
    fetch(`${store.url}/webhook/nodes-update`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: bytes,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string } }));

  it("parallel copies of one delivery apply once; the others answer duplicate", async () => {
    const nodes = Array.from({ length: 300 }, (_, i) => synthNode(i));
    const bytes = Buffer.from(JSON.stringify(envelope(nodes, { event_type: "nodes_snapshot" })));
    const headers = signRequest({ body: bytes, secrets: SECRET, id: "same-delivery" });
    const results = await Promise.all(Array.from({ length: 8 }, () => send(bytes, headers)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(results.filter((r) => r.body.status === "success")).toHaveLength(1);
    expect(results.filter((r) => r.body.status === "duplicate")).toHaveLength(7);
    expect(await tableCounts(store)).toEqual({
      nodes: 300,
      node_current: 300,
      node_measurements: 300,
      deliveries: 1,
    });
  });

  it("parallel different deliveries over the same nodes all apply, without deadlocks", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, k) => {
        const nodes = Array.from({ length: 200 }, (_, i) =>
          synthNode((i * 7 + k * 13) % 250, { latency: k + 1 }),
        );
        const bytes = Buffer.from(
          JSON.stringify(envelope(nodes, { timestamp: new Date(Date.now() - k * 1000).toISOString() })),
        );
        return send(bytes, signRequest({ body: bytes, secrets: SECRET, id: `parallel-${k}` }));
      }),
    );
    expect(results.map((r) => [r.status, r.body.status])).toEqual(Array(6).fill([200, "success"]));
  });
});
