import { Hono } from "hono";
import type { Db } from "./db/client.js";
import { docsRoutes } from "./http/docs.js";
import { exportRoutes } from "./http/export.js";
import { healthRoutes } from "./http/health.js";
import { nodeRoutes } from "./http/nodes.js";
import { webhookRoutes } from "./http/webhook.js";
import type { IngestConfig } from "./services/ingest.js";

export interface AppDeps {
  db: Db;
  ingest: IngestConfig;
  maxBodyBytes: number;
  /** Registers work graceful shutdown waits for; default: none tracked. */
  track?: <T>(work: Promise<T>) => Promise<T>;
  log?: (message: string) => void;
}

/** Builds the HTTP app (no port): tests call `app.request()` or serve it themselves. */
export function createApp(deps: AppDeps): Hono {
  const log = deps.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const app = new Hono();
  app.route("/", healthRoutes(deps));
  app.route("/webhook", webhookRoutes({ ...deps, track: deps.track ?? ((w) => w), log }));
  // Fixed paths under /api/nodes before the node routes, so /:id never captures them.
  app.route("/api/nodes/export", exportRoutes(deps));
  app.route("/api/nodes", nodeRoutes(deps));
  app.route("/", docsRoutes({ specUrl: "/openapi.json" }));
  app.notFound((c) =>
    c.json(
      { status: "error", error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` },
      404,
    ),
  );
  app.onError((err, c) => {
    log(`viper-store: internal error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.json(
      { status: "error", error: "internal", message: "internal error (see the store's log)" },
      500,
    );
  });
  return app;
}
