/**
 * contentHash recomputed by a second, independent implementation of DESIGN 3.5: Python's standard
 * library in a child process (python3 is already required by `pnpm test` for the signature vectors).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentHash } from "./hash.js";
import { normalizePayload } from "./payload.js";
import type { NormalizedNode } from "./types.js";

// 3.5 word for word: collapse by id (last wins), sort by node_key, reduce, canonical JSON, sha256 hex.
const PYTHON = `
import hashlib, json, sys
nodes = json.load(sys.stdin)
last = {}
for n in nodes:
    last.pop(n["id"], None)
    last[n["id"]] = n
fields = ("node_key", "url", "name", "country", "latency", "speed", "availability")
reduced = sorted(({k: n[k] for k in fields} for n in last.values()), key=lambda n: n["node_key"])
text = json.dumps(reduced, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
print(hashlib.sha256(text.encode("utf-8")).hexdigest())
`;

function pythonHash(nodes: readonly NormalizedNode[]): string {
  const run = spawnSync("python3", ["-c", PYTHON], { input: JSON.stringify(nodes), encoding: "utf8" });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr || run.error?.message}`);
  return run.stdout.trim();
}

const UUID = "9204afcd-023e-481f-9abc-c12efccd1344";

describe("contentHash against an independent Python implementation", () => {
  it("agrees on nodes with duplicates, unicode and control-free names, nulls and fractions", () => {
    const r = normalizePayload(
      {
        event_type: "nodes_snapshot",
        timestamp: "2026-01-01T12:00:00Z",
        nodes: [
          {
            url: `vless://${UUID}@203.0.113.9:443?security=reality&pbk=key1&sid=ab&type=grpc&serviceName=s#a`,
            name: '新加坡 🇸🇬 "quoted" \\ back',
            country: "sg",
            latency: 123.45,
            speed: 12.5,
            availability: 99.9,
          },
          { url: "trojan://pw@b.example:443#b", country: "UNK", latency: 9999, speed: 0, availability: 100 },
          { url: "ss://YWVzLTI1Ni1nY206cHc@198.51.100.7:8388#c", latency: 7, speed: null },
          { url: "trojan://pw@b.example:443#renamed", country: "JP", latency: 80, speed: 3.25 },
          { url: "hy2://auth@203.0.113.5:443,5000-6000/?sni=h.example", availability: 0.5 },
          { type: "http", host: "192.0.2.72", port: 3128, link: null },
        ],
      },
      { now: new Date("2026-01-01T12:00:00Z") },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.rejected).toEqual([]);
    const nodes = r.payload.nodes;
    expect(new Set(nodes.map((n) => n.id)).size).toBe(nodes.length - 1); // one duplicate
    expect(contentHash(nodes)).toBe(pythonHash(nodes));
    // and the order of the records does not matter once duplicates keep their relative order
    const reordered = [nodes[4], nodes[0], nodes[2], nodes[5], nodes[1], nodes[3]] as NormalizedNode[];
    expect(contentHash(reordered)).toBe(pythonHash(reordered));
    expect(contentHash(reordered)).toBe(contentHash(nodes));
  });

  it("agrees with a hand-built canonical string for one node", () => {
    const r = normalizePayload(
      {
        event_type: "nodes_snapshot",
        timestamp: "2026-01-01T12:00:00Z",
        nodes: [{ url: "trojan://pw@b.example:443#b", country: "jp", latency: 80 }],
      },
      { now: new Date("2026-01-01T12:00:00Z") },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const [n] = r.payload.nodes;
    const text =
      `[{"availability":null,"country":"JP","latency":80,"name":"b",` +
      `"node_key":"v1|trojan|b.example|443|pw|tcp|||tls|","speed":null,"url":${JSON.stringify(n?.url)}}]`;
    expect(contentHash(r.payload.nodes)).toBe(createHash("sha256").update(text).digest("hex"));
  });
});
