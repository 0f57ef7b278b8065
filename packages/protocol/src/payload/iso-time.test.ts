import { describe, expect, it } from "vitest";
import { isNaiveIso, parseIsoInstant } from "./iso-time.js";

const at = (iso: string) => new Date(iso).getTime();

describe("parseIsoInstant", () => {
  it.each([
    ["2026-01-01T12:00:00Z", "2026-01-01T12:00:00.000Z"],
    ["2026-01-01t12:00:00z", "2026-01-01T12:00:00.000Z"],
    ["2026-01-01 12:00:00+00:00", "2026-01-01T12:00:00.000Z"],
    ["2026-01-01T20:00:00+08:00", "2026-01-01T12:00:00.000Z"],
    ["2026-01-01T20:00:00+0800", "2026-01-01T12:00:00.000Z"],
    ["2026-01-01T20:00+08", "2026-01-01T12:00:00.000Z"],
    ["2026-01-01T07:30:00-04:30", "2026-01-01T12:00:00.000Z"],
    ["2026-01-01T12:00:00.123456789Z", "2026-01-01T12:00:00.123Z"],
    ["2026-01-01T12:00:00,5Z", "2026-01-01T12:00:00.500Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["2016-12-31T23:59:60Z", "2016-12-31T23:59:59.000Z"],
  ])("reads %s", (text, expected) => {
    expect(parseIsoInstant(text)).toBe(at(expected));
  });

  it.each([
    "2026-01-01T12:00:00",
    "2026-01-01",
    "2026-13-01T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T12:60:00Z",
    "2026-01-01T12:00:00+24:00",
    "1767268800",
    "",
    "2026-01-01T12:00:00Z trailing",
    // Date.UTC would read years 0–99 as 1900–1999; pre-epoch instants are refused.
    "0000-01-01T00:00:00Z",
    "0099-06-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
  ])("refuses %s", (text) => {
    expect(parseIsoInstant(text)).toBeNull();
  });

  it("tells naive times apart from garbage", () => {
    expect(isNaiveIso("2026-01-01T12:00:00")).toBe(true);
    expect(isNaiveIso("2026-01-01 12:00:00.5")).toBe(true);
    expect(isNaiveIso("yesterday")).toBe(false);
  });
});
