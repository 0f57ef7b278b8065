import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { collapseNodes } from "./collapse.js";
import { canonicalJson, contentHash } from "./hash.js";
import type { NormalizedNode } from "./types.js";

describe("canonicalJson", () => {
  it("sorts keys at every level and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("sorts by UTF-16 code units, not locale", () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, a: 4 })).toBe('{"B":2,"a":4,"b":1,"é":3}');
  });

  it("writes primitives as JSON.stringify does", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.boolean(),
          fc.constant(null),
        ),
        (v) => {
          expect(canonicalJson(v)).toBe(JSON.stringify(v));
        },
      ),
    );
  });

  it("parses back to the same value and is independent of key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });

  it("skips undefined properties and honours toJSON", () => {
    expect(canonicalJson({ a: undefined, b: new Date("2026-01-01T00:00:00Z") })).toBe(
      '{"b":"2026-01-01T00:00:00.000Z"}',
    );
  });

  it.each([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["undefined in an array", [1, undefined]],
    ["a bigint", { a: 1n }],
    ["a function", { f: () => 1 }],
    ["undefined", undefined],
  ])("throws TypeError on %s", (_label, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it("throws TypeError on cycles but accepts shared references", () => {
    const a: Record<string, unknown> = {};
    a["self"] = a;
    expect(() => canonicalJson(a)).toThrow(/circular/);
    const shared = { x: 1 };
    expect(canonicalJson({ p: shared, q: shared })).toBe('{"p":{"x":1},"q":{"x":1}}');
  });
});

function node(over: Partial<NormalizedNode> & Pick<NormalizedNode, "id" | "node_key">): NormalizedNode {
  return {
    url: `trojan://pw@192.0.2.1:443#${over.id}`,
    name: "n",
    protocol: "trojan",
    host: "192.0.2.1",
    port: 443,
    country: null,
    latency: null,
    speed: null,
    availability: null,
    legacy_score: null,
    tested_at: "2026-01-01T00:00:00.000Z",
    ...over,
  };
}

const A = node({ id: "n_a", node_key: "v1|a", name: "A", latency: 10 });
const B = node({ id: "n_b", node_key: "v1|b", name: "B", country: "DE" });

describe("contentHash", () => {
  it("is sha256 of the canonical JSON of the reduced nodes sorted by node_key (known answer)", () => {
    const expected =
      `[{"availability":null,"country":null,"latency":10,"name":"A","node_key":"v1|a","speed":null,"url":"${A.url}"},` +
      `{"availability":null,"country":"DE","latency":null,"name":"B","node_key":"v1|b","speed":null,"url":"${B.url}"}]`;
    expect(contentHash([B, A])).toBe(createHash("sha256").update(expected).digest("hex"));
    expect(contentHash([])).toBe(createHash("sha256").update("[]").digest("hex"));
  });

  it("does not depend on order", () => {
    expect(contentHash([A, B])).toBe(contentHash([B, A]));
  });

  it("collapses duplicates, the last record winning", () => {
    const older = { ...A, name: "older" };
    expect(contentHash([older, B, A])).toBe(contentHash([A, B]));
    expect(contentHash([A, B, older])).not.toBe(contentHash([A, B]));
  });

  it("changes with the url (e.g. a REALITY key), name, country and metrics", () => {
    const base = contentHash([A, B]);
    for (const change of [
      { url: `${A.url}x` },
      { name: "A2" },
      { country: "US" },
      { latency: 11 },
      { speed: 1 },
      { availability: 50 },
    ]) {
      expect(contentHash([{ ...A, ...change }, B])).not.toBe(base);
    }
  });

  it("ignores what it does not cover: tested_at, legacy_score, host/port copies", () => {
    expect(contentHash([{ ...A, tested_at: "2027-01-01T00:00:00.000Z", legacy_score: 99 }, B])).toBe(
      contentHash([A, B]),
    );
  });
});

describe("collapseNodes", () => {
  it("keeps first-seen order, last record wins", () => {
    const a2 = { ...A, name: "A2" };
    expect(collapseNodes([A, B, a2])).toEqual([a2, B]);
  });
});
