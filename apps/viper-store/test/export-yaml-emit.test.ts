import fc from "fast-check";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { quoteYamlString, toYaml, type YamlValue } from "../src/services/export/yaml-emit.js";

/** Parse as a YAML 1.1 reader (mihomo, PyYAML) and as a YAML 1.2 reader would. */
function parseBoth(text: string): [unknown, unknown] {
  return [YAML.parse(text, { version: "1.1" }), YAML.parse(text, { version: "1.2" })];
}

const YAML11_TRAPS = [
  "E0",
  "e5",
  "Y",
  "N",
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
  "~",
  "null",
  "NULL",
  "true",
  "2024-01-01",
  "0o17",
  "017",
  "0x1f",
  "1e3",
  "1_000",
  ".inf",
  "12:30:00",
  "<<",
  "=",
  "",
];

describe("yaml-emit", () => {
  it("keeps YAML 1.1 look-alikes as strings, as keys and as values", () => {
    const doc: { [key: string]: YamlValue } = {};
    for (const t of YAML11_TRAPS) doc[t] = t;
    doc["list"] = YAML11_TRAPS;
    for (const parsed of parseBoth(toYaml(doc))) expect(parsed).toEqual(doc);
  });

  it("writes numbers and booleans as such", () => {
    const doc = { port: 443, alterId: 0, ratio: 1.5, udp: true, tls: false };
    for (const parsed of parseBoth(toYaml(doc))) expect(parsed).toEqual(doc);
  });

  it("writes empty lists and maps inline, nested lists and maps in blocks", () => {
    const doc: { [key: string]: YamlValue } = {
      a: [],
      b: {},
      c: [[], {}, ["x", ["y"]], { k: [{ m: "v" }] }],
      d: { e: { f: ["g"] } },
    };
    for (const parsed of parseBoth(toYaml(doc))) expect(parsed).toEqual(doc);
    expect(toYaml([])).toBe("[]\n");
    expect(toYaml({})).toBe("{}\n");
  });

  it("round-trips any string through both YAML versions (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), (a, b) => {
        const doc = { a, b, list: [a, b], [a === "" ? "k" : a]: b };
        const wellFormed = JSON.parse(
          JSON.stringify(doc).replace(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/g, "\\ufffd"),
        );
        for (const parsed of parseBoth(toYaml(doc))) expect(parsed).toEqual(wellFormed);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips nested documents (property)", () => {
    const value: fc.Arbitrary<YamlValue> = fc.letrec<{ v: YamlValue }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.string({ unit: "grapheme-ascii" }),
        fc.integer(),
        fc.boolean(),
        fc.array(tie("v"), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: "grapheme-ascii", minLength: 1 }), tie("v"), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), value, { maxKeys: 5 }), (doc) => {
        for (const parsed of parseBoth(toYaml(doc))) expect(parsed).toEqual(doc);
      }),
      { numRuns: 200 },
    );
  });

  it("escapes what YAML must not see raw: C1 controls, NEL, LS, PS, BOM, lone surrogates", () => {
    const quoted = quoteYamlString("a\u0085b\u2028c\u2029d\u007fe\ufeff\ud800");
    expect(quoted).toBe('"a\\u0085b\\u2028c\\u2029d\\u007fe\\ufeff\ufffd"');
    expect(YAML.parse(quoted, { version: "1.1" })).toBe("a\u0085b\u2028c\u2029d\u007fe\ufeff\ufffd");
  });
});
