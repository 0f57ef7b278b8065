/**
 * `POST /api/nodes/precision-test` and `GET /api/nodes/:id/precision-tests` (DESIGN 7). Every
 * refusal (bad body, a URL in the request, unknown node, untestable node, no confirmation, a
 * limit) is answered before any byte is downloaded and writes nothing; then the test runs as one
 * JSON answer or, with `Accept: text/event-stream`, as `progress` events and a `result`/`error`.
 */

import { DEFAULT_PRECISION_TEST_URL } from "@viper/probe";
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { toIso } from "../db/client.js";
import type { PrecisionTestRow, ReservationRefusal } from "../db/precision-queries.js";
import { isDatabaseUnavailable } from "../services/db-errors.js";
import {
  confirmationOf,
  nodePrecisionTests,
  type PrecisionConfig,
  PrecisionRuns,
  planPrecisionTest,
  type RunOutcome,
  reservePrecision,
  runPrecisionTest,
} from "../services/precision-test.js";
import { NODE_ID_PATTERN } from "./node-detail.js";
import { integer } from "./nodes.js";
import { clientAddress } from "./rate-limit.js";
import { readReply } from "./read-reply.js";

export interface PrecisionRouteConfig extends PrecisionConfig {
  /** Running tests of this process, aborted on shutdown. */
  runs: PrecisionRuns;
}

export interface PrecisionRouteDeps {
  db: Db;
  /** Default: the section-8 defaults (Cloudflare's __down URL, 50 MB, 30 s, 2, 10/h, 100 GB). */
  precision?: PrecisionRouteConfig;
  /** Registers work graceful shutdown waits for (the row and ledger writes of a running test). */
  track?: <T>(work: Promise<T>) => Promise<T>;
  log?: (message: string) => void;
}

const DEFAULT_PRECISION: Omit<PrecisionRouteConfig, "runs"> = {
  maxMb: 50,
  maxSeconds: 30,
  maxConcurrent: 2,
  perIpPerHour: 10,
  budgetBytes: 100e9,
  urls: [DEFAULT_PRECISION_TEST_URL],
  region: "",
};

const MAX_BODY_BYTES = 16 * 1024;
const LIST_LIMIT_DEFAULT = 20;
const LIST_LIMIT_MAX = 200;

/** Keys that name a URL, and values that are one: refused wherever they appear in the body. */
const URL_KEY = /(url|uri|href|link|endpoint)/i;
const URL_VALUE = /^\s*([a-z][a-z0-9+.-]*:\/\/|\/\/|www\.)/i;

export function precisionRoutes(deps: PrecisionRouteDeps): Hono {
  const config = deps.precision ?? { ...DEFAULT_PRECISION, runs: new PrecisionRuns() };
  const track = deps.track ?? (<T>(w: Promise<T>) => w);
  const log = deps.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const app = new Hono();
  const bodySchema = requestSchema(config.maxMb);

  // The body is four small fields: anything bigger is not a precision-test request.
  const smallBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json(error("body_too_large", `the body must be at most ${MAX_BODY_BYTES} bytes`), 413),
  });

  app.post("/precision-test", smallBody, async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return c.json(
        error("bad_json", "the body must be a JSON object: { node_id, size_mb, confirm, via? }"),
        400,
      );
    }
    const urlField = findUrl(raw, "");
    if (urlField !== null) {
      return c.json(
        {
          ...error(
            "url_not_allowed",
            `${urlField} carries a URL: the test file comes only from the store's PRECISION_TEST_URLS, never from the request`,
          ),
          parameter: urlField,
        },
        400,
      );
    }
    const parsed = bodySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const parameter = issue?.path.length ? issue.path.join(".") : unknownKey(issue);
      return c.json(
        { ...error("bad_parameter", `${parameter}: ${issue?.message ?? "invalid"}`), parameter },
        400,
      );
    }
    const body = parsed.data;
    const via = body.via ?? "node";
    try {
      const plan = await planPrecisionTest(deps.db, config, body.node_id, via);
      if (!plan.ok) return c.json(error(plan.code, plan.message), plan.code === "node_not_found" ? 404 : 422);
      if (body.confirm !== true) {
        return c.json(
          {
            status: "error",
            error: "confirmation_required",
            node_id: body.node_id,
            size_mb: body.size_mb,
            via,
            ...confirmationOf(body.size_mb, via),
          },
          428,
        );
      }
      const reserved = await reservePrecision(deps.db, config, plan, body.size_mb, clientAddress(c));
      if (!reserved.ok) return refused(c, reserved.refusal, config);

      const wantsStream = (c.req.header("accept") ?? "").includes("text/event-stream");
      if (wantsStream) {
        return streamSSE(
          c,
          (stream) => streamTest(stream, deps.db, config, reserved.test, track),
          async (err, stream) => {
            log(`viper-store: precision test ${reserved.test.id} failed: ${err.stack ?? err.message}`);
            await stream.writeSSE({
              event: "error",
              data: JSON.stringify(error("internal", "the test failed (see the store's log)")),
            });
          },
        );
      }
      const handle = config.runs.open();
      const signal = AbortSignal.any([handle.signal, c.req.raw.signal]);
      const outcome = await track(runPrecisionTest(deps.db, config, reserved.test, { signal })).finally(() =>
        handle.release(),
      );
      if (outcome.kind === "untestable") {
        return c.json({ ...error("untestable", outcome.message), test_id: outcome.test_id }, 422);
      }
      return c.json(outcome.reply, 200);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      return c.json(error("database_unavailable", "the database is unavailable"), 503);
    }
  });

  app.get(`/:id{${NODE_ID_PATTERN}}/precision-tests`, (c) =>
    readReply(c, async () => {
      const limitRaw = c.req.query("limit");
      const limit =
        limitRaw === undefined ? LIST_LIMIT_DEFAULT : integer("limit", limitRaw, 1, LIST_LIMIT_MAX);
      const nodeId = c.req.param("id");
      const rows = await nodePrecisionTests(deps.db, nodeId, limit);
      if (rows === null) {
        return c.json(error("node_not_found", `no node with id ${nodeId} (active or stale)`), 404);
      }
      return c.json({ node_id: nodeId, tests: rows.map(testView) }, 200);
    }),
  );

  return app;
}

function requestSchema(maxMb: number) {
  const sizeMessage = `must be a whole number of MB (10^6 bytes) from 1 to ${maxMb} (PRECISION_MAX_MB)`;
  return z.strictObject({
    node_id: z.string({ error: "must be a node id (n_…)" }).min(1, "must be a node id (n_…)").max(200),
    size_mb: z.number({ error: sizeMessage }).int(sizeMessage).min(1, sizeMessage).max(maxMb, sizeMessage),
    confirm: z.boolean({ error: "must be true or false" }).optional(),
    via: z.enum(["node", "direct"], { error: 'must be "node" (default) or "direct"' }).optional(),
  });
}

function unknownKey(issue: z.core.$ZodIssue | undefined): string {
  if (issue?.code === "unrecognized_keys") return issue.keys[0] ?? "body";
  return "body";
}

/** The first place in the body that names or holds a URL ("url", "options.test_url", "via"…), or null. */
function findUrl(value: unknown, path: string): string | null {
  if (typeof value === "string") return URL_VALUE.test(value) ? path || "body" : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findUrl(item, `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (URL_KEY.test(key)) return at;
      const found = findUrl(item, at);
      if (found !== null) return found;
    }
  }
  return null;
}

function refused(c: Context, refusal: ReservationRefusal, config: PrecisionConfig): Response {
  c.header("Retry-After", String(refusal.retryAfterS));
  switch (refusal.reason) {
    case "node_busy":
      return c.json(
        {
          ...error(
            "precision_test_running",
            `a precision test of this node is running (${refusal.runningTestId}); one at a time per node`,
          ),
          running_test_id: refusal.runningTestId,
          retry_after_s: refusal.retryAfterS,
        },
        409,
      );
    case "per_ip":
      return c.json(
        {
          ...error(
            "rate_limited",
            `at most ${refusal.limit} precision tests per hour from one address (PRECISION_PER_IP_PER_HOUR); retry in ${refusal.retryAfterS} s`,
          ),
          retry_after_s: refusal.retryAfterS,
        },
        429,
      );
    case "concurrency":
      return c.json(
        {
          ...error(
            "precision_concurrency",
            `${refusal.running} precision test(s) running, at most ${refusal.limit} at once (PRECISION_MAX_CONCURRENT); retry in ${refusal.retryAfterS} s`,
          ),
          running: refusal.running,
          limit: refusal.limit,
          retry_after_s: refusal.retryAfterS,
        },
        429,
      );
    case "budget": {
      const gb = (bytes: number) => `${(bytes / 1e9).toFixed(3)} GB`;
      return c.json(
        {
          ...error(
            "traffic_budget_exhausted",
            `this test would pass the month's traffic budget (TRAFFIC_BUDGET_GB = ${gb(config.budgetBytes)}): ` +
              `${gb(refusal.usedBytes)} used, ${gb(refusal.runningReservedBytes)} reserved by running tests, ${gb(refusal.requestedBytes)} asked`,
          ),
          budget_bytes: refusal.budgetBytes,
          used_bytes: refusal.usedBytes,
          running_reserved_bytes: refusal.runningReservedBytes,
          requested_bytes: refusal.requestedBytes,
          retry_after_s: refusal.retryAfterS,
        },
        429,
      );
    }
  }
}

/** Progress events while the test runs (the meter ticks five times a second), then result or error. */
async function streamTest(
  stream: SSEStreamingApi,
  db: Db,
  config: PrecisionRouteConfig,
  test: Parameters<typeof runPrecisionTest>[2],
  track: <T>(w: Promise<T>) => Promise<T>,
): Promise<void> {
  const handle = config.runs.open();
  const client = new AbortController();
  // The client went away: stop downloading (node-server reports it here).
  stream.onAbort(() => client.abort(new Error("the client disconnected")));
  if (stream.aborted) client.abort(new Error("the client disconnected"));
  let writes = Promise.resolve();
  const send = (event: string, data: unknown) => {
    writes = writes.then(() =>
      stream.aborted ? undefined : stream.writeSSE({ event, data: JSON.stringify(data) }),
    );
    writes = writes.catch(() => {});
    return writes;
  };
  let outcome: RunOutcome;
  try {
    outcome = await track(
      runPrecisionTest(db, config, test, {
        signal: AbortSignal.any([handle.signal, client.signal]),
        onProgress: (p) => void send("progress", p),
      }),
    );
  } finally {
    handle.release();
  }
  if (outcome.kind === "untestable") {
    await send("error", { ...error("untestable", outcome.message), test_id: outcome.test_id });
  } else {
    await send("result", outcome.reply);
  }
}

function testView(row: PrecisionTestRow) {
  return {
    id: row.id,
    node_id: row.nodeId,
    via: row.via,
    status: row.status,
    size_bytes: Number(row.sizeBytes),
    url: row.url,
    bytes_downloaded: row.bytesDownloaded === null ? null : Number(row.bytesDownloaded),
    traffic_consumed_bytes: row.trafficConsumedBytes === null ? null : Number(row.trafficConsumedBytes),
    ttfb_ms: row.ttfbMs,
    duration_ms: row.durationMs,
    mb_per_s: row.mbPerS,
    mbit_per_s: row.mbitPerS,
    p90_mb_per_s: row.p90MbPerS,
    error: row.error,
    started_at: toIso(row.startedAt),
    finished_at: toIso(row.finishedAt),
  };
}

function error(code: string, message: string) {
  return { status: "error", error: code, message };
}
