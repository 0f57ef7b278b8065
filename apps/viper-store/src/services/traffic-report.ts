import type { Db } from "../db/client.js";
import { type MechanismTraffic, monthTraffic, type TrafficMechanism } from "../db/traffic-queries.js";

export interface TrafficReport {
  /** UTC month, YYYY-MM. */
  month: string;
  mechanisms: Record<TrafficMechanism, MechanismTraffic>;
  total_bytes: number;
  /** total_bytes divided by the elapsed fraction of the month. */
  projected_month_bytes: number;
  /** TRAFFIC_BUDGET_GB × 10^9. */
  budget_bytes: number;
}

/** This UTC month's bytes on the wire per mechanism, and where the month is heading. */
export async function trafficReport(db: Db, budgetGb: number, now = new Date()): Promise<TrafficReport> {
  const mechanisms = await monthTraffic(db, now);
  const total = Object.values(mechanisms).reduce((sum, m) => sum + m.bytes_in + m.bytes_out, 0);
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  // At least one minute elapsed, so the first seconds of a month do not project absurd figures.
  const elapsed = Math.max(now.getTime() - start, 60_000) / (end - start);
  return {
    month: new Date(start).toISOString().slice(0, 7),
    mechanisms,
    total_bytes: total,
    projected_month_bytes: Math.round(total / Math.min(1, elapsed)),
    budget_bytes: Math.round(budgetGb * 1e9),
  };
}
