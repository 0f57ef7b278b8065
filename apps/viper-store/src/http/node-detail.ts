import { Hono } from "hono";
import type { Db } from "../db/client.js";
import { queryNodeDetail } from "../services/node-detail.js";
import { BadParameter, integer } from "./nodes.js";
import { readReply } from "./read-reply.js";

/**
 * The shape of a node id (`n_` + 16 hex, see @viper/protocol identity). Only ids of this shape reach
 * the handler, so fixed paths under /api/nodes (export, precision-test…) are never taken for ids.
 */
export const NODE_ID_PATTERN = "n_[0-9a-f]{16}";
export const HISTORY_LIMIT_MAX = 500;
export const HISTORY_LIMIT_DEFAULT = 100;

/** `GET /api/nodes/:id` → the node view + `current` (per source, region) + `history` (newest first). */
export function nodeDetailRoutes(deps: { db: Db }): Hono {
  const app = new Hono();
  app.get(`/:id{${NODE_ID_PATTERN}}`, (c) =>
    readReply(c, async () => {
      const historyLimitRaw = c.req.query("history_limit");
      const historyLimit =
        historyLimitRaw === undefined
          ? HISTORY_LIMIT_DEFAULT
          : integer("history_limit", historyLimitRaw, 1, HISTORY_LIMIT_MAX);
      const region = c.req.query("region");
      if (region !== undefined && region.length > 64)
        throw new BadParameter("region", "must be at most 64 characters");
      const id = c.req.param("id");
      const detail = await queryNodeDetail(deps.db, id, { historyLimit, region });
      if (!detail) {
        return c.json(
          { status: "error", error: "node_not_found", message: `no node with id ${id} (active or stale)` },
          404,
        );
      }
      return c.json(detail);
    }),
  );
  return app;
}
