import type { Db } from "../db/client.js";
import { type Distribution, statsSummary, type TopNodesQuery, topNodes } from "../db/stats-queries.js";
import { type NodeView, toNodeView } from "./node-query.js";

/** `GET /api/stats/summary` (DESIGN 10): over active nodes; metrics without values are null. */
export interface StatsSummary {
  totals: { active: number; stale: number };
  by_country: Record<string, number>;
  by_protocol: Record<string, number>;
  latency: Distribution;
  speed: Distribution;
  availability: Distribution;
  last_webhook_at: string | null;
  last_poll_at: string | null;
}

export async function queryStatsSummary(db: Db): Promise<StatsSummary> {
  const s = await statsSummary(db);
  return {
    totals: { active: s.active, stale: s.stale },
    by_country: s.byCountry,
    by_protocol: s.byProtocol,
    latency: s.latency,
    speed: s.speed,
    availability: s.availability,
    last_webhook_at: s.lastWebhookAt,
    last_poll_at: s.lastPollAt,
  };
}

export interface TopNodesResult {
  metric: TopNodesQuery["metric"];
  nodes: NodeView[];
}

export async function queryTopNodes(db: Db, q: TopNodesQuery): Promise<TopNodesResult> {
  return { metric: q.metric, nodes: (await topNodes(db, q)).map(toNodeView) };
}
