import { z } from "@hono/zod-openapi";
import { PROTOCOLS } from "@viper/protocol";

/**
 * Zod schemas of what the API returns, registered as OpenAPI components. The node view, node
 * detail and stats schemas describe the JSON exactly (tests parse real responses with them); the
 * schemas of endpoints owned by other modules describe DESIGN 5/7 and allow extra fields.
 */

const isoTime = z.string().openapi({ format: "date-time", example: "2026-01-01T12:00:00.000Z" });
const metric = (what: string) => z.number().nullable().openapi({ description: what });

export const NodeViewSchema = z
  .object({
    id: z
      .string()
      .openapi({ description: "`n_` + 16 hex of sha256(node key)", example: "n_0123456789abcdef" }),
    url: z.string().openapi({ description: "Canonical share link" }),
    name: z.string(),
    protocol: z.string().openapi({ example: "trojan" }),
    host: z.string(),
    port: z.number().int(),
    country: z.string().nullable().openapi({ description: "ISO 3166-1 alpha-2, null when unknown" }),
    latency: metric("ms; newest non-null over every (source, region)"),
    speed: metric("MB/s (10^6 bytes/s), measured; never a legacy score"),
    availability: metric("percent 0..100"),
    status: z.enum(["active", "stale"]),
    first_seen_at: isoTime,
    last_seen_at: isoTime,
    observed_at: isoTime.nullable(),
    source: z.string().nullable().openapi({ description: "Source of the newest observation shown" }),
  })
  .strict()
  .openapi("Node");

export const ObservationSchema = z
  .object({
    source: z.string(),
    region: z.string().nullable().openapi({ description: "null when the delivery named no region" }),
    method: z
      .string()
      .nullable()
      .openapi({ description: "hunter, tcp, node, precision…; null when unknown" }),
    latency: z.number().nullable(),
    speed: z.number().nullable(),
    availability: z.number().nullable(),
    observed_at: isoTime,
  })
  .strict()
  .openapi("Observation");

export const NodeDetailSchema = NodeViewSchema.extend({
  current: z.array(ObservationSchema).openapi({ description: "Current values, one per (source, region)" }),
  history: z
    .array(ObservationSchema)
    .openapi({ description: "Measurements, newest first, at most history_limit" }),
})
  .strict()
  .openapi("NodeDetail");

export const NodeListSchema = z
  .object({
    total: z.number().int(),
    filtered: z.boolean(),
    last_updated: isoTime.nullable(),
    nodes: z.array(NodeViewSchema),
  })
  .strict()
  .openapi("NodeList");

const DistributionSchema = z
  .object({ avg: z.number().nullable(), p50: z.number().nullable(), p90: z.number().nullable() })
  .strict()
  .openapi("Distribution", {
    description: "Over active nodes that have the metric; all null when none has it",
  });

export const StatsSummarySchema = z
  .object({
    totals: z.object({ active: z.number().int(), stale: z.number().int() }).strict(),
    by_country: z
      .record(z.string(), z.number().int())
      .openapi({ description: 'Active nodes per country code; "unknown" for nodes without a country' }),
    by_protocol: z.record(z.string(), z.number().int()).openapi({ description: "Active nodes per protocol" }),
    latency: DistributionSchema,
    speed: DistributionSchema,
    availability: DistributionSchema,
    last_webhook_at: isoTime.nullable(),
    last_poll_at: isoTime.nullable(),
  })
  .strict()
  .openapi("StatsSummary");

export const TopNodesSchema = z
  .object({ metric: z.enum(["speed", "latency", "availability"]), nodes: z.array(NodeViewSchema) })
  .strict()
  .openapi("TopNodes");

export const ErrorSchema = z
  .object({
    status: z.literal("error"),
    error: z.string().openapi({ example: "bad_parameter" }),
    message: z.string(),
    parameter: z.string().optional().openapi({ description: "The query parameter at fault (400)" }),
  })
  .passthrough()
  .openapi("Error");

export const DeliveryResultSchema = z
  .object({
    status: z.enum(["success", "duplicate"]),
    delivery_id: z.string(),
    received: z.number().int().optional(),
    inserted: z.number().int().optional(),
    updated: z.number().int().optional(),
    unchanged: z.number().int().optional(),
    stale: z.number().int().optional(),
    revived: z.number().int().optional(),
    rejected: z.array(z.object({ index: z.number().int(), reason: z.string() })).optional(),
    warnings: z.array(z.string()).optional(),
  })
  .passthrough()
  .openapi("DeliveryResult");

export const PayloadSchema = z
  .object({
    event_type: z.enum([
      "nodes_updated",
      "batch_test_complete",
      "nodes_snapshot",
      "measurements",
      "test_push",
    ]),
    mode: z.enum(["delta", "snapshot"]).optional(),
    timestamp: isoTime,
    source: z.string().optional().openapi({ example: "spiderflow" }),
    region: z.string().optional(),
    nodes: z.array(
      z
        .object({
          url: z.string().optional(),
          link: z.string().optional(),
          name: z.string().optional(),
          country: z.string().optional(),
          protocol: z.string().optional(),
          host: z.string().optional(),
          port: z.number().int().optional(),
          latency: z.number().nullable().optional(),
          speed: z.number().nullable().optional(),
          availability: z.number().nullable().optional(),
          legacy_score: z.number().nullable().optional(),
          tested_at: isoTime.optional(),
        })
        .passthrough(),
    ),
    total_count: z.number().int().optional(),
    verified_count: z.number().int().optional(),
  })
  .passthrough()
  .openapi("Payload", {
    description: "Protocol v1 payload (DESIGN 3.3); a bare legacy array is accepted too",
  });

export const ConnectionSchema = z
  .object({
    status: z.literal("connected"),
    receiver: z.literal("viper-store"),
    protocol_version: z.literal(1),
    server_time: isoTime,
    clock_skew_s: z.number(),
  })
  .openapi("Connection");

const mechanismTraffic = z.object({ bytes_in: z.number(), bytes_out: z.number(), count: z.number().int() });
export const TrafficSchema = z
  .object({
    month: z.string().openapi({ example: "2026-01" }),
    mechanisms: z.object({
      webhook: mechanismTraffic,
      poll: mechanismTraffic,
      probe: mechanismTraffic,
      precision: mechanismTraffic,
    }),
    total_bytes: z.number(),
    projected_month_bytes: z.number(),
    budget_bytes: z.number(),
  })
  .passthrough()
  .openapi("Traffic");

export const SyncStatusSchema = z
  .object({
    webhook: z
      .object({
        last_received_at: isoTime.nullable(),
        received_count: z.number().int(),
        rejected_count: z.number().int(),
        last_delivery_id: z.string().nullable(),
        last_error: z.string().nullable(),
      })
      .passthrough(),
    poll: z
      .object({
        enabled: z.boolean(),
        interval_s: z.number().optional(),
        last_poll_at: isoTime.nullable().optional(),
        last_result: z.enum(["changed", "not_modified", "error"]).nullable().optional(),
      })
      .passthrough(),
    recent_deliveries: z.array(z.object({}).passthrough()).optional(),
  })
  .passthrough()
  .openapi("SyncStatus");

export const PollOutcomeSchema = z
  .object({ result: z.enum(["changed", "not_modified", "error"]) })
  .passthrough()
  .openapi("PollOutcome");

export const CheckResultSchema = z
  .object({
    ok: z
      .boolean()
      .nullable()
      .openapi({ description: "null when the probe cannot test this node (unsupported)" }),
    latency_ms: z.number().nullable(),
    method: z.string(),
    error: z.string().nullable(),
  })
  .passthrough()
  .openapi("CheckResult");

export const PrecisionRequestSchema = z
  .object({
    node_id: z.string(),
    size_mb: z.number().int().min(1),
    confirm: z
      .boolean()
      .optional()
      .openapi({ description: "Without true → 428 with the traffic it will cost" }),
    via: z.enum(["node", "direct"]).optional(),
  })
  .openapi("PrecisionTestRequest");

export const PrecisionTestSchema = z
  .object({ id: z.string(), node_id: z.string(), via: z.string(), status: z.string() })
  .passthrough()
  .openapi("PrecisionTest");

/** The filters shared by GET /api/nodes and the export. */
export const nodeFilterParams = {
  country: z
    .string()
    .optional()
    .openapi({ description: "Comma list of country codes, case-insensitive", example: "SG,JP" }),
  protocol: z
    .string()
    .optional()
    .openapi({ description: `Comma list of ${PROTOCOLS.join(", ")}`, example: "trojan,vless" }),
  min_speed: z.string().optional().openapi({ description: "MB/s, number ≥ 0" }),
  max_latency: z.string().optional().openapi({ description: "ms, number ≥ 0" }),
  min_availability: z.string().optional().openapi({ description: "0..100" }),
  status: z.enum(["active", "stale", "all"]).optional().openapi({ description: "default active" }),
  q: z.string().optional().openapi({ description: "Name substring, literal, case-insensitive" }),
  region: z.string().optional().openapi({
    description: "Only nodes measured from this region; metrics, metric filters and sort from its values",
  }),
  sort: z.string().optional().openapi({
    description:
      "speed | latency | availability | last_seen_at, `-` prefix = descending; default -speed then latency",
  }),
};
