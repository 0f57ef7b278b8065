import { describe, expect, it } from "vitest";
import { backoffDelay, MAX_RETRY_AFTER_MS, parseRetryAfter } from "./retry-after.js";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  it("reads delay-seconds and HTTP dates", () => {
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("Thu, 01 Jan 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:00 GMT", now)).toBe(0);
  });
  it("caps at five minutes", () => {
    expect(parseRetryAfter("86400", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter("Fri, 02 Jan 2026 12:00:00 GMT", now)).toBe(MAX_RETRY_AFTER_MS);
  });
  it("ignores absent or unreadable values", () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("", now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter("-5", now)).toBeNull();
  });
});

describe("backoffDelay", () => {
  it("doubles per retry within ±20% jitter", () => {
    expect(backoffDelay(1, 5000, () => 0)).toBe(4000);
    expect(backoffDelay(1, 5000, () => 0.5)).toBe(5000);
    expect(backoffDelay(2, 5000, () => 0.5)).toBe(10_000);
    expect(backoffDelay(3, 5000, () => 0.999)).toBeLessThan(24_000);
  });

  it("is capped at an hour, so a long retry series never overflows Node's timers", () => {
    for (const retry of [13, 40, 100]) {
      expect(backoffDelay(retry, 5000, () => 0.999)).toBeLessThan(1.2 * 3_600_000);
      expect(backoffDelay(retry, 5000, () => 0)).toBe(0.8 * 3_600_000);
    }
  });
});
