import type { Db } from "../db/client.js";
import { listNodes, type NodeFilter, type NodeOrder, type NodeRow } from "../db/node-queries.js";

/** The public shape of a node (DESIGN 5). Metrics are JSON numbers or null. */
export interface NodeView {
  id: string;
  url: string;
  name: string;
  protocol: string;
  host: string;
  port: number;
  country: string | null;
  latency: number | null;
  speed: number | null;
  availability: number | null;
  status: string;
  first_seen_at: string;
  last_seen_at: string;
  observed_at: string | null;
  source: string | null;
}

export interface NodeListResult {
  total: number;
  filtered: boolean;
  last_updated: string | null;
  nodes: NodeView[];
}

export function toNodeView(row: NodeRow): NodeView {
  return {
    id: row.id,
    url: row.url,
    name: row.name,
    protocol: row.protocol,
    host: row.host,
    port: row.port,
    country: row.country,
    latency: metric(row.latency),
    speed: metric(row.speed),
    availability: metric(row.availability),
    status: row.status,
    first_seen_at: row.firstSeenAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    observed_at: row.observedAt ? row.observedAt.toISOString() : null,
    source: row.metricsSource,
  };
}

function metric(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export async function queryNodeList(
  db: Db,
  filter: NodeFilter,
  order: NodeOrder,
  filtered: boolean,
): Promise<NodeListResult> {
  const { rows, total, lastUpdated } = await listNodes(db, filter, order);
  return { total, filtered, last_updated: lastUpdated, nodes: rows.map(toNodeView) };
}
