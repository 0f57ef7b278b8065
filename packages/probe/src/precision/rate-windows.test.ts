import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RateWindows } from "./rate-windows.js";

const MB = 1_000_000;

describe("RateWindows", () => {
  it("gives the rate itself for a steady stream, whatever the chunk size", () => {
    for (const chunkMs of [1, 7, 30, 33.3, 100]) {
      const windows = new RateWindows(1000);
      // 2 MB/s = 2000 bytes per ms, for 2 s.
      for (let t = chunkMs; t <= 2000; t += chunkMs) windows.add(2000 * chunkMs, 1000 + t);
      expect(windows.p90MbPerS(3000)).toBeCloseTo(2, 6);
    }
  });

  it("reports the fast windows at p90 when the stream stalls half the time", () => {
    const windows = new RateWindows(0);
    // 500 ms at 4 MB/s, 500 ms stalled, twice: the mean is 2 MB/s, the p90 is 4.
    for (const base of [0, 1000]) {
      for (let t = 10; t <= 500; t += 10) windows.add(40_000, base + t);
      windows.add(0, base + 1000);
    }
    expect(windows.p90MbPerS(2000)).toBeCloseTo(4, 6);
  });

  it("is null when the body took less than one window", () => {
    const windows = new RateWindows(0);
    windows.add(MB, 100);
    expect(windows.p90MbPerS(249)).toBeNull();
    expect(windows.p90MbPerS(250)).toBeCloseTo(4, 6);
  });

  it("counts a chunk that arrives on a window boundary in the window it ends", () => {
    const windows = new RateWindows(0);
    windows.add(250_000, 250);
    windows.add(0, 500);
    expect(windows.p90MbPerS(500)).toBeCloseTo(1, 6);
  });

  it("ends when a window boundary rounds back onto a chunk time (regression: the meter hung)", () => {
    // (start + 6 * 250) - start < 6 * 250 in floating point for this start: stepping a time from
    // boundary to boundary never advanced past it, and the download loop spun at 100 % CPU.
    const start = 31274.463428349165;
    expect(Math.floor((start + 6 * 250 - start) / 250)).toBe(5);
    const windows = new RateWindows(start);
    windows.add(1000, start + 6 * 250);
    windows.add(1000, start + 7 * 250);
    expect(windows.p90MbPerS(start + 8 * 250)).toBeCloseTo(0.004, 6);
  });

  it("keeps every byte, for any chunk times", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 1 << 20 }), fc.double({ min: 0, max: 600, noNaN: true })),
          {
            maxLength: 200,
          },
        ),
        (start, chunks) => {
          const windows = new RateWindows(start);
          let t = start;
          let total = 0;
          for (const [bytes, gap] of chunks) {
            t += gap;
            total += bytes;
            windows.add(bytes, t);
          }
          const counted = (windows as unknown as { bytes: number[] }).bytes.reduce((a, b) => a + b, 0);
          expect(counted).toBeCloseTo(total, 0);
        },
      ),
    );
  });
});
