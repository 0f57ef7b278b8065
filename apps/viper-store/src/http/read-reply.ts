import type { Context } from "hono";
import { isDatabaseUnavailable } from "../services/db-errors.js";
import { BadParameter } from "./nodes.js";

/**
 * Runs a read endpoint's work and maps its two expected failures the way `GET /api/nodes` does:
 * a BadParameter → 400 `{parameter, message}`, an unavailable database → 503. Anything else is a
 * bug and goes to the app's error handler (500).
 */
export async function readReply(c: Context, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BadParameter) {
      return c.json(
        { status: "error", error: "bad_parameter", parameter: err.parameter, message: err.message },
        400,
      );
    }
    if (isDatabaseUnavailable(err)) {
      return c.json(
        { status: "error", error: "database_unavailable", message: "the database is unavailable" },
        503,
      );
    }
    throw err;
  }
}
