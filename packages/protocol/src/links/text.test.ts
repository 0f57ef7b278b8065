import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanName, decodePercent, MAX_NAME_LENGTH, nameFromFragment } from "./text.js";

/** Pieces real and hostile fragments are made of: escapes of every UTF-8 length, broken ones, breaks. */
const piece = fc.oneof(
  fc.constantFrom("a", " ", "\n", "\r\n", "\t", "\u0007", "|", "🇸🇬", "节点", "%", "%2", "%zz", "%C3", "%80"),
  fc
    .string({ unit: "binary", maxLength: 4 })
    .map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ""))),
  fc.string({ unit: "grapheme", maxLength: 3 }),
);
const fragmentArb = fc
  .array(piece, { minLength: 1000, maxLength: 3000, size: "max" })
  .map((parts) => parts.join(""));

describe("nameFromFragment", () => {
  it("equals cleanName(decodePercent(fragment)) for fragments of any length and content", () => {
    fc.assert(
      fc.property(fragmentArb, (raw) => {
        expect(nameFromFragment(raw)).toBe(cleanName(decodePercent(raw)));
      }),
      { numRuns: 200 },
    );
  });

  it("cuts long fragments at every position of an escape run the same way", () => {
    // 250 characters, then control characters (removed by cleaning, so the head's name stays near the
    // length limit), then a run of 3-byte escapes ("中" = %E4%B8%AD) across the head's end.
    const start = "%E4%B8%AD".repeat(250);
    for (let shift = 0; shift < 30; shift++) {
      const filler = "\u0007".repeat(4096 - start.length - 18 + shift);
      const raw = `${start}${filler}${"%E4%B8%AD".repeat(100)}tail`;
      expect(nameFromFragment(raw)).toBe(cleanName(decodePercent(raw)));
    }
  });

  it("gives a full-length name from a 60,000-character fragment", () => {
    const raw = `${encodeURIComponent("🇸🇬 node ")}${"x\n".repeat(30_000)}`;
    const name = nameFromFragment(raw);
    expect(Array.from(name)).toHaveLength(MAX_NAME_LENGTH);
    expect(name.startsWith("🇸🇬 node x x")).toBe(true);
    expect(name.endsWith("…")).toBe(true);
  });
});

describe("cleanName length limit", () => {
  /** The rule as written: the first MAX_NAME_LENGTH - 1 code points and an ellipsis, when longer. */
  function reference(text: string): string {
    const points = Array.from(text);
    if (points.length <= MAX_NAME_LENGTH) return text;
    return `${points
      .slice(0, MAX_NAME_LENGTH - 1)
      .join("")
      .trimEnd()}…`;
  }
  const printable = fc.constantFrom("a", " ", "é", "节", "🇸🇬", "😀", "x😀", "\u{10FFFF}");

  it("cuts at code points, never inside a surrogate pair, exactly at the limit", () => {
    fc.assert(
      fc.property(fc.array(printable, { minLength: 200, maxLength: 320 }), (parts) => {
        const text = `z${parts.join("")}z`;
        expect(cleanName(text)).toBe(reference(text));
      }),
      { numRuns: 300 },
    );
  });
});
