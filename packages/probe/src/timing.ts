/** Latencies are reported to 0.1 ms: finer digits are noise from the event loop. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
