import { sql } from "drizzle-orm";
import {
  bigint,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * One row per node (identity = protocol `id`). Descriptive columns come from the newest owner
 * delivery that listed it; the `latency`/`speed`/`availability`/`observed_at`/`metrics_source`
 * columns are the node view, derived from `node_current` (newest non-null per metric over every
 * (source, region)) and kept here so that the list filters and sorts on indexed columns.
 */
export const nodes = pgTable(
  "nodes",
  {
    id: text("id").primaryKey(),
    nodeKey: text("node_key").notNull(),
    url: text("url").notNull(),
    name: text("name").notNull(),
    protocol: text("protocol").notNull(),
    host: text("host").notNull(),
    port: integer("port").notNull(),
    country: text("country"),
    legacyScore: doublePrecision("legacy_score"),
    /** active | stale */
    status: text("status").notNull().default("active"),
    staleSince: ts("stale_since"),
    firstSeenAt: ts("first_seen_at").notNull(),
    /** Newest payload timestamp of an owner delivery that listed the node. */
    lastSeenAt: ts("last_seen_at").notNull(),
    /** The owner source of the newest delivery that listed it; snapshots of this source can stale it. */
    ownerSource: text("owner_source").notNull(),
    latency: doublePrecision("latency"),
    speed: doublePrecision("speed"),
    availability: doublePrecision("availability"),
    observedAt: ts("observed_at"),
    metricsSource: text("metrics_source"),
    /** Last time anything in this row changed (drives `last_updated` of the list). */
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [
    index("nodes_status_speed_idx").on(t.status, sql`${t.speed} DESC NULLS LAST`, t.latency, t.id),
    index("nodes_status_latency_idx").on(t.status, t.latency, t.id),
    index("nodes_status_country_idx").on(t.status, t.country),
    index("nodes_status_protocol_idx").on(t.status, t.protocol),
    index("nodes_owner_status_seen_idx").on(t.ownerSource, t.status, t.lastSeenAt),
    // `last_updated` of the list is max(updated_at): an index turns that scan into one lookup.
    index("nodes_updated_at_idx").on(t.updatedAt),
  ],
);

/** Current values per (node, source, region); region is '' when the payload had none. */
export const nodeCurrent = pgTable(
  "node_current",
  {
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    source: text("source").notNull(),
    region: text("region").notNull().default(""),
    /** How it was measured (hunter, tcp, node, precision…); null when the payload does not say. */
    method: text("method"),
    latency: doublePrecision("latency"),
    speed: doublePrecision("speed"),
    availability: doublePrecision("availability"),
    observedAt: ts("observed_at").notNull(),
    deliveryId: text("delivery_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.nodeId, t.source, t.region] }),
    index("node_current_delivery_idx").on(t.deliveryId),
  ],
);

/** Measurement history: one row per node per applied delivery whose metrics changed. */
export const nodeMeasurements = pgTable(
  "node_measurements",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    source: text("source").notNull(),
    region: text("region").notNull().default(""),
    method: text("method"),
    latency: doublePrecision("latency"),
    speed: doublePrecision("speed"),
    availability: doublePrecision("availability"),
    observedAt: ts("observed_at").notNull(),
    deliveryId: text("delivery_id").notNull(),
  },
  (t) => [index("node_measurements_node_idx").on(t.nodeId, t.observedAt)],
);

/** Every applied delivery, by webhook or poll; `id` is unique (webhook-id or the poller's own id). */
export const deliveries = pgTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    /** webhook | poll */
    mechanism: text("mechanism").notNull(),
    source: text("source").notNull(),
    eventType: text("event_type").notNull(),
    mode: text("mode").notNull(),
    region: text("region"),
    payloadTimestamp: ts("payload_timestamp").notNull(),
    receivedAt: ts("received_at").notNull(),
    bytes: integer("bytes"),
    contentHash: text("content_hash"),
    received: integer("received").notNull().default(0),
    inserted: integer("inserted").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    unchanged: integer("unchanged").notNull().default(0),
    stale: integer("stale").notNull().default(0),
    revived: integer("revived").notNull().default(0),
    rejectedCount: integer("rejected_count").notNull().default(0),
    /** First rejections, for the sync status page (capped). */
    rejections: jsonb("rejections").notNull().default(sql`'[]'::jsonb`),
    /** applied | ignored (test_push) | empty_snapshot */
    result: text("result").notNull(),
    error: text("error"),
  },
  (t) => [index("deliveries_received_idx").on(t.receivedAt)],
);

/**
 * Small shared state by key: webhook counters now; the poller's schedule and claims later
 * (`next_run_at` is claimed with `UPDATE … WHERE next_run_at <= now() RETURNING`).
 */
export const syncState = pgTable("sync_state", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull().default(sql`'{}'::jsonb`),
  nextRunAt: ts("next_run_at"),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/**
 * Traffic ledger: bytes on the wire per UTC day and mechanism (webhook, poll, probe, precision).
 * Bumped with `INSERT … ON CONFLICT DO UPDATE SET bytes_in = bytes_in + excluded.bytes_in …`.
 */
export const trafficLedger = pgTable(
  "traffic_ledger",
  {
    day: date("day", { mode: "string" }).notNull(),
    mechanism: text("mechanism").notNull(),
    bytesIn: bigint("bytes_in", { mode: "number" }).notNull().default(sql`0`),
    bytesOut: bigint("bytes_out", { mode: "number" }).notNull().default(sql`0`),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.mechanism] })],
);

/**
 * Precision speed tests. A running test has `finished_at` null; the partial unique index keeps one
 * running test per node across replicas, and `reserved_bytes` of running tests count against the
 * month's traffic budget until they finish.
 */
export const precisionTests = pgTable(
  "precision_tests",
  {
    id: text("id").primaryKey(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    /** node | direct */
    via: text("via").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    reservedBytes: bigint("reserved_bytes", { mode: "number" }).notNull(),
    /** running | success | timeout | aborted | failed … */
    status: text("status").notNull(),
    url: text("url"),
    bytesDownloaded: bigint("bytes_downloaded", { mode: "number" }),
    trafficConsumedBytes: bigint("traffic_consumed_bytes", { mode: "number" }),
    ttfbMs: doublePrecision("ttfb_ms"),
    durationMs: doublePrecision("duration_ms"),
    mbPerS: doublePrecision("mb_per_s"),
    mbitPerS: doublePrecision("mbit_per_s"),
    p90MbPerS: doublePrecision("p90_mb_per_s"),
    error: text("error"),
    clientIp: text("client_ip"),
    startedAt: ts("started_at").notNull(),
    finishedAt: ts("finished_at"),
  },
  (t) => [
    index("precision_tests_node_idx").on(t.nodeId, t.startedAt),
    uniqueIndex("precision_tests_one_running_per_node").on(t.nodeId).where(sql`${t.finishedAt} IS NULL`),
  ],
);
