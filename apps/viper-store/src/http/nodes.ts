import { PROTOCOLS } from "@viper/protocol";
import { Hono } from "hono";
import type { Db } from "../db/client.js";
import type { NodeFilter, NodeOrder, SortField } from "../db/node-queries.js";
import { isDatabaseUnavailable } from "../services/db-errors.js";
import { queryNodeList } from "../services/node-query.js";

/** A query parameter that is malformed or out of range: 400 naming it, never clamped. */
export class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

const FILTER_PARAMS = [
  "country",
  "protocol",
  "min_speed",
  "max_latency",
  "min_availability",
  "status",
  "q",
  "region",
];
const SORT_FIELDS: readonly SortField[] = ["speed", "latency", "availability", "last_seen_at"];
const NUMBER = /^\d+(\.\d+)?$/;

function list(name: string, raw: string, check: (v: string) => boolean, what: string): string[] {
  const values = raw.split(",").map((v) => v.trim());
  if (values.some((v) => v === ""))
    throw new BadParameter(name, `empty entry in the comma list ${JSON.stringify(raw)}`);
  const bad = values.find((v) => !check(v));
  if (bad !== undefined) throw new BadParameter(name, `${JSON.stringify(bad)} is not ${what}`);
  return [...new Set(values)];
}

function number(name: string, raw: string, max?: number): number {
  if (!NUMBER.test(raw.trim()))
    throw new BadParameter(name, `must be a number ≥ 0, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (max !== undefined && n > max) throw new BadParameter(name, `must be between 0 and ${max}, got ${raw}`);
  return n;
}

export function integer(name: string, raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim()))
    throw new BadParameter(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new BadParameter(name, `must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/** Parses the `GET /api/nodes` query (DESIGN 5 and 10). Unknown parameter names are ignored. */
export function parseNodeListQuery(query: Record<string, string>): {
  filter: NodeFilter;
  order: NodeOrder;
  filtered: boolean;
} {
  const filter: NodeFilter = { status: "active" };
  const get = (name: string) => query[name];
  const country = get("country");
  if (country !== undefined) {
    filter.countries = list(
      "country",
      country,
      (v) => /^[A-Za-z]{2}$/.test(v),
      "a two-letter country code",
    ).map((v) => v.toUpperCase());
  }
  const protocol = get("protocol");
  if (protocol !== undefined) {
    filter.protocols = list(
      "protocol",
      protocol.toLowerCase(),
      (v) => (PROTOCOLS as readonly string[]).includes(v),
      `one of ${PROTOCOLS.join(", ")}`,
    );
  }
  const minSpeed = get("min_speed");
  if (minSpeed !== undefined) filter.minSpeed = number("min_speed", minSpeed);
  const maxLatency = get("max_latency");
  if (maxLatency !== undefined) filter.maxLatency = number("max_latency", maxLatency);
  const minAvailability = get("min_availability");
  if (minAvailability !== undefined)
    filter.minAvailability = number("min_availability", minAvailability, 100);
  const status = get("status");
  if (status !== undefined) {
    if (status !== "active" && status !== "stale" && status !== "all") {
      throw new BadParameter("status", `must be active, stale or all, got ${JSON.stringify(status)}`);
    }
    filter.status = status;
  }
  const q = get("q");
  if (q !== undefined) {
    if (q.length > 200) throw new BadParameter("q", "must be at most 200 characters");
    if (q !== "") filter.q = q;
  }

  const region = get("region");
  if (region !== undefined) {
    if (region.trim() === "" || region.length > 100) {
      throw new BadParameter(
        "region",
        "must be a region name of 1 to 100 characters (as measurements carry it)",
      );
    }
    filter.region = region.trim();
  }

  const order: NodeOrder = { sort: null, limit: 100, offset: 0 };
  const sort = get("sort");
  if (sort !== undefined) {
    const descending = sort.startsWith("-");
    const field = (descending ? sort.slice(1) : sort) as SortField;
    if (!SORT_FIELDS.includes(field)) {
      throw new BadParameter(
        "sort",
        `must be one of ${SORT_FIELDS.join(", ")} (prefix - for descending), got ${JSON.stringify(sort)}`,
      );
    }
    order.sort = { field, descending };
  }
  const limit = get("limit");
  if (limit !== undefined) order.limit = integer("limit", limit, 1, 500);
  const offset = get("offset");
  if (offset !== undefined) order.offset = integer("offset", offset, 0, Number.MAX_SAFE_INTEGER);

  return { filter, order, filtered: FILTER_PARAMS.some((p) => get(p) !== undefined) };
}

export function nodeRoutes(deps: { db: Db }): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    let parsed: ReturnType<typeof parseNodeListQuery>;
    try {
      parsed = parseNodeListQuery(c.req.query());
    } catch (err) {
      if (!(err instanceof BadParameter)) throw err;
      return c.json(
        { status: "error", error: "bad_parameter", parameter: err.parameter, message: err.message },
        400,
      );
    }
    try {
      return c.json(await queryNodeList(deps.db, parsed.filter, parsed.order, parsed.filtered));
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      return c.json(
        { status: "error", error: "database_unavailable", message: "the database is unavailable" },
        503,
      );
    }
  });
  return app;
}
