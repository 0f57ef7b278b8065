import { Hono } from "hono";
import type { Db } from "../db/client.js";
import { isDatabaseUnavailable } from "../services/db-errors.js";
import { checkStoredNode, type ProbeConfig, quickTestStoredNode } from "../services/node-checks.js";
import { rateLimit } from "./rate-limit.js";

export interface CheckRouteDeps {
  db: Db;
  /** Default: PROBE_URL's default, 5000 ms, v2ray on PATH, no region, 30 per IP and minute. */
  probe?: ProbeRouteConfig;
}

export interface ProbeRouteConfig extends ProbeConfig {
  /** PROBE_PER_IP_PER_MINUTE: checks and quick tests together, per client address. */
  perIpPerMinute: number;
}

const DEFAULT_PROBE: ProbeRouteConfig = { timeoutMs: 5000, region: "", perIpPerMinute: 30 };

/**
 * `POST /api/nodes/:id/check` (through the node) and `POST /api/nodes/:id/quick-test` (TCP),
 * public and limited per IP (DESIGN 5, 7). Both answer 200 whether the node passed or failed.
 */
export function checkRoutes(deps: CheckRouteDeps): Hono {
  const probe = deps.probe ?? DEFAULT_PROBE;
  const app = new Hono();
  // One budget for both: each request makes this machine open connections to the node.
  const limited = rateLimit({
    limit: probe.perIpPerMinute,
    windowMs: 60_000,
    variable: "PROBE_PER_IP_PER_MINUTE",
  });

  app.post("/:id/check", limited, async (c) => {
    const id = c.req.param("id");
    try {
      const reply = await checkStoredNode(deps.db, id, probe);
      return reply ? c.json(reply, 200) : c.json(unknownNode(id), 404);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      return c.json(UNAVAILABLE, 503);
    }
  });

  app.post("/:id/quick-test", limited, async (c) => {
    const id = c.req.param("id");
    try {
      const reply = await quickTestStoredNode(deps.db, id, probe);
      return reply ? c.json(reply, 200) : c.json(unknownNode(id), 404);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      return c.json(UNAVAILABLE, 503);
    }
  });

  return app;
}

function unknownNode(id: string) {
  return { status: "error", error: "not_found", message: `no node with id ${JSON.stringify(id)}` };
}

const UNAVAILABLE = {
  status: "error",
  error: "database_unavailable",
  message: "the database is unavailable",
};
