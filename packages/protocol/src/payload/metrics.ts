/** Per-node metric rules (DESIGN 3.3). A bad metric becomes null with a warning, never a rejection. */

export type MetricResult = { value: number | null; warning?: string };

const NUMERIC_TEXT = /^\s*-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/;

/** Numbers, and numbers written as strings by loose producers. */
function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && NUMERIC_TEXT.test(v)) return Number(v);
  return undefined;
}

function bad(field: string, v: unknown, why: string): MetricResult {
  return { value: null, warning: `${field} ${JSON.stringify(v)?.slice(0, 40)} ${why}; stored as unknown` };
}

/** Absent or empty → unknown; not a finite number → unknown with a warning; else the number. */
function readNumber(field: string, v: unknown): number | MetricResult {
  if (v === undefined || v === null || v === "") return { value: null };
  const n = toNumber(v);
  if (n === undefined || !Number.isFinite(n)) return bad(field, v, "is not a number");
  return n;
}

/** ms. 9999, -1, 0 and absent mean unknown (sentinels of old hunters). */
export function normalizeLatency(v: unknown): MetricResult {
  const n = readNumber("latency", v);
  if (typeof n !== "number") return n;
  if (n === 9999 || n === -1 || n === 0) return { value: null };
  if (n < 0) return bad("latency", v, "is negative");
  return { value: n };
}

/** MB/s (10^6 bytes/s). 0 is a measurement (nothing came through); negative is an error. */
export function normalizeSpeed(v: unknown): MetricResult {
  const n = readNumber("speed", v);
  if (typeof n !== "number") return n;
  if (n < 0) return bad("speed", v, "is negative");
  return { value: n };
}

/** Percent 0..100; outside that range it is unknown (with a warning), the node is kept. */
export function normalizeAvailability(v: unknown): MetricResult {
  const n = readNumber("availability", v);
  if (typeof n !== "number") return n;
  if (n < 0 || n > 100) return bad("availability", v, "is outside 0..100");
  return { value: n };
}

/** Opaque score: any finite number. */
export function normalizeScore(field: string, v: unknown): MetricResult {
  const n = readNumber(field, v);
  return typeof n === "number" ? { value: n } : n;
}
