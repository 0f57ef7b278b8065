import { readFileSync } from "node:fs";
import { join } from "node:path";
import { normalizePayload } from "@viper/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StatsSummarySchema, TopNodesSchema } from "../src/http/openapi-schemas.js";
import { mergeDelivery } from "../src/services/merge-delivery.js";
import { drivers, fixtureSnapshots, getJson, push, startTestStore, type TestStore } from "./helpers.js";

const { dir: fixtureDir, files: fixtureFiles } = fixtureSnapshots();
if (fixtureFiles.length === 0)
  console.warn(`stats: no snapshots in ${fixtureDir}: the summary is checked on synthetic nodes only`);

interface Expected {
  country: string | null;
  protocol: string;
  latency: number | null;
  speed: number | null;
  availability: number | null;
  active: boolean;
}

interface View {
  id: string;
  status: string;
  country: string | null;
  protocol: string;
  latency: number | null;
  speed: number | null;
  availability: number | null;
}

const BASE = Math.floor(Date.now() / 1000) * 1000 - 1000 * 60_000;
const T = (n: number) => new Date(BASE + n * 600_000).toISOString();

/** Synthetic nodes of their own source ("synth"), with repeated metric values (ties) and gaps. */
function synth(i: number): Record<string, unknown> {
  const kind = i % 3;
  const host = `198.51.100.${i + 1}`;
  const url =
    kind === 0
      ? `trojan://pw${i}@${host}:443#s${i}`
      : kind === 1
        ? `vless://00000000-0000-4000-8000-${String(i).padStart(12, "0")}@${host}:443?type=tcp&encryption=none#s${i}`
        : `ss://${Buffer.from(`aes-256-gcm:pw${i}`).toString("base64")}@${host}:8388#s${i}`;
  return {
    url,
    name: `synth-${i}`,
    ...(i % 5 === 0 ? {} : { country: ["SG", "JP", "US", "DE"][i % 4] }),
    latency: i % 4 === 0 ? null : 10 + ((i * 7) % 13) * 10,
    speed: i % 6 === 0 ? null : ((i * 11) % 9) + 0.5,
    availability: i % 7 === 0 ? null : 40 + ((i * 3) % 7) * 10,
  };
}

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(sorted: number[], p: number): number {
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

function distribution(values: (number | null)[]) {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return { avg: null, p50: null, p90: null };
  return { avg: v.reduce((a, b) => a + b, 0) / v.length, p50: percentile(v, 0.5), p90: percentile(v, 0.9) };
}

function countBy(rows: Expected[], key: (r: Expected) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
}

async function allNodes(store: TestStore): Promise<View[]> {
  const out: View[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = (await getJson(store, `/api/nodes?status=all&limit=500&offset=${offset}`)).body;
    out.push(...page.nodes);
    if (out.length >= page.total) return out;
  }
}

describe.each(drivers)("stats on $name", (driver) => {
  let store: TestStore;
  /** What the test pushed, per node id, as the protocol normalises it (last record wins). */
  const expected = new Map<string, Expected>();
  let webhookWindow: [number, number];
  const POLL_AT = new Date(BASE + 5 * 600_000);

  const normalise = (payload: unknown) => {
    const n = normalizePayload(payload);
    if (!n.ok) throw new Error("test payload does not normalise");
    return n.payload;
  };

  beforeAll(async () => {
    store = await startTestStore(driver);
  });
  afterAll(() => store?.stop());

  it("an empty store: zero totals, empty maps, null distributions and times", async () => {
    const res = await getJson(store, "/api/stats/summary");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      totals: { active: 0, stale: 0 },
      by_country: {},
      by_protocol: {},
      latency: { avg: null, p50: null, p90: null },
      speed: { avg: null, p50: null, p90: null },
      availability: { avg: null, p50: null, p90: null },
      last_webhook_at: null,
      last_poll_at: null,
    });
    expect((await getJson(store, "/api/stats/top-nodes")).body).toEqual({ metric: "speed", nodes: [] });
  });

  it("the summary equals what the test computes from the data it pushed", async () => {
    const started = Date.now();
    // The real hunter snapshots in order: the last file's nodes active, the others stale.
    for (const file of fixtureFiles) {
      const bytes = readFileSync(join(fixtureDir, file));
      const res = await push(store, bytes);
      expect(res.status, file).toBe(200);
      const payload = normalise(JSON.parse(bytes.toString("utf8")));
      const listed = new Set(payload.nodes.map((n) => n.id));
      for (const [id, e] of expected) if (!listed.has(id)) e.active = false;
      for (const n of payload.nodes) {
        expected.set(n.id, {
          country: n.country ?? null,
          protocol: n.protocol,
          latency: null,
          speed: null,
          availability: null,
          active: true,
        });
      }
    }
    // Synthetic nodes with metrics from a source of their own; its second snapshot stales 10.
    const first = {
      event_type: "nodes_snapshot",
      source: "synth",
      timestamp: T(1),
      nodes: [...Array(60).keys()].map(synth),
    };
    const second = { ...first, timestamp: T(2), nodes: first.nodes.slice(0, 50) };
    for (const body of [first, second]) {
      const res = await push(store, body);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const payload = normalise(body);
      const listed = new Set(payload.nodes.map((n) => n.id));
      for (const n of normalise(first).nodes) {
        if (!listed.has(n.id)) expected.get(n.id)!.active = false;
      }
      for (const n of payload.nodes) {
        expected.set(n.id, {
          country: n.country ?? null,
          protocol: n.protocol,
          latency: n.latency,
          speed: n.speed,
          availability: n.availability,
          active: true,
        });
      }
    }
    webhookWindow = [started, Date.now()];
    // One polled delivery, merged as the poller does, at a known receipt time.
    await mergeDelivery(store.db, {
      deliveryId: "poll-stats-1",
      mechanism: "poll",
      payload: normalise({
        event_type: "nodes_updated",
        source: "synth",
        timestamp: T(3),
        nodes: [synth(1)],
      }),
      receivedAt: POLL_AT,
    });

    const res = await getJson(store, "/api/stats/summary");
    expect(res.status).toBe(200);
    const summary = StatsSummarySchema.parse(res.body);
    const active = [...expected.values()].filter((e) => e.active);
    expect(summary.totals).toEqual({ active: active.length, stale: expected.size - active.length });
    expect(summary.by_country).toEqual(countBy(active, (e) => e.country ?? "unknown"));
    expect(summary.by_protocol).toEqual(countBy(active, (e) => e.protocol));
    for (const metric of ["latency", "speed", "availability"] as const) {
      const want = distribution(active.map((e) => e[metric]));
      for (const k of ["avg", "p50", "p90"] as const) {
        expect(summary[metric][k], `${metric}.${k}`).toBeCloseTo(want[k]!, 9);
      }
    }
    const lastWebhook = new Date(summary.last_webhook_at!).getTime();
    expect(lastWebhook).toBeGreaterThanOrEqual(webhookWindow[0] - 1);
    expect(lastWebhook).toBeLessThanOrEqual(webhookWindow[1] + 1);
    expect(summary.last_poll_at).toBe(POLL_AT.toISOString());
  });

  // Every node as GET /api/nodes shows it, read once (the data no longer changes after the summary test).
  let allViews: View[] | undefined;
  const sortOf = (metric: "speed" | "latency" | "availability") => (a: View, b: View) =>
    (metric === "latency" ? a[metric]! - b[metric]! : b[metric]! - a[metric]!) || (a.id < b.id ? -1 : 1);

  it.each([
    ["metric=speed", "speed", {}],
    ["metric=latency&limit=25", "latency", {}],
    ["metric=availability&limit=100", "availability", {}],
    ["", "speed", {}],
    ["metric=latency&country=sg,jp", "latency", { countries: ["SG", "JP"] }],
    ["metric=speed&protocol=VLESS,ss&limit=7", "speed", { protocols: ["vless", "ss"] }],
    ["metric=latency&country=&protocol=", "latency", {}],
  ] as const)("top-nodes?%s equals an independent sort of the active nodes", async (query, metric, f) => {
    const filter = f as { countries?: string[]; protocols?: string[] };
    const res = await getJson(store, `/api/stats/top-nodes?${query}`);
    expect(res.status).toBe(200);
    const body = TopNodesSchema.parse(res.body);
    const limit = Number(new URLSearchParams(query).get("limit") ?? 10);
    allViews ??= await allNodes(store);
    const want = allViews
      .filter(
        (n) =>
          n.status === "active" &&
          n[metric] !== null &&
          (!filter.countries || (n.country !== null && filter.countries.includes(n.country))) &&
          (!filter.protocols || filter.protocols.includes(n.protocol)),
      )
      .sort(sortOf(metric))
      .slice(0, limit);
    expect(want.length).toBeGreaterThan(0);
    expect(body.metric).toBe(metric);
    expect(body.nodes).toEqual(want);
  });

  it.each([
    ["metric=price", "metric"],
    ["metric=", "metric"],
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=ten", "limit"],
    ["country=SGP", "country"],
    ["protocol=carrier-pigeon", "protocol"],
  ])("top-nodes?%s → 400 naming %s", async (query, parameter) => {
    const res = await getJson(store, `/api/stats/top-nodes?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: "error", error: "bad_parameter", parameter });
  });
});
