import { Hono } from "hono";
import type { Db } from "../db/client.js";
import type { TopMetric } from "../db/stats-queries.js";
import { queryStatsSummary, queryTopNodes } from "../services/stats.js";
import { BadParameter, integer, parseNodeListQuery } from "./nodes.js";
import { readReply } from "./read-reply.js";

const TOP_METRICS: readonly TopMetric[] = ["speed", "latency", "availability"];

/** Parses `GET /api/stats/top-nodes`: metric (default speed), limit 1..100 (10), country, protocol. */
export function parseTopNodesQuery(query: Record<string, string>) {
  const metric = query.metric ?? "speed";
  if (!(TOP_METRICS as readonly string[]).includes(metric)) {
    throw new BadParameter(
      "metric",
      `must be one of ${TOP_METRICS.join(", ")}, got ${JSON.stringify(metric)}`,
    );
  }
  const limit = query.limit === undefined ? 10 : integer("limit", query.limit, 1, 100);
  // The same country/protocol rules (and messages) as GET /api/nodes; an empty value (the
  // `country=&protocol=` of DESIGN 5's URL) means no filter.
  const lists: Record<string, string> = {};
  if (query.country) lists.country = query.country;
  if (query.protocol) lists.protocol = query.protocol;
  const { filter } = parseNodeListQuery(lists);
  return { metric: metric as TopMetric, limit, countries: filter.countries, protocols: filter.protocols };
}

/** `GET /api/stats/summary` and `GET /api/stats/top-nodes` (DESIGN 5 and 10). */
export function statsRoutes(deps: { db: Db }): Hono {
  const app = new Hono();
  app.get("/summary", (c) => readReply(c, async () => c.json(await queryStatsSummary(deps.db))));
  app.get("/top-nodes", (c) =>
    readReply(c, async () => c.json(await queryTopNodes(deps.db, parseTopNodesQuery(c.req.query())))),
  );
  return app;
}
