import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatShareLink, parseShareLink } from "./links.js";
import { defaultMode, normalizePayload } from "./payload.js";
import { nodeInputSchema, payloadEnvelopeSchema, payloadInputSchema } from "./schemas.js";
import type { NormalizedNode, NormalizeResult, Payload } from "./types.js";

const NOW = new Date("2026-01-01T12:00:00Z");
const UUID = "9204afcd-023e-481f-9abc-c12efccd1344";
const VLESS = `vless://${UUID}@192.0.2.1:443?type=ws&path=%2Fws&security=tls&sni=a.example#from-link`;
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function ok(result: NormalizeResult): Extract<NormalizeResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.issues)}`);
  return result;
}

function issues(result: NormalizeResult) {
  if (result.ok) throw new Error("expected an envelope error");
  return result.issues;
}

const envelope = (extra: Record<string, unknown> = {}) => ({
  event_type: "nodes_updated",
  timestamp: "2026-01-01T11:59:00Z",
  nodes: [{ url: VLESS }],
  ...extra,
});

function only(payload: Payload): NormalizedNode {
  expect(payload.nodes).toHaveLength(1);
  return payload.nodes[0] as NormalizedNode;
}

describe("v1 envelope", () => {
  it("normalises a full payload", () => {
    const r = ok(
      normalizePayload(
        {
          event_type: "batch_test_complete",
          timestamp: "2026-01-01T19:30:00+08:00",
          source: "hunter-1",
          region: "azure-eastasia",
          total_count: 150,
          verified_count: 145,
          nodes: [
            {
              url: VLESS,
              name: "SG节点",
              country: "sg",
              latency: 123.45,
              speed: 45.67,
              availability: 95.5,
              legacy_score: 50,
            },
          ],
        },
        { now: NOW },
      ),
    );
    const parsed = parseShareLink(VLESS);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(r.payload).toEqual({
      event_type: "batch_test_complete",
      mode: "snapshot",
      timestamp: "2026-01-01T11:30:00.000Z",
      source: "hunter-1",
      region: "azure-eastasia",
      total_count: 150,
      verified_count: 145,
      nodes: [
        {
          id: expect.stringMatching(/^n_[0-9a-f]{16}$/),
          node_key: `v1|vless|192.0.2.1|443|${UUID}|ws|/ws||tls|a.example`,
          url: formatShareLink({ ...parsed.link, name: "SG节点" }),
          name: "SG节点",
          protocol: "vless",
          host: "192.0.2.1",
          port: 443,
          country: "SG",
          latency: 123.45,
          speed: 45.67,
          availability: 95.5,
          legacy_score: 50,
          tested_at: "2026-01-01T11:30:00.000Z",
        },
      ],
    });
    expect(r.rejected).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it.each([
    ["nodes_updated", "delta"],
    ["batch_test_complete", "snapshot"],
    ["nodes_snapshot", "snapshot"],
    ["measurements", "delta"],
    ["test_push", "delta"],
  ] as const)("defaults mode of %s to %s; an explicit mode wins", (eventType, mode) => {
    expect(defaultMode(eventType)).toBe(mode);
    expect(ok(normalizePayload(envelope({ event_type: eventType }), { now: NOW })).payload.mode).toBe(mode);
    const other = mode === "delta" ? "snapshot" : "delta";
    expect(
      ok(normalizePayload(envelope({ event_type: eventType, mode: other }), { now: NOW })).payload.mode,
    ).toBe(other);
  });

  it("defaults source to spiderflow, region to null, nodes to none, counts to null", () => {
    const r = ok(
      normalizePayload({ event_type: "test_push", timestamp: "2026-01-01T11:00:00Z" }, { now: NOW }),
    );
    expect(r.payload).toMatchObject({
      source: "spiderflow",
      region: null,
      nodes: [],
      total_count: null,
      verified_count: null,
    });
  });

  it("ignores unknown fields of the envelope and of nodes", () => {
    const r = ok(
      normalizePayload(
        envelope({ version: 9, nodes: [{ url: VLESS, updated_at: "x", delay: 5, content: {} }] }),
        { now: NOW },
      ),
    );
    expect(only(r.payload)).not.toHaveProperty("delay");
    expect(r.warnings).toEqual([]);
  });

  it("drops a malformed informational count with a warning", () => {
    const r = ok(normalizePayload(envelope({ total_count: "many" }), { now: NOW }));
    expect(r.payload.total_count).toBeNull();
    expect(r.warnings.join()).toMatch(/total_count/);
  });
});

describe("envelope errors (400): the whole payload is refused with readable issues", () => {
  it.each([
    ["a string", "nodes"],
    ["a number", 42],
    ["null", null],
    ["a boolean", true],
  ])("refuses %s as a payload", (_label, input) => {
    const [issue] = issues(normalizePayload(input, { now: NOW }));
    expect(issue?.message).toMatch(/must be a JSON object .* or an array of nodes/);
  });

  it("refuses a bad event_type, naming the allowed ones", () => {
    const found = issues(normalizePayload(envelope({ event_type: "nodes_deleted" }), { now: NOW }));
    expect(found).toEqual([
      { path: "event_type", message: expect.stringContaining("nodes_updated, batch_test_complete") },
    ]);
  });

  it("refuses a bad mode", () => {
    expect(issues(normalizePayload(envelope({ mode: "full" }), { now: NOW }))).toEqual([
      { path: "mode", message: "mode must be delta or snapshot" },
    ]);
  });

  it.each([
    ["missing", undefined],
    ["naive (no offset)", "2026-01-01T11:00:00"],
    ["a date only", "2026-01-01"],
    ["unix seconds", 1767268800],
    ["an impossible date", "2026-02-30T10:00:00Z"],
    ["garbage", "yesterday"],
  ])("refuses a timestamp that is %s", (_label, timestamp) => {
    const found = issues(normalizePayload(envelope({ timestamp }), { now: NOW }));
    expect(found[0]?.path).toBe("timestamp");
    expect(found[0]?.message).toMatch(/ISO 8601 .*offset/);
  });

  it("says whether the timestamp is missing or of the wrong type", () => {
    expect(issues(normalizePayload(envelope({ timestamp: undefined }), { now: NOW }))[0]?.message).toMatch(
      /^timestamp is required/,
    );
    expect(issues(normalizePayload(envelope({ timestamp: 5 }), { now: NOW }))[0]?.message).toMatch(
      /^timestamp must be a string/,
    );
  });

  it("refuses a timestamp beyond the clock tolerance, accepts one within it", () => {
    const found = issues(normalizePayload(envelope({ timestamp: "2026-01-01T12:05:01Z" }), { now: NOW }));
    expect(found[0]).toEqual({
      path: "timestamp",
      message: expect.stringMatching(/301 s ahead .*allowed: 300 s/),
    });
    ok(normalizePayload(envelope({ timestamp: "2026-01-01T12:05:00Z" }), { now: NOW }));
    // the tolerance is configurable
    issues(normalizePayload(envelope({ timestamp: "2026-01-01T12:00:11Z" }), { now: NOW, toleranceS: 10 }));
  });

  it("throws a TypeError for a tolerance that would switch the future rule off (NaN) or is negative", () => {
    const future = envelope({ timestamp: "2027-01-01T00:00:00Z" });
    for (const toleranceS of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(() => normalizePayload(future, { now: NOW, toleranceS })).toThrow(TypeError);
      expect(() => normalizePayload([], { now: NOW, toleranceS })).toThrow(/toleranceS/);
    }
  });

  it("refuses nodes that are not a list", () => {
    expect(issues(normalizePayload(envelope({ nodes: { a: 1 } }), { now: NOW }))).toEqual([
      { path: "nodes", message: "nodes must be a list (JSON array) of nodes" },
    ]);
  });

  it("refuses an unusable source or region", () => {
    const found = issues(normalizePayload(envelope({ source: "", region: "bad region!" }), { now: NOW }));
    expect(found.map((i) => i.path).sort()).toEqual(["region", "source"]);
  });

  it("reports every issue at once", () => {
    expect(
      issues(normalizePayload({ event_type: "x", timestamp: "y", nodes: 1 }, { now: NOW })),
    ).toHaveLength(3);
  });
});

describe("per-node rules", () => {
  const one = (node: unknown, extra: Record<string, unknown> = {}) =>
    ok(normalizePayload(envelope({ nodes: [node], ...extra }), { now: NOW }));

  it("rejects bad nodes alone, with index and reason, and keeps the rest", () => {
    const r = ok(
      normalizePayload(
        envelope({
          nodes: [
            { url: VLESS },
            "not an object",
            { url: "vless://broken" },
            { protocol: "vmess", host: "192.0.2.2", port: 1 },
            { url: 5 },
            { link: VLESS },
          ],
        }),
        { now: NOW },
      ),
    );
    expect(r.payload.nodes).toHaveLength(2);
    expect(r.rejected).toEqual([
      { index: 1, reason: "a node must be a JSON object" },
      { index: 2, reason: expect.stringMatching(/^url: vless: the uuid is missing/) },
      { index: 3, reason: expect.stringMatching(/no url .*only http, https and socks5/) },
      { index: 4, reason: "url must be a string (a share link)" },
    ]);
  });

  it("accepts link as an alias of url, and type as an alias of protocol", () => {
    const node = only(one({ link: VLESS, type: "vless" }).payload);
    expect(node.protocol).toBe("vless");
  });

  it("builds http://host:port for an http node with link: null (legacy export)", () => {
    const r = one({ protocol: "http", host: "192.0.2.3", port: 3128, link: null, name: "🇸🇬 http proxy" });
    expect(only(r.payload)).toMatchObject({
      url: "http://192.0.2.3:3128#%F0%9F%87%B8%F0%9F%87%AC%20http%20proxy",
      host: "192.0.2.3",
      port: 3128,
    });
    expect(only(one({ type: "socks", host: "[2001:db8::3]", port: "1080" }).payload).url).toBe(
      "socks5://[2001:db8::3]:1080",
    );
    expect(one({ protocol: "http", host: "192.0.2.3", link: null }).rejected[0]?.reason).toMatch(
      /host or port is missing/,
    );
  });

  it("takes the name from vmess ps or the fragment when absent, and cleans control characters", () => {
    const vm = `vmess://${b64(JSON.stringify({ add: "192.0.2.4", port: 443, id: UUID, ps: "from ps" }))}`;
    expect(only(one({ url: vm }).payload).name).toBe("from ps");
    expect(only(one({ url: VLESS }).payload).name).toBe("from-link");
    const named = only(one({ url: VLESS, name: "line\nbreak\u0000 and\ttab" }).payload);
    expect(named.name).toBe("line break and tab");
    expect(named.url).toMatch(/#line%20break%20and%20tab$/);
  });

  it("lets the url win over a conflicting protocol, host or port, with warnings", () => {
    const r = one({ url: VLESS, protocol: "trojan", host: "198.51.100.1", port: 80 });
    expect(only(r.payload)).toMatchObject({ protocol: "vless", host: "192.0.2.1", port: 443 });
    expect(r.warnings).toEqual([
      'nodes[0]: protocol "trojan" differs from its url (vless); using the url',
      'nodes[0]: host "198.51.100.1" differs from its url (192.0.2.1); using the url',
      "nodes[0]: port 80 differs from its url (443); using the url",
    ]);
    expect(one({ url: "hy2://pw@192.0.2.1:443", protocol: "hy2" }).warnings).toEqual([]);
  });

  it("upper-cases countries, maps UNK and empty to null, invalid codes to null with a warning", () => {
    expect(only(one({ url: VLESS, country: " de " }).payload).country).toBe("DE");
    expect(only(one({ url: VLESS, country: "UK" }).payload).country).toBe("GB");
    for (const unknown of ["UNK", "", null]) {
      const r = one({ url: VLESS, country: unknown });
      expect(only(r.payload).country).toBeNull();
      expect(r.warnings).toEqual([]);
    }
    for (const invalid of ["QQ", "Germany", 49]) {
      const r = one({ url: VLESS, country: invalid });
      expect(only(r.payload).country).toBeNull();
      expect(r.warnings[0]).toMatch(/country .* stored as unknown/);
      expect(r.rejected).toEqual([]);
    }
  });

  it("maps latency 9999, -1, 0 and absent to null", () => {
    for (const latency of [9999, -1, 0, undefined, null]) {
      expect(only(one({ url: VLESS, latency }).payload).latency).toBeNull();
    }
    expect(only(one({ url: VLESS, latency: "88.5" }).payload).latency).toBe(88.5);
    const r = one({ url: VLESS, latency: -20 });
    expect(only(r.payload).latency).toBeNull();
    expect(r.warnings[0]).toMatch(/latency -20 is negative/);
  });

  it("keeps availability 0..100; outside it, null with a warning (the node stays)", () => {
    expect(only(one({ url: VLESS, availability: 0 }).payload).availability).toBe(0);
    expect(only(one({ url: VLESS, availability: 100 }).payload).availability).toBe(100);
    for (const bad of [101, -1, "lots"]) {
      const r = one({ url: VLESS, availability: bad });
      expect(only(r.payload).availability).toBeNull();
      expect(r.warnings[0]).toMatch(/availability/);
    }
  });

  it("reads speed as MB/s inside a v1 envelope", () => {
    const node = only(one({ url: VLESS, speed: 45.67 }).payload);
    expect(node.speed).toBe(45.67);
    expect(node.legacy_score).toBeNull();
  });

  it("normalises tested_at with an offset; ignores a naive one with a warning; rejects a future one", () => {
    expect(only(one({ url: VLESS, tested_at: "2026-01-01T13:00:00.5+02:00" }).payload).tested_at).toBe(
      "2026-01-01T11:00:00.500Z",
    );
    const naive = one({ url: VLESS, tested_at: "2026-01-01T11:00:00" });
    expect(only(naive.payload).tested_at).toBe("2026-01-01T11:59:00.000Z");
    expect(naive.warnings[0]).toMatch(/tested_at .* has no offset .*ignored/);
    const future = one({ url: VLESS, tested_at: "2026-01-02T00:00:00Z" });
    expect(future.payload.nodes).toEqual([]);
    expect(future.rejected).toEqual([
      { index: 0, reason: expect.stringMatching(/tested_at .* is in the future/) },
    ]);
  });

  it("rejects a node whose canonical url would be too long to parse again", () => {
    const path = encodeURIComponent("路".repeat(20_000)); // 180,000 characters once percent-encoded
    const r = one({ url: `vless://${UUID}@192.0.2.1:443?type=ws&path=${"路".repeat(20_000)}` });
    expect(path.length).toBeGreaterThan(65_536);
    expect(r.rejected).toEqual([
      { index: 0, reason: expect.stringMatching(/longer than 65536 characters once written/) },
    ]);
  });

  it("keeps duplicates (the merge collapses them)", () => {
    const r = ok(
      normalizePayload(
        envelope({
          nodes: [
            { url: VLESS, name: "a" },
            { url: VLESS, name: "b" },
          ],
        }),
        { now: NOW },
      ),
    );
    expect(r.payload.nodes.map((n) => n.name)).toEqual(["a", "b"]);
    expect(r.payload.nodes[0]?.id).toBe(r.payload.nodes[1]?.id);
  });
});

describe("legacy bare array (nodes.json)", () => {
  it("is a batch_test_complete snapshot from spiderflow, timed at receipt", () => {
    const r = ok(
      normalizePayload(
        [
          {
            protocol: "vless",
            host: "192.0.2.1",
            port: 443,
            country: "UNK",
            speed: 90,
            name: "x",
            link: VLESS,
          },
        ],
        { now: NOW },
      ),
    );
    expect(r.payload).toMatchObject({
      event_type: "batch_test_complete",
      mode: "snapshot",
      source: "spiderflow",
      region: null,
      timestamp: "2026-01-01T12:00:00.000Z",
    });
    const node = only(r.payload);
    expect(node.speed).toBeNull();
    expect(node.legacy_score).toBe(90);
    expect(node.country).toBeNull();
    expect(node.tested_at).toBe("2026-01-01T12:00:00.000Z");
  });

  it("accepts an empty array", () => {
    expect(ok(normalizePayload([], { now: NOW })).payload.nodes).toEqual([]);
  });
});

describe("robustness", () => {
  it("never throws on arbitrary JSON values, as a payload or as nodes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 5 }), (value, nodes) => {
        expect(typeof normalizePayload(value, { now: NOW }).ok).toBe("boolean");
        const r = ok(normalizePayload(envelope({ nodes }), { now: NOW }));
        expect(r.payload.nodes.length + r.rejected.length).toBe(nodes.length);
        expect(ok(normalizePayload(nodes, { now: NOW })).rejected.length).toBeLessThanOrEqual(nodes.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe("exported zod schemas", () => {
  it("describe the documented payload", () => {
    expect(payloadEnvelopeSchema.safeParse(envelope()).success).toBe(true);
    expect(
      payloadInputSchema.safeParse(envelope({ nodes: [{ url: VLESS, latency: 1, extra: true }] })).success,
    ).toBe(true);
    expect(nodeInputSchema.safeParse({ url: VLESS, port: 70000 }).success).toBe(false);
  });
});
