/**
 * Live progress of the precision test, on a timer rather than per chunk: chunks come hundreds of
 * times a second on a fast path and not at all during a stall, and the client wants a steady
 * "still alive, this fast" several times a second either way.
 */

export interface PrecisionProgress {
  /** Body bytes received so far. */
  bytes: number;
  /** Of `sizeBytes`, 0..100, one decimal. */
  percent: number;
  /** 10^6 bytes per second over about the last second. */
  current_mb_per_s: number;
  /** Since `precisionDownload` was called. */
  elapsed_ms: number;
}

/** How far back `current_mb_per_s` looks. */
const CURRENT_SPAN_MS = 1000;

export class ProgressTicker {
  private timer: NodeJS.Timeout | null = null;
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(
    private readonly options: {
      intervalMs: number;
      sizeBytes: number;
      startedAt: number;
      bytes: () => number;
      onProgress?: (progress: PrecisionProgress) => void;
    },
  ) {}

  start(): void {
    if (this.timer || !this.options.onProgress) return;
    this.samples.push({ at: performance.now(), bytes: this.options.bytes() });
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const at = performance.now();
    const bytes = this.options.bytes();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= CURRENT_SPAN_MS) this.samples.shift();
    const oldest = this.samples[0]!;
    const span = at - oldest.at;
    const current = span > 0 ? (bytes - oldest.bytes) / 1e6 / (span / 1000) : 0;
    try {
      this.options.onProgress?.({
        bytes,
        percent: Math.min(100, Math.round((bytes / this.options.sizeBytes) * 1000) / 10),
        current_mb_per_s: Math.round(current * 1000) / 1000,
        elapsed_ms: Math.round(at - this.options.startedAt),
      });
    } catch {
      // A listener that throws (an SSE stream already closed) must not end the test or leak the
      // core; the caller's disconnect reaches us through the abort signal.
    }
  }
}
