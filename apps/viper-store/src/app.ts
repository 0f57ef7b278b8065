import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Db } from "./db/client.js";
import { checkRoutes, type ProbeRouteConfig } from "./http/checks.js";
import { docsRoutes } from "./http/docs.js";
import { exportRoutes } from "./http/export.js";
import { healthRoutes } from "./http/health.js";
import { nodeDetailRoutes } from "./http/node-detail.js";
import { nodeRoutes } from "./http/nodes.js";
import { openApiRoutes } from "./http/openapi.js";
import { type PrecisionRouteConfig, precisionRoutes } from "./http/precision.js";
import { readCors } from "./http/read-cors.js";
import { statsRoutes } from "./http/stats.js";
import { syncRoutes } from "./http/sync.js";
import { trafficRoutes } from "./http/traffic.js";
import { webhookRoutes } from "./http/webhook.js";
import type { DataSyncScheduler } from "./services/data-sync-scheduler.js";
import type { IngestConfig } from "./services/ingest.js";

export interface AppDeps {
  db: Db;
  ingest: IngestConfig;
  maxBodyBytes: number;
  /** The poller and ADMIN_TOKEN for /api/sync/* (absent: those routes are not served). */
  sync?: { poller: DataSyncScheduler; adminToken: string };
  /** TRAFFIC_BUDGET_GB for /api/stats/traffic; default 100. */
  trafficBudgetGb?: number;
  /** Registers work graceful shutdown waits for; default: none tracked. */
  track?: <T>(work: Promise<T>) => Promise<T>;
  log?: (message: string) => void;
  /** CORS_ORIGINS: browser origins allowed to GET /api/* and /openapi.json; default none. */
  corsOrigins?: readonly string[];
  /** Store checks of nodes (PROBE_*, V2RAY_BIN, REGION); default: the section-8 defaults. */
  probe?: ProbeRouteConfig;
  /** Precision tests (PRECISION_*, TRAFFIC_BUDGET_GB) and their abort registry; default: section-8 defaults. */
  precision?: PrecisionRouteConfig;
}

/** Builds the HTTP app (no port): tests call `app.request()` or serve it themselves. */
export function createApp(deps: AppDeps): Hono {
  const log = deps.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const app = new Hono();
  // CORS for reads only, before every route; /webhook/* and writes never get CORS headers.
  for (const path of ["/api/*", "/openapi.json"]) app.use(path, readCors(deps.corsOrigins ?? []));
  app.route("/", healthRoutes(deps));
  app.route("/webhook", webhookRoutes({ ...deps, track: deps.track ?? ((w) => w), log }));
  // Fixed paths under /api/nodes before the node routes, so /:id never captures them.
  app.route("/api/nodes/export", exportRoutes(deps));
  app.route("/api/nodes", precisionRoutes({ ...deps, log }));
  app.route("/api/nodes", nodeRoutes(deps));
  app.route("/api/nodes", nodeDetailRoutes(deps));
  app.route(
    "/api/stats/traffic",
    trafficRoutes({ db: deps.db, trafficBudgetGb: deps.trafficBudgetGb ?? 100 }),
  );
  app.route("/api/stats", statsRoutes(deps));
  if (deps.sync) app.route("/api/sync", syncRoutes({ db: deps.db, ...deps.sync }));
  app.route("/", openApiRoutes());
  app.route("/api/nodes", checkRoutes(deps));
  app.route("/", docsRoutes({ specUrl: "/openapi.json" }));
  app.notFound((c) =>
    c.json(
      { status: "error", error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` },
      404,
    ),
  );
  app.onError((err, c) => {
    // Middleware refusals (bearer auth …) carry their own response.
    if (err instanceof HTTPException) return err.getResponse();
    log(`viper-store: internal error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.json(
      { status: "error", error: "internal", message: "internal error (see the store's log)" },
      500,
    );
  });
  return app;
}
