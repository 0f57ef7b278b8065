/**
 * Download speed over fixed windows (250 ms by default) from the first response byte: the 90th
 * percentile says how fast the path goes when it goes, which a mean hides (a stall, then a burst).
 * A chunk's bytes are spread evenly over the time since the previous chunk, so chunk sizes do not
 * alias into the windows (a 64 KiB chunk every 30 ms would otherwise give windows of 8 or 9 chunks).
 */

export const RATE_WINDOW_MS = 250;

export class RateWindows {
  private readonly bytes: number[] = [];
  private last: number;

  /** `start` on the clock of `performance.now()`: when the response headers arrived. */
  constructor(
    private readonly start: number,
    private readonly windowMs = RATE_WINDOW_MS,
  ) {
    this.last = start;
  }

  add(bytes: number, now: number): void {
    const from = Math.max(this.last, this.start);
    const to = Math.max(now, from);
    this.last = to;
    if (to === from) {
      // A burst at one instant: it belongs to the window that ends at or after it.
      this.addTo(Math.max(0, Math.ceil((to - this.start) / this.windowMs) - 1), bytes);
      return;
    }
    // Walk window indexes, not times: stepping a float time from boundary to boundary can fail to
    // advance (start + (i + 1) * w rounding back onto t) and loop forever.
    const span = to - from;
    const first = Math.floor((from - this.start) / this.windowMs);
    const last = Math.max(first, Math.ceil((to - this.start) / this.windowMs) - 1);
    for (let index = first; index <= last; index++) {
      const windowStart = this.start + index * this.windowMs;
      const overlap = Math.min(windowStart + this.windowMs, to) - Math.max(windowStart, from);
      if (overlap > 0) this.addTo(index, bytes * (overlap / span));
    }
  }

  /**
   * The 90th percentile (nearest rank) of the speeds of the windows that ended by `end`, in MB/s
   * (10^6 bytes). Null when the transfer was shorter than one window.
   */
  p90MbPerS(end: number): number | null {
    const full = Math.floor((end - this.start) / this.windowMs);
    if (full < 1) return null;
    const speeds = Array.from(
      { length: full },
      (_, i) => (this.bytes[i] ?? 0) / 1e6 / (this.windowMs / 1000),
    );
    speeds.sort((a, b) => a - b);
    return speeds[Math.ceil(0.9 * speeds.length) - 1]!;
  }

  private addTo(index: number, bytes: number): void {
    while (this.bytes.length <= index) this.bytes.push(0);
    this.bytes[index]! += bytes;
  }
}
