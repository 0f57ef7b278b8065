import { Hono } from "hono";
import { type Db, migrationsApplied } from "../db/client.js";

/** `GET /healthz` (the process answers) and `GET /readyz` (database reachable, migrations applied). */
export function healthRoutes(deps: { db: Db }): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    try {
      if (await migrationsApplied(deps.db))
        return c.json({ status: "ready", database: "ok", migrations: "applied" });
      return c.json({ status: "not_ready", database: "ok", migrations: "pending" }, 503);
    } catch (err) {
      return c.json({ status: "not_ready", database: "unavailable", message: (err as Error).message }, 503);
    }
  });
  return app;
}
