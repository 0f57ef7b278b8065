import { Hono } from "hono";
import type { Db } from "../db/client.js";
import { isDatabaseUnavailable } from "../services/db-errors.js";
import {
  EXPORT_FORMATS,
  type ExportOptions,
  isExportFormat,
  renderExport,
} from "../services/export/index.js";
import { queryNodeList } from "../services/node-query.js";
import { parseNodeListQuery } from "./nodes.js";

export interface ExportDeps {
  db: Db;
  /** `profile-update-interval` of subscription formats, hours. Default 6. */
  updateIntervalHours?: number;
  /** Clock for the file name (tests). */
  now?: () => Date;
}

class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

/** parseNodeListQuery throws its own BadParameter (not exported); it is known by its `parameter`. */
function badParameterOf(err: unknown): BadParameter | undefined {
  if (err instanceof BadParameter) return err;
  if (err instanceof Error && typeof (err as { parameter?: unknown }).parameter === "string") {
    return new BadParameter(
      (err as unknown as { parameter: string }).parameter,
      err.message.replace(/^[^:]*: /, ""),
    );
  }
  return undefined;
}

/** A POST body as string parameters: JSON object (lists joined by commas) or an HTML form. */
async function bodyParameters(req: Request): Promise<Record<string, string>> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const text = await req.text();
  if (text.trim() === "") return {};
  if (type === "application/x-www-form-urlencoded") return Object.fromEntries(new URLSearchParams(text));
  if (type !== "application/json") {
    throw new BadParameter(
      "body",
      `send application/json or application/x-www-form-urlencoded, got ${JSON.stringify(type)}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadParameter("body", "is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadParameter(
      "body",
      'must be a JSON object of parameters, e.g. {"format":"clash","country":["JP"]}',
    );
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[name] = String(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === "string")) out[name] = v.join(",");
    else throw new BadParameter(name, "must be a string, a number or a list of strings");
  }
  return out;
}

function wholeNumber(name: string, raw: string, min: number): number {
  if (!/^\d+$/.test(raw.trim()))
    throw new BadParameter(name, `must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || !Number.isSafeInteger(n))
    throw new BadParameter(name, `must be a whole number ≥ ${min}, got ${raw}`);
  return n;
}

/**
 * `GET|POST /api/nodes/export` (mount at that path, before any `/api/nodes/:id` route): the filters
 * and sort of `GET /api/nodes`, every match unless `limit` is given, plus `format`
 * (json, csv, links, base64, clash; default json).
 */
export function exportRoutes(deps: ExportDeps): Hono {
  const app = new Hono();
  const handle = async (req: Request, query: Record<string, string>) => {
    const params = req.method === "POST" ? { ...query, ...(await bodyParameters(req)) } : query;
    const { format = "json", limit, offset, ...filters } = params;
    if (!isExportFormat(format)) {
      throw new BadParameter(
        "format",
        `must be one of ${EXPORT_FORMATS.join(", ")}, got ${JSON.stringify(format)}`,
      );
    }
    const parsed = parseNodeListQuery(filters);
    const order = {
      ...parsed.order,
      // No default limit: an export is every match. Postgres takes a bigint LIMIT.
      limit: limit === undefined ? Number.MAX_SAFE_INTEGER : wholeNumber("limit", limit, 1),
      offset: offset === undefined ? 0 : wholeNumber("offset", offset, 0),
    };
    const result = await queryNodeList(deps.db, parsed.filter, order, parsed.filtered);
    const options: ExportOptions = { now: deps.now?.() ?? new Date() };
    if (deps.updateIntervalHours !== undefined) options.updateIntervalHours = deps.updateIntervalHours;
    return renderExport(format, result.nodes, options);
  };

  app.on(["GET", "POST"], "/", async (c) => {
    try {
      const file = await handle(c.req.raw, c.req.query());
      return c.body(file.body, 200, { ...file.headers, "Cache-Control": "no-cache" });
    } catch (err) {
      const bad = badParameterOf(err);
      if (bad) {
        return c.json(
          { status: "error", error: "bad_parameter", parameter: bad.parameter, message: bad.message },
          400,
        );
      }
      if (!isDatabaseUnavailable(err)) throw err;
      return c.json(
        { status: "error", error: "database_unavailable", message: "the database is unavailable" },
        503,
      );
    }
  });
  return app;
}
