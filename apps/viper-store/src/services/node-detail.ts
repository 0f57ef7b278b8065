import type { Db } from "../db/client.js";
import {
  type CurrentRow,
  currentRowsOf,
  historyRowsOf,
  type MeasurementRow,
} from "../db/node-detail-queries.js";
import { getNodeRow } from "../db/node-queries.js";
import { type NodeView, toNodeView } from "./node-query.js";

/** One (source, region) observation: a current value or a history entry. */
export interface Observation {
  source: string;
  /** null when the delivery named no region (stored as ''). */
  region: string | null;
  method: string | null;
  latency: number | null;
  speed: number | null;
  availability: number | null;
  observed_at: string;
}

export interface NodeDetail extends NodeView {
  current: Observation[];
  history: Observation[];
}

export interface NodeDetailOptions {
  historyLimit: number;
  /** Only this region's current values and history ('' = the deliveries without a region). */
  region?: string;
}

function observation(row: CurrentRow | MeasurementRow): Observation {
  return {
    source: row.source,
    region: row.region === "" ? null : row.region,
    method: row.method,
    latency: row.latency,
    speed: row.speed,
    availability: row.availability,
    observed_at: row.observedAt.toISOString(),
  };
}

/** The node view plus its current values per (source, region) and its newest history; null if unknown. */
export async function queryNodeDetail(
  db: Db,
  id: string,
  options: NodeDetailOptions,
): Promise<NodeDetail | null> {
  const row = await getNodeRow(db, id);
  if (!row) return null;
  const [current, history] = await Promise.all([
    currentRowsOf(db, id, options.region),
    historyRowsOf(db, id, options.historyLimit, options.region),
  ]);
  return { ...toNodeView(row), current: current.map(observation), history: history.map(observation) };
}
