import { OpenAPIHono, type z, z as zod } from "@hono/zod-openapi";
import { Hono } from "hono";
import {
  CheckResultSchema,
  ConnectionSchema,
  DeliveryResultSchema,
  ErrorSchema,
  NodeDetailSchema,
  NodeListSchema,
  NodeViewSchema,
  nodeFilterParams,
  PayloadSchema,
  PollOutcomeSchema,
  PrecisionRequestSchema,
  PrecisionTestSchema,
  StatsSummarySchema,
  SyncStatusSchema,
  TopNodesSchema,
  TrafficSchema,
} from "./openapi-schemas.js";

type Registry = OpenAPIHono["openAPIRegistry"];
type RouteConfig = Parameters<Registry["registerPath"]>[0];
type Responses = RouteConfig["responses"];

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const error = (description: string) => json(ErrorSchema, description);

const BAD_PARAMETER = error("A malformed or out-of-range parameter, named in `parameter`");
const UNAVAILABLE = error("The database is unavailable (retry later; `Retry-After` on the webhook)");
const LIMITED = error("Per-IP limit reached; `Retry-After` says when to retry");

const WEBHOOK_DESCRIPTION = `Signed with the Standard Webhooks scheme (DESIGN 3.1): \`webhook-id\`, \`webhook-timestamp\`
(unix seconds, within WEBHOOK_TOLERANCE_S) and \`webhook-signature\` = \`v1,\` + base64(HMAC-SHA256(secret,
"<id>.<timestamp>.<raw body>")), the secret being WEBHOOK_SECRET (a \`whsec_\` value is base64-decoded).
Legacy Python hunters may sign with X-Webhook-Signature when ACCEPT_LEGACY_SIGNATURES is on. Prober
secrets (PROBER_SECRETS) are accepted for \`event_type: measurements\` only.`;

const signatureHeaders = zod.object({
  "webhook-id": zod.string().openapi({ description: "Unique delivery id (idempotency key)" }),
  "webhook-timestamp": zod.string().openapi({ description: "Unix seconds" }),
  "webhook-signature": zod
    .string()
    .openapi({ description: "`v1,<base64 HMAC-SHA256>`, space-separated list allowed" }),
});

const nodeId = zod.object({
  id: zod
    .string()
    .regex(/^n_[0-9a-f]{16}$/)
    .openapi({ description: "Node id", example: "n_0123456789abcdef" }),
});

function routes(): RouteConfig[] {
  const exportQuery = zod.object({
    ...nodeFilterParams,
    format: zod
      .enum(["json", "csv", "links", "base64", "clash"])
      .optional()
      .openapi({ description: "default json" }),
    limit: zod.string().optional().openapi({ description: "Optional cap; no default (every match)" }),
    offset: zod.string().optional(),
  });
  const exportResponses: Responses = {
    200: {
      description:
        "The nodes in the asked format, with `Content-Disposition` (a file name); subscription formats also send `profile-update-interval`",
      content: {
        "application/json": { schema: zod.array(NodeViewSchema) },
        "text/csv": { schema: zod.string() },
        "text/plain": { schema: zod.string() },
        "text/yaml": { schema: zod.string() },
      },
    },
    400: BAD_PARAMETER,
    503: UNAVAILABLE,
  };
  const checkResponses: Responses = {
    200: json(CheckResultSchema, "The check ran (passed or failed: see `ok`)"),
    404: error("Unknown node id"),
    429: LIMITED,
  };
  return [
    {
      method: "post",
      path: "/webhook/nodes-update",
      tags: ["webhook"],
      summary: "Receive a signed delivery (hunter, poller format, prober measurements)",
      description: `${WEBHOOK_DESCRIPTION}\n\nOne transaction per delivery; a copy of an applied webhook-id answers \`duplicate\`.`,
      security: [{ webhookSignature: [] }],
      request: {
        headers: signatureHeaders,
        body: { required: true, content: { "application/json": { schema: PayloadSchema } } },
      },
      responses: {
        200: json(DeliveryResultSchema, "Applied (`success`) or already applied (`duplicate`)"),
        400: error("Not JSON, bad gzip or a bad envelope (`issues`)"),
        401: error("Missing or invalid signature, or timestamp outside the tolerance"),
        403: error("Prober secret used for something other than `measurements`"),
        413: error("Body over MAX_BODY_BYTES (also after gunzip); nothing applied"),
        415: error("Not application/json, or an encoding other than gzip"),
        503: UNAVAILABLE,
      },
    },
    {
      method: "post",
      path: "/webhook/test-connection",
      tags: ["webhook"],
      summary: "Check the secret and the clocks (signed, empty body allowed)",
      description: WEBHOOK_DESCRIPTION,
      security: [{ webhookSignature: [] }],
      request: { headers: signatureHeaders },
      responses: {
        200: json(ConnectionSchema, "Signature accepted"),
        401: error("Unsigned or bad signature"),
      },
    },
    {
      method: "get",
      path: "/healthz",
      tags: ["health"],
      summary: "The process answers",
      responses: { 200: json(zod.object({ status: zod.literal("ok") }), "Up") },
    },
    {
      method: "get",
      path: "/readyz",
      tags: ["health"],
      summary: "Database reachable and every migration applied",
      responses: {
        200: json(zod.object({ status: zod.literal("ready") }).passthrough(), "Ready"),
        503: json(zod.object({ status: zod.literal("not_ready") }).passthrough(), "Not ready"),
      },
    },
    {
      method: "get",
      path: "/api/nodes",
      tags: ["nodes"],
      summary: "List nodes with filters, sort and paging",
      request: {
        query: zod.object({
          ...nodeFilterParams,
          limit: zod.string().optional().openapi({ description: "1..500, default 100" }),
          offset: zod.string().optional().openapi({ description: "≥ 0, default 0" }),
        }),
      },
      responses: { 200: json(NodeListSchema, "Matching nodes"), 400: BAD_PARAMETER, 503: UNAVAILABLE },
    },
    {
      method: "get",
      path: "/api/nodes/export",
      tags: ["nodes"],
      summary: "Export the matching nodes (json, csv, links, base64 subscription, clash profile)",
      request: { query: exportQuery },
      responses: exportResponses,
    },
    {
      method: "post",
      path: "/api/nodes/export",
      tags: ["nodes"],
      summary: "Export, with the same parameters in a JSON body",
      request: { body: { content: { "application/json": { schema: exportQuery } } } },
      responses: exportResponses,
    },
    {
      method: "get",
      path: "/api/nodes/{id}",
      tags: ["nodes"],
      summary: "One node: its view, current values per (source, region, method) and recent history",
      request: {
        params: nodeId,
        query: zod.object({
          history_limit: zod.string().optional().openapi({ description: "1..500, default 100" }),
          region: zod
            .string()
            .optional()
            .openapi({ description: "Only this region's current values and history (empty = no region)" }),
        }),
      },
      responses: {
        200: json(NodeDetailSchema, "The node"),
        400: BAD_PARAMETER,
        404: error("No node with this id (or not an id: `n_` + 16 hex)"),
        503: UNAVAILABLE,
      },
    },
    {
      method: "post",
      path: "/api/nodes/{id}/check",
      tags: ["checks"],
      summary: "Check the node through itself (HTTP request to PROBE_URL via the node)",
      request: { params: nodeId },
      responses: checkResponses,
    },
    {
      method: "post",
      path: "/api/nodes/{id}/quick-test",
      tags: ["checks"],
      summary: "TCP connect test from the store (3 attempts, method tcp)",
      request: { params: nodeId },
      responses: checkResponses,
    },
    {
      method: "post",
      path: "/api/nodes/precision-test",
      tags: ["checks"],
      summary: "Download a test file through the node (server-sent events: progress, then result or error)",
      request: {
        body: { required: true, content: { "application/json": { schema: PrecisionRequestSchema } } },
      },
      responses: {
        200: {
          description:
            "The result (`status` success|cap_reached|timeout|aborted|failed, bytes, MB/s…) as JSON, or with `Accept: text/event-stream` an event stream of `progress`, then `result` or `error`",
          content: {
            "application/json": { schema: PrecisionTestSchema },
            "text/event-stream": { schema: zod.string() },
          },
        },
        400: error("Bad request (a URL in the request is refused)"),
        422: error("The node cannot be tested through (unsupported protocol/feature, or no v2ray)"),
        404: error("Unknown node"),
        409: error("A test of this node is already running"),
        428: error("`confirm: true` missing; the message says how much traffic the test costs"),
        429: error(
          "PRECISION_PER_IP_PER_HOUR, PRECISION_MAX_CONCURRENT or the month's TRAFFIC_BUDGET_GB reached (`error` says which); `Retry-After`",
        ),
      },
    },
    {
      method: "get",
      path: "/api/nodes/{id}/precision-tests",
      tags: ["checks"],
      summary: "The node's stored precision tests, newest first",
      request: { params: nodeId },
      responses: {
        200: json(
          zod.object({ node_id: zod.string(), tests: zod.array(PrecisionTestSchema) }),
          "Tests (`limit` 1..200, default 20)",
        ),
        400: BAD_PARAMETER,
        404: error("Unknown node"),
      },
    },
    {
      method: "get",
      path: "/api/stats/summary",
      tags: ["stats"],
      summary: "Totals, counts by country and protocol, metric avg/p50/p90, last webhook and poll times",
      responses: { 200: json(StatsSummarySchema, "Summary over active nodes"), 503: UNAVAILABLE },
    },
    {
      method: "get",
      path: "/api/stats/top-nodes",
      tags: ["stats"],
      summary:
        "Best active nodes by one metric (latency ascending, others descending; nodes without it left out)",
      request: {
        query: zod.object({
          metric: zod
            .enum(["speed", "latency", "availability"])
            .optional()
            .openapi({ description: "default speed" }),
          limit: zod.string().optional().openapi({ description: "1..100, default 10" }),
          country: nodeFilterParams.country,
          protocol: nodeFilterParams.protocol,
        }),
      },
      responses: { 200: json(TopNodesSchema, "Top nodes"), 400: BAD_PARAMETER, 503: UNAVAILABLE },
    },
    {
      method: "get",
      path: "/api/stats/traffic",
      tags: ["stats"],
      summary: "This UTC month's bytes on the wire per mechanism, projection and budget",
      responses: { 200: json(TrafficSchema, "Traffic") },
    },
    {
      method: "get",
      path: "/api/sync/status",
      tags: ["sync"],
      summary: "Webhook and poll state, last change, recent deliveries",
      responses: { 200: json(SyncStatusSchema, "Sync status") },
    },
    {
      method: "post",
      path: "/api/sync/poll-now",
      tags: ["sync"],
      summary: "Poll the hunter now (admin); answers once the poll has finished",
      security: [{ adminBearer: [] }],
      responses: {
        200: json(PollOutcomeSchema, "The poll's outcome"),
        401: error("Missing or wrong `Authorization: Bearer <ADMIN_TOKEN>`"),
        409: error("No feed configured: set SPIDERFLOW_API_URL or SPIDERFLOW_FEED_URL"),
      },
    },
    {
      method: "get",
      path: "/docs",
      tags: ["meta"],
      summary: "API reference page (assets served by the store, works offline)",
      responses: { 200: { description: "HTML page", content: { "text/html": { schema: zod.string() } } } },
    },
    {
      method: "get",
      path: "/openapi.json",
      tags: ["meta"],
      summary: "This document",
      responses: {
        200: {
          description: "OpenAPI 3.1 document",
          content: { "application/json": { schema: zod.object({}).passthrough() } },
        },
      },
    },
  ];
}

/** The OpenAPI 3.1 document of every route of the store, generated from the zod schemas. */
export function buildOpenApiDocument(): ReturnType<OpenAPIHono["getOpenAPI31Document"]> {
  const doc = new OpenAPIHono();
  doc.openAPIRegistry.registerComponent("securitySchemes", "webhookSignature", {
    type: "apiKey",
    in: "header",
    name: "webhook-signature",
    description: WEBHOOK_DESCRIPTION,
  });
  doc.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", {
    type: "http",
    scheme: "bearer",
    description:
      "`Authorization: Bearer <ADMIN_TOKEN>` (≥ 16 characters; generated into $DATA_DIR/admin-token when unset)",
  });
  for (const route of routes()) doc.openAPIRegistry.registerPath(route);
  return doc.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "viper-store API",
      version: "1",
      description:
        "Receives signed node deliveries and serves the catalogue. Reads, checks and the precision test are public (per-IP limits on the costly ones); `POST /api/sync/poll-now` takes the admin bearer token.",
    },
  });
}

/** `GET /openapi.json`: built once, on first request. */
export function openApiRoutes(): Hono {
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  const app = new Hono();
  app.get("/openapi.json", (c) => {
    document ??= buildOpenApiDocument();
    return c.json(document);
  });
  return app;
}
