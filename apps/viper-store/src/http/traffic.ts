import { Hono } from "hono";
import type { Db } from "../db/client.js";
import { trafficReport } from "../services/traffic-report.js";

/** `GET /api/stats/traffic` (DESIGN 5): this UTC month's bytes on the wire per mechanism. */
export function trafficRoutes(deps: { db: Db; trafficBudgetGb: number }): Hono {
  const app = new Hono();
  app.get("/", async (c) => c.json(await trafficReport(deps.db, deps.trafficBudgetGb)));
  return app;
}
