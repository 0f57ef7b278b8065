import { formatShareLink, parseShareLink } from "@viper/protocol";
import { parse as parseCsv } from "csv-parse/sync";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { exportRoutes } from "../src/http/export.js";
import type { NodeView } from "../src/services/node-query.js";
import { HOSTILE_NAMES, sampleLinks } from "./export-nodes.js";
import { drivers, getJson, minutesAgo, push, startTestStore, type TestStore } from "./helpers.js";

/** More nodes than GET /api/nodes returns by default (100), so "no default limit" is visible. */
const COUNT = 130;

function payloadNodes(): Record<string, unknown>[] {
  const links = Object.values(sampleLinks());
  return Array.from({ length: COUNT }, (_, i) => {
    const link = links[i % links.length]!;
    // Names repeat (every 40) and include the hostile ones, so the clash dedupe has work to do.
    const name = i < HOSTILE_NAMES.length ? HOSTILE_NAMES[i]! : `node ${i % 40}`;
    return {
      url: formatShareLink({ ...link, host: `n${i}.example`, name }),
      name,
      country: ["JP", "DE", "US"][i % 3],
      latency: 20 + (i % 50),
      speed: i % 4 === 0 ? null : 1 + (i % 9),
      availability: 90,
    };
  });
}

describe.each(drivers)("GET|POST /api/nodes/export on $name", (driver) => {
  let store: TestStore;
  let exporter: Hono;

  beforeAll(async () => {
    store = await startTestStore(driver);
    const res = await push(store, {
      event_type: "nodes_snapshot",
      timestamp: minutesAgo(5),
      nodes: payloadNodes(),
    });
    expect(res.status).toBe(200);
    exporter = exportRoutes({ db: store.db, now: () => new Date("2026-05-06T07:08:09Z") });
  });
  afterAll(() => store?.stop());

  /** What GET /api/nodes lists for the same filters (limit raised to its maximum, 500). */
  async function listed(filters: string): Promise<NodeView[]> {
    const res = await getJson(store, `/api/nodes?limit=500${filters ? `&${filters}` : ""}`);
    expect(res.status).toBe(200);
    return res.body.nodes as NodeView[];
  }

  const FILTERS = [
    "",
    "country=jp,de",
    "protocol=vless,ss&sort=latency",
    "min_speed=3&max_latency=60",
    "q=node 1",
  ];

  it.each(FILTERS)(
    "json with filters %j is exactly what /api/nodes lists, with no default limit",
    async (filters) => {
      const res = await exporter.request(`/?format=json&${filters}`);
      expect(res.status).toBe(200);
      const expected = await listed(filters);
      expect(await res.json()).toEqual(expected);
      if (filters === "") expect(expected).toHaveLength(COUNT);
    },
  );

  it("csv, links, base64 and clash carry the same nodes in the same order", async () => {
    const filters = "country=jp,us";
    const expected = await listed(filters);
    expect(expected.length).toBeGreaterThan(50);

    const csv = await exporter.request(`/?format=csv&${filters}`);
    const records: Record<string, string>[] = parseCsv(await csv.text(), { columns: true });
    expect(records.map((r) => r["id"])).toEqual(expected.map((n) => n.id));
    expect(records.map((r) => (r["speed"] === "" ? null : Number(r["speed"])))).toEqual(
      expected.map((n) => n.speed),
    );

    const links = (await (await exporter.request(`/?format=links&${filters}`)).text()).trimEnd().split("\n");
    expect(links).toEqual(expected.map((n) => n.url));

    const base64 = await (await exporter.request(`/?format=base64&${filters}`)).text();
    const decoded = Buffer.from(base64, "base64").toString("utf8").split("\n");
    expect(decoded).toEqual(expected.map((n) => n.url));
    expect(decoded.every((l) => parseShareLink(l).ok)).toBe(true);

    const clash = YAML.parse(await (await exporter.request(`/?format=clash&${filters}`)).text(), {
      version: "1.1",
    });
    expect(clash.proxies.map((p: { server: string }) => p.server)).toEqual(expected.map((n) => n.host));
    const names = clash.proxies.map((p: { name: string }) => p.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("sends the file name, content type and (for subscriptions) profile-update-interval", async () => {
    const clash = await exporter.request("/?format=clash");
    expect(clash.headers.get("content-disposition")).toBe(
      'attachment; filename="viper-nodes-2026-05-06.yaml"',
    );
    expect(clash.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
    expect(clash.headers.get("profile-update-interval")).toBe("6");
    const csv = await exporter.request("/?format=csv");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="viper-nodes-2026-05-06.csv"');
    expect(csv.headers.get("profile-update-interval")).toBeNull();
  });

  it("POST takes the same parameters as a JSON object or a form", async () => {
    const get = await (await exporter.request("/?format=links&country=JP,DE&sort=-latency")).text();
    const json = await exporter.request("/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ format: "links", country: ["JP", "DE"], sort: "-latency" }),
    });
    expect(json.status).toBe(200);
    expect(await json.text()).toBe(get);
    const form = await exporter.request("/", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "format=links&country=JP%2CDE&sort=-latency",
    });
    expect(await form.text()).toBe(get);
  });

  it("limit and offset are honoured when given, beyond the 500 of /api/nodes", async () => {
    const all = (await (await exporter.request("/?format=json")).json()) as NodeView[];
    const page = (await (await exporter.request("/?format=json&limit=7&offset=3")).json()) as NodeView[];
    expect(page).toEqual(all.slice(3, 10));
    expect(((await (await exporter.request("/?format=json&limit=100000")).json()) as NodeView[]).length).toBe(
      COUNT,
    );
  });

  it.each([
    ["format=yaml", "format"],
    ["format=json&min_speed=abc", "min_speed"],
    ["format=json&sort=name", "sort"],
    ["format=json&limit=0", "limit"],
    ["format=json&offset=-1", "offset"],
  ])("bad parameters are 400 naming the parameter: %s", async (query, parameter) => {
    const res = await exporter.request(`/?${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "bad_parameter", parameter });
  });

  it("a POST body that is not a JSON object of parameters is 400 naming the body or the field", async () => {
    for (const body of ["[1]", "{oops", '{"country":{"a":1}}']) {
      const res = await exporter.request("/", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ parameter: body.includes("country") ? "country" : "body" });
    }
  });
});
