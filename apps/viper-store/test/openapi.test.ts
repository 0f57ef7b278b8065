import { validate } from "@scalar/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../src/http/openapi.js";
import {
  NodeListSchema,
  NodeViewSchema,
  SyncStatusSchema,
  TrafficSchema,
} from "../src/http/openapi-schemas.js";
import { drivers, getJson, push, startTestStore, synthNode, type TestStore } from "./helpers.js";

/** Hono `:id` or `:id{regex}` → OpenAPI `{id}`. */
const toOpenApiPath = (path: string) => path.replace(/:(\w+)(\{[^/]*\})?/g, "{$1}");

/** Every route the store has or is getting (DESIGN 5, 7), so the document never drifts from the list. */
const EXPECTED = [
  "POST /webhook/nodes-update",
  "POST /webhook/test-connection",
  "GET /healthz",
  "GET /readyz",
  "GET /api/nodes",
  "GET /api/nodes/{id}",
  "GET /api/nodes/export",
  "POST /api/nodes/export",
  "GET /api/stats/summary",
  "GET /api/stats/top-nodes",
  "GET /api/stats/traffic",
  "GET /api/sync/status",
  "POST /api/sync/poll-now",
  "POST /api/nodes/{id}/check",
  "POST /api/nodes/{id}/quick-test",
  "POST /api/nodes/precision-test",
  "GET /api/nodes/{id}/precision-tests",
  "GET /docs",
  "GET /openapi.json",
].sort();

function documented(doc: ReturnType<typeof buildOpenApiDocument>): string[] {
  return Object.entries(doc.paths ?? {})
    .flatMap(([path, item]) =>
      ["get", "post", "put", "patch", "delete"]
        .filter((m) => (item as Record<string, unknown>)[m])
        .map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

describe("the OpenAPI document", () => {
  const doc = buildOpenApiDocument();

  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("documents exactly the store's endpoint list", () => {
    expect(documented(doc)).toEqual(EXPECTED);
  });

  it("describes the webhook signature and the admin bearer token", () => {
    const schemes = doc.components?.securitySchemes ?? {};
    expect(schemes.adminBearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.webhookSignature).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "webhook-signature",
    });
    expect(doc.paths?.["/api/sync/poll-now"]?.post?.security).toEqual([{ adminBearer: [] }]);
    const webhook = doc.paths?.["/webhook/nodes-update"]?.post;
    expect(webhook?.security).toEqual([{ webhookSignature: [] }]);
    const headers = (webhook?.parameters ?? []).map((p) => ("name" in p ? p.name : ""));
    expect(headers).toEqual(expect.arrayContaining(["webhook-id", "webhook-timestamp", "webhook-signature"]));
  });
});

describe.each(drivers)("the served document and the real app on $name", (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore(driver);
  });
  afterAll(() => store?.stop());

  it("covers every route registered in the app (Hono app.routes)", async () => {
    const res = await getJson(store, "/openapi.json");
    expect(res.status).toBe(200);
    const served = documented(res.body);
    expect(served).toEqual(EXPECTED);
    const registered = [
      ...new Set(
        store.app.routes
          // Middleware (use) is registered as ALL; the docs page's script asset is not an API.
          .filter((r) => r.method !== "ALL" && !r.path.startsWith("/docs/assets/"))
          .map((r) => `${r.method} ${toOpenApiPath(r.path)}`),
      ),
    ];
    expect(registered.length).toBeGreaterThan(10);
    const missing = registered.filter((r) => !served.includes(r));
    expect(missing, "routes missing from /openapi.json").toEqual([]);
  });

  it("the node view schema matches what GET /api/nodes returns", async () => {
    const pushed = await push(store, {
      event_type: "nodes_updated",
      timestamp: new Date(Date.now() - 60_000).toISOString(),
      nodes: [synthNode(1), synthNode(2, { latency: null, speed: null, country: undefined })],
    });
    expect(pushed.status).toBe(200);
    const res = await getJson(store, "/api/nodes");
    const list = NodeListSchema.parse(res.body);
    expect(list.nodes).toHaveLength(2);
    // Strict: a field added to the view without the schema (or the reverse) fails here.
    for (const node of res.body.nodes)
      expect(Object.keys(node).sort()).toEqual(Object.keys(NodeViewSchema.shape).sort());
  });

  it("the sync status and traffic schemas accept the real responses", async () => {
    for (const [path, schema] of [
      ["/api/sync/status", SyncStatusSchema],
      ["/api/stats/traffic", TrafficSchema],
    ] as const) {
      const res = await getJson(store, path);
      expect(res.status, path).toBe(200);
      const parsed = schema.safeParse(res.body);
      expect(parsed.error?.issues ?? [], path).toEqual([]);
    }
  });
});
