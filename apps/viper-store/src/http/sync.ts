import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import type { Db } from "../db/client.js";
import { type DataSyncScheduler, PollNotConfiguredError } from "../services/data-sync-scheduler.js";
import { syncStatus } from "../services/sync-status.js";

export interface SyncRouteDeps {
  db: Db;
  /** ADMIN_TOKEN: poll-now takes `Authorization: Bearer <token>`. */
  adminToken: string;
  poller: DataSyncScheduler;
}

/** `GET /api/sync/status` and `POST /api/sync/poll-now` (admin). */
export function syncRoutes(deps: SyncRouteDeps): Hono {
  const app = new Hono();
  app.get("/status", async (c) =>
    c.json(await syncStatus(deps.db, { enabled: deps.poller.enabled, intervalS: deps.poller.intervalS })),
  );
  app.post(
    "/poll-now",
    bearerAuth({
      token: deps.adminToken,
      noAuthenticationHeader: { message: unauthorized("no Authorization header") },
      invalidAuthenticationHeader: {
        message: unauthorized("the Authorization header is not 'Bearer <token>'"),
      },
      invalidToken: { message: unauthorized("the token does not match ADMIN_TOKEN") },
    }),
    async (c) => {
      try {
        const { memory: _, ...outcome } = await deps.poller.pollNow();
        return c.json(outcome, 200);
      } catch (err) {
        if (err instanceof PollNotConfiguredError) {
          return c.json({ status: "error", error: "not_configured", message: err.message }, 409);
        }
        throw err;
      }
    },
  );
  return app;
}

function unauthorized(why: string) {
  return {
    status: "error",
    error: "unauthorized",
    message: `${why}: send Authorization: Bearer <ADMIN_TOKEN>`,
  };
}
