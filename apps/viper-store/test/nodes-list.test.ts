import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drivers, getJson, push, startTestStore, type TestStore } from "./helpers.js";

interface Spec {
  name: string;
  url: string;
  protocol: string;
  country: string | null;
  latency: number | null;
  speed: number | null;
  availability: number | null;
  stale: boolean;
}

const COUNT = 130;
const SPEEDS = [null, 1, 5, 5, 10, 2.5];
const LATENCIES = [null, 50, 100, 100, 250];
const AVAIL = [null, 70, 80, 95, 100];
const COUNTRIES = ["SG", "JP", "US", null];

/** Input data whose expected views the test computes on its own. */
function specs(): Spec[] {
  return Array.from({ length: COUNT }, (_, i) => {
    const host = `203.0.113.${i + 1}`;
    const kind = i % 3;
    const name = i % 10 === 3 ? `东京 Node-${i} 🇯🇵` : `node-${i}`;
    const url =
      kind === 0
        ? `trojan://pw${i}@${host}:443#x`
        : kind === 1
          ? `vless://00000000-0000-4000-8000-${String(i).padStart(12, "0")}@${host}:443?type=tcp&encryption=none#x`
          : `ss://${Buffer.from(`aes-256-gcm:pw${i}`).toString("base64")}@${host}:8388#x`;
    return {
      name,
      url,
      protocol: ["trojan", "vless", "ss"][kind]!,
      country: COUNTRIES[i % 4]!,
      latency: LATENCIES[i % 5]!,
      speed: SPEEDS[i % 6]!,
      availability: AVAIL[(i * 7) % 5]!,
      stale: i % 7 === 0,
    };
  });
}

type Row = Spec & { id: string };
type Field = "speed" | "latency" | "availability" | "last_seen_at";

function compareNullsLast(a: number | null, b: number | null, descending: boolean): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return descending ? b - a : a - b;
}
const byId = (a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function expected(rows: Row[], q: URLSearchParams, lastSeen: Map<string, number>): Row[] {
  const status = q.get("status") ?? "active";
  const countries = q.get("country")?.toUpperCase().split(",");
  const protocols = q.get("protocol")?.toLowerCase().split(",");
  const minSpeed = q.get("min_speed");
  const maxLatency = q.get("max_latency");
  const minAvail = q.get("min_availability");
  const text = q.get("q");
  const out = rows.filter(
    (r) =>
      (status === "all" || (status === "stale") === r.stale) &&
      (!countries || (r.country !== null && countries.includes(r.country))) &&
      (!protocols || protocols.includes(r.protocol)) &&
      (minSpeed === null || (r.speed !== null && r.speed >= Number(minSpeed))) &&
      (maxLatency === null || (r.latency !== null && r.latency <= Number(maxLatency))) &&
      (minAvail === null || (r.availability !== null && r.availability >= Number(minAvail))) &&
      (text === null || r.name.toLowerCase().includes(text.toLowerCase())),
  );
  const sort = q.get("sort");
  if (!sort) {
    out.sort(
      (a, b) =>
        compareNullsLast(a.speed, b.speed, true) ||
        compareNullsLast(a.latency, b.latency, false) ||
        byId(a, b),
    );
  } else {
    const descending = sort.startsWith("-");
    const field = sort.replace(/^-/, "") as Field;
    const value = (r: Row) => (field === "last_seen_at" ? lastSeen.get(r.id)! : r[field]);
    out.sort((a, b) => compareNullsLast(value(a), value(b), descending) || byId(a, b));
  }
  return out;
}

describe.each(drivers)("GET /api/nodes on $name", (driver) => {
  let store: TestStore;
  let rows: Row[];
  const lastSeen = new Map<string, number>();
  const t1 = new Date(Date.now() - 7200_000).toISOString();
  const t2 = new Date(Date.now() - 3600_000).toISOString();

  beforeAll(async () => {
    store = await startTestStore(driver);
    const all = specs();
    const node = (s: Spec) => ({
      url: s.url,
      name: s.name,
      country: s.country,
      latency: s.latency,
      speed: s.speed,
      availability: s.availability,
    });
    const first = await push(store, { event_type: "nodes_snapshot", timestamp: t1, nodes: all.map(node) });
    expect(first.status).toBe(200);
    const second = await push(store, {
      event_type: "nodes_snapshot",
      timestamp: t2,
      nodes: all.filter((s) => !s.stale).map(node),
    });
    expect(second.body.stale).toBe(all.filter((s) => s.stale).length);
    const listed = (await getJson(store, "/api/nodes?status=all&limit=500")).body.nodes as {
      id: string;
      name: string;
      last_seen_at: string;
    }[];
    expect(listed).toHaveLength(COUNT);
    const idByName = new Map(listed.map((n) => [n.name, n.id]));
    for (const n of listed) lastSeen.set(n.id, Date.parse(n.last_seen_at));
    rows = all.map((s) => ({ ...s, id: idByName.get(s.name)! }));
  });
  afterAll(() => store?.stop());

  const cases = [
    "",
    "sort=speed",
    "sort=-speed",
    "sort=latency",
    "sort=-latency",
    "sort=availability",
    "sort=-availability",
    "sort=last_seen_at&status=all",
    "sort=-last_seen_at&status=all",
    "status=stale",
    "status=all",
    "country=sg,jp",
    "country=US&protocol=vless",
    "protocol=ss,TROJAN",
    "min_speed=5",
    "min_speed=2.5&sort=latency",
    "max_latency=100",
    "min_availability=80&max_latency=250",
    "q=NODE-1",
    "q=东京",
    "q=%25",
    "country=JP&min_speed=1&status=all&sort=-availability",
  ];

  it.each(cases)("matches an independent computation: %s", async (qs) => {
    const params = new URLSearchParams(qs);
    const want = expected(rows, params, lastSeen);
    const res = await getJson(store, `/api/nodes?${qs}&limit=500`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(want.length);
    expect(res.body.filtered).toBe([...params.keys()].some((k) => k !== "sort"));
    expect(res.body.nodes.map((n: Row) => n.id)).toEqual(want.map((r) => r.id));
    for (const n of res.body.nodes as Record<string, unknown>[]) {
      const spec = want.find((r) => r.id === n.id)!;
      expect(n).toMatchObject({
        name: spec.name,
        protocol: spec.protocol,
        country: spec.country,
        latency: spec.latency,
        speed: spec.speed,
        availability: spec.availability,
        status: spec.stale ? "stale" : "active",
      });
    }
  });

  it("pages never overlap and cover every match", async () => {
    for (const sort of ["", "sort=latency", "sort=-last_seen_at&status=all"]) {
      const want = expected(rows, new URLSearchParams(sort), lastSeen).map((r) => r.id);
      const got: string[] = [];
      for (let offset = 0; offset < want.length + 7; offset += 7) {
        const res = await getJson(store, `/api/nodes?${sort}&limit=7&offset=${offset}`);
        expect(res.body.total).toBe(want.length);
        got.push(...res.body.nodes.map((n: Row) => n.id));
      }
      expect(got).toEqual(want);
    }
  });

  it("node view has exactly the documented fields, metrics as JSON numbers", async () => {
    const res = await getJson(store, "/api/nodes?limit=1&min_speed=1");
    expect(Object.keys(res.body).sort()).toEqual(["filtered", "last_updated", "nodes", "total"]);
    expect(Date.parse(res.body.last_updated)).not.toBeNaN();
    const node = res.body.nodes[0];
    expect(Object.keys(node).sort()).toEqual(
      [
        "id",
        "url",
        "name",
        "protocol",
        "host",
        "port",
        "country",
        "latency",
        "speed",
        "availability",
        "status",
        "first_seen_at",
        "last_seen_at",
        "observed_at",
        "source",
      ].sort(),
    );
    expect(typeof node.speed).toBe("number");
    expect(typeof node.port).toBe("number");
    expect(node.source).toBe("spiderflow");
    expect(node.first_seen_at).toBe(t1);
  });

  it("default limit is 100", async () => {
    const res = await getJson(store, "/api/nodes?status=all");
    expect(res.body.total).toBe(COUNT);
    expect(res.body.nodes).toHaveLength(100);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=100000", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["limit=", "limit"],
    ["offset=-5", "offset"],
    ["offset=x", "offset"],
    ["min_speed=abc", "min_speed"],
    ["min_speed=-1", "min_speed"],
    ["max_latency=", "max_latency"],
    ["min_availability=101", "min_availability"],
    ["sort=name", "sort"],
    ["sort=-foo", "sort"],
    ["status=dead", "status"],
    ["country=USA", "country"],
    ["country=sg,,jp", "country"],
    ["protocol=carrier-pigeon", "protocol"],
  ])("400 naming the parameter: %s", async (qs, parameter) => {
    const res = await getJson(store, `/api/nodes?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body.parameter).toBe(parameter);
    expect(res.body.message).toContain(parameter);
  });
});
