import { collapseNodes, type NodeRejection, type NormalizedNode, type Payload } from "@viper/protocol";
import type { Db } from "../db/client.js";
import {
  type BatchContext,
  countDelivery,
  type DeliveryCounts,
  deliveryExists,
  insertDelivery,
  knownNodeIds,
  lockMerges,
  type MergeRow,
  refreshNodeView,
  staleUnlisted,
  unstorableField,
  upsertMeasurementBatch,
  upsertOwnedBatch,
} from "../db/merge-queries.js";

/** Event types whose source owns the nodes it lists (DESIGN 4). */
const OWNER_EVENTS = new Set(["nodes_updated", "batch_test_complete", "nodes_snapshot"]);

/** How a delivery reached the store: pushed, polled, or produced by the store's own checks. */
export type DeliveryMechanism = "webhook" | "poll" | "probe" | "precision";

export interface MergeInput {
  /** webhook-id, or the poller's own id; unique across deliveries. */
  deliveryId: string;
  mechanism: DeliveryMechanism;
  /** How the metrics were measured (e.g. "through-node", "tcp", "precision"); null when the payload does not say. */
  method?: string | null;
  payload: Payload;
  /** Nodes normalisation already rejected (index into the payload's original node list). */
  rejected?: NodeRejection[];
  /** Original index of each `payload.nodes[i]`; default: the gaps left by `rejected`, in order. */
  sourceIndexes?: number[];
  receivedAt: Date;
  /** Wire size of the body, for the records. */
  bytes?: number;
  contentHash?: string;
}

export interface MergeSuccess extends DeliveryCounts {
  status: "success";
  delivery_id: string;
  rejected: NodeRejection[];
  /** Things the sender should know that are not errors (empty snapshot, test_push). */
  warnings: string[];
  /** Server-side time spent in the transaction, ms. */
  duration_ms: number;
}

export interface MergeDuplicate {
  status: "duplicate";
  delivery_id: string;
}

export type MergeOutcome = MergeSuccess | MergeDuplicate;

/**
 * The one merge used by every mechanism (webhook now, poll later). One transaction: the
 * delivery row and every effect commit together; a delivery id already applied changes
 * nothing. Merges are serialised by an advisory lock, so a concurrent copy of a delivery
 * waits for the first and then sees it as a duplicate.
 */
export async function mergeDelivery(db: Db, input: MergeInput): Promise<MergeOutcome> {
  const started = performance.now();
  const { payload } = input;
  const rejected = [...(input.rejected ?? [])];
  const indexes = input.sourceIndexes ?? originalIndexes(payload.nodes.length, rejected);
  const listed = storableNodes(payload.nodes, indexes, rejected);
  const received = payload.nodes.length + (input.rejected?.length ?? 0);
  const ctx: BatchContext = {
    deliveryId: input.deliveryId,
    source: payload.source,
    region: payload.region ?? "",
    method: input.method ?? null,
    timestamp: payload.timestamp,
    now: input.receivedAt.toISOString(),
  };
  const warnings: string[] = [];
  const outcome = await db
    .transaction(async (tx) => {
      await lockMerges(tx);
      if (await deliveryExists(tx, input.deliveryId)) return null;

      const isOwner = OWNER_EVENTS.has(payload.event_type);
      let rows = toRows(collapseNodes(listed.map((l) => l.node)));
      let inserted = 0;
      let updated = 0;
      let revived = 0;
      let stale = 0;
      let currentChanged = 0;
      let result = "applied";

      if (payload.event_type === "test_push") {
        warnings.push("test_push: verified and recorded, nothing applied");
        result = "ignored";
        rows = [];
      } else if (isOwner) {
        for (const chunk of chunks(rows)) {
          const counts = await upsertOwnedBatch(tx, chunk, ctx);
          inserted += counts.inserted;
          updated += counts.updated;
          revived += counts.revived;
          currentChanged += counts.currentChanged;
        }
      } else {
        const known = await knownNodeIds(
          tx,
          rows.map((r) => r.id),
        );
        for (const { node, index } of listed) {
          if (!known.has(node.id)) {
            rejected.push({ index, reason: `unknown node ${node.id}: measurements never create nodes` });
          }
        }
        rows = rows.filter((r) => known.has(r.id));
        for (const chunk of chunks(rows)) updated += await upsertMeasurementBatch(tx, chunk, ctx);
        currentChanged = updated;
      }
      if (currentChanged > 0) await refreshNodeView(tx, ctx);

      if (isOwner && payload.mode === "snapshot") {
        if (rows.length === 0) {
          warnings.push("snapshot had no valid node: nothing was marked stale");
          result = "empty_snapshot";
        } else {
          stale = await staleUnlisted(tx, ctx);
        }
      }
      const unchanged = Math.max(0, rows.length - inserted - updated);
      rejected.sort((a, b) => a.index - b.index);
      await insertDelivery(tx, {
        id: input.deliveryId,
        mechanism: input.mechanism,
        source: payload.source,
        eventType: payload.event_type,
        mode: payload.mode,
        region: payload.region,
        payloadTimestamp: payload.timestamp,
        receivedAt: ctx.now,
        bytes: input.bytes ?? null,
        contentHash: input.contentHash ?? null,
        received,
        inserted,
        updated,
        unchanged,
        stale,
        revived,
        rejections: rejected,
        result,
        error: null,
      });
      await countDelivery(tx, input.mechanism, "received_count", ctx.now, {
        last_received_at: ctx.now,
        last_delivery_id: input.deliveryId,
      });
      return { inserted, updated, unchanged, stale, revived };
    })
    .catch((err: unknown) => {
      // Belt and braces: the lock makes this unreachable, but a racing insert of the same
      // delivery id must still read as a duplicate, never as an error.
      if (isUniqueViolation(err, "deliveries_pkey")) return null;
      throw err;
    });
  if (!outcome) return { status: "duplicate", delivery_id: input.deliveryId };
  return {
    status: "success",
    delivery_id: input.deliveryId,
    received,
    ...outcome,
    rejected,
    warnings,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
  };
}

/**
 * Statements take a bounded slice of the batch: one jsonb parameter per statement means no
 * bind-parameter limit, and the bound keeps the database's working memory (PGlite's wasm heap
 * never shrinks) flat for 50,000-node snapshots. Slices stay in id order.
 */
const CHUNK_ROWS = 5000;
function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) yield rows.slice(i, i + CHUNK_ROWS);
}

/** Rows in id order: concurrent upserts then lock rows in the same order. */
function toRows(nodes: NormalizedNode[]): MergeRow[] {
  return nodes
    .map((n) => ({
      id: n.id,
      node_key: n.node_key,
      url: n.url,
      name: n.name,
      protocol: n.protocol,
      host: n.host,
      port: n.port,
      country: n.country,
      legacy_score: n.legacy_score,
      latency: n.latency,
      speed: n.speed,
      availability: n.availability,
      observed_at: n.tested_at,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The nodes the database can hold, with their original index; the others go to `rejected`.
 * PostgreSQL text cannot contain NUL, and a decoded link (a `%00` in a path or password) can:
 * one such node must be rejected alone, not fail the whole delivery with a 500.
 */
function storableNodes(
  nodes: NormalizedNode[],
  indexes: number[],
  rejected: NodeRejection[],
): { node: NormalizedNode; index: number }[] {
  const out: { node: NormalizedNode; index: number }[] = [];
  nodes.forEach((node, i) => {
    const index = indexes[i] ?? i;
    const field = unstorableField(node);
    if (field)
      rejected.push({ index, reason: `${field} contains a NUL character (\\u0000), which cannot be stored` });
    else out.push({ node, index });
  });
  return out;
}

function originalIndexes(count: number, rejected: NodeRejection[]): number[] {
  const skip = new Set(rejected.map((r) => r.index));
  const out: number[] = [];
  for (let i = 0; out.length < count; i++) if (!skip.has(i)) out.push(i);
  return out;
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint: c, constraint_name: cn } = e as Record<string, unknown>;
    if (code === "23505" && (c === constraint || cn === constraint)) return true;
  }
  return false;
}
