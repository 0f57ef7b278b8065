import { normalizePayload } from "@viper/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeDetailSchema } from "../src/http/openapi-schemas.js";
import { mergeDelivery } from "../src/services/merge-delivery.js";
import { drivers, getJson, push, startTestStore, synthNode, type TestStore } from "./helpers.js";

const BASE = Math.floor(Date.now() / 1000) * 1000 - 1000 * 60_000;
const T = (n: number) => new Date(BASE + n * 600_000).toISOString();

describe.each(drivers)("GET /api/nodes/:id on $name", (driver) => {
  let store: TestStore;
  let id: string;
  let otherId: string;
  const send = async (body: Record<string, unknown>) => {
    const res = await push(store, { source: "spiderflow", ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  beforeAll(async () => {
    store = await startTestStore(driver);
    await send({
      event_type: "nodes_updated",
      timestamp: T(1),
      nodes: [synthNode(1, { latency: 100, speed: 5, availability: 90 }), synthNode(2, { latency: 70 })],
    });
    const list = (await getJson(store, "/api/nodes?sort=latency")).body.nodes as {
      id: string;
      name: string;
    }[];
    id = list.find((n) => n.name === "node-1")!.id;
    otherId = list.find((n) => n.name === "node-2")!.id;
    const measure = (timestamp: string, region: string, latency: number) =>
      send({
        event_type: "measurements",
        source: "prober",
        region,
        timestamp,
        nodes: [synthNode(1, { latency, speed: null, availability: null })],
      });
    await measure(T(2), "eu", 40);
    await measure(T(3), "eu", 45);
    await measure(T(4), "us", 300);
    // A store check carries its method (the webhook cannot say one): merged the way the checker does.
    const payload = normalizePayload({
      event_type: "measurements",
      source: "viper-store",
      timestamp: T(5),
      nodes: [synthNode(1, { latency: 12, speed: null, availability: 100 })],
    });
    if (!payload.ok) throw new Error("synthetic measurement does not normalise");
    await mergeDelivery(store.db, {
      deliveryId: "check-1",
      mechanism: "probe",
      method: "tcp",
      payload: payload.payload,
      receivedAt: new Date(),
    });
  });
  afterAll(() => store?.stop());

  it("returns the node view, current values per (source, region, method) and history newest first", async () => {
    const res = await getJson(store, `/api/nodes/${id}`);
    expect(res.status).toBe(200);
    const detail = NodeDetailSchema.parse(res.body);
    const view = (await getJson(store, "/api/nodes?limit=500")).body.nodes.find(
      (n: { id: string }) => n.id === id,
    );
    const { current, history, ...rest } = detail;
    expect(rest).toEqual(view);
    expect(current).toEqual([
      {
        source: "prober",
        region: "eu",
        method: null,
        latency: 45,
        speed: null,
        availability: null,
        observed_at: T(3),
      },
      {
        source: "prober",
        region: "us",
        method: null,
        latency: 300,
        speed: null,
        availability: null,
        observed_at: T(4),
      },
      {
        source: "spiderflow",
        region: null,
        method: null,
        latency: 100,
        speed: 5,
        availability: 90,
        observed_at: T(1),
      },
      {
        source: "viper-store",
        region: null,
        method: "tcp",
        latency: 12,
        speed: null,
        availability: 100,
        observed_at: T(5),
      },
    ]);
    expect(history.map((h) => [h.source, h.region, h.latency, h.observed_at])).toEqual([
      ["viper-store", null, 12, T(5)],
      ["prober", "us", 300, T(4)],
      ["prober", "eu", 45, T(3)],
      ["prober", "eu", 40, T(2)],
      ["spiderflow", null, 100, T(1)],
    ]);
  });

  it("filters current values and history by region, '' meaning no region", async () => {
    const eu = NodeDetailSchema.parse((await getJson(store, `/api/nodes/${id}?region=eu`)).body);
    expect(eu.current.map((c) => c.latency)).toEqual([45]);
    expect(eu.history.map((h) => h.latency)).toEqual([45, 40]);
    const none = NodeDetailSchema.parse((await getJson(store, `/api/nodes/${id}?region=`)).body);
    expect(none.history.map((h) => h.source)).toEqual(["viper-store", "spiderflow"]);
  });

  it("caps the history at history_limit, newest kept", async () => {
    const res = await getJson(store, `/api/nodes/${id}?history_limit=2`);
    expect(res.body.history.map((h: { latency: number }) => h.latency)).toEqual([12, 300]);
    expect(res.body.current).toHaveLength(4);
  });

  it("a node measured only by its hunter has one current value and one history row", async () => {
    const res = await getJson(store, `/api/nodes/${otherId}`);
    expect(res.status).toBe(200);
    expect(res.body.current).toHaveLength(1);
    expect(res.body.history).toHaveLength(1);
  });

  it.each([
    ["history_limit=0", "history_limit"],
    ["history_limit=501", "history_limit"],
    ["history_limit=abc", "history_limit"],
    [`region=${"x".repeat(65)}`, "region"],
  ])("?%s → 400 naming %s", async (query, parameter) => {
    const res = await getJson(store, `/api/nodes/${id}?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: "error", error: "bad_parameter", parameter });
  });

  it("404 with a JSON reason for an unknown id and for what is not an id", async () => {
    for (const path of ["/api/nodes/n_0000000000000000", "/api/nodes/n_XYZ", "/api/nodes/whatever"]) {
      const res = await getJson(store, path);
      expect(res.status, path).toBe(404);
      expect(res.body.status).toBe("error");
      expect(res.body.message.length).toBeGreaterThan(0);
    }
    expect((await getJson(store, "/api/nodes/n_0000000000000000")).body.error).toBe("node_not_found");
  });

  it("does not capture the fixed paths under /api/nodes", async () => {
    const res = await fetch(`${store.url}/api/nodes/export?format=links`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).not.toContain("application/json");
  });
});
