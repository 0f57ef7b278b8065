import { describe, expect, it } from "vitest";
import { acceptsGzip, ifNoneMatchMatches } from "./negotiation.js";

describe("ifNoneMatchMatches (weak comparison)", () => {
  const etag = '"abc123"';
  it.each([
    ['"abc123"', true],
    ['W/"abc123"', true],
    ['"x", W/"abc123" , "y"', true],
    ["*", true],
    ['"abc1234"', false],
    ['"other"', false],
    ["", false],
  ])("%s → %s", (header, expected) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(expected);
  });
  it("is false without the header", () => expect(ifNoneMatchMatches(undefined, etag)).toBe(false));
});

describe("acceptsGzip", () => {
  it.each([
    ["gzip", true],
    ["gzip, deflate, br", true],
    ["br;q=1.0, gzip;q=0.5", true],
    ["gzip;q=0", false],
    ["identity", false],
    ["*", true],
    ["*;q=0", false],
    ["*, gzip;q=0", false],
  ])("%s → %s", (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
