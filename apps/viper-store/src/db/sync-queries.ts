import { sql } from "drizzle-orm";
import { type Db, queryRows, toIso, toNumber } from "./client.js";
import type { DeliveryCounts } from "./merge-queries.js";

type Executor = Pick<Db, "execute">;

export interface SyncStateRow {
  value: Record<string, unknown>;
  nextRunAt: string | null;
}

/** The sync_state rows of `keys` (missing keys are absent from the map). */
export async function readSyncStates(db: Executor, keys: string[]): Promise<Map<string, SyncStateRow>> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select key, value, next_run_at from sync_state
        where key in (select jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb))`,
  );
  const out = new Map<string, SyncStateRow>();
  for (const r of rows) {
    const value = typeof r.value === "string" ? (JSON.parse(r.value) as Record<string, unknown>) : r.value;
    out.set(String(r.key), {
      value: (value ?? {}) as Record<string, unknown>,
      nextRunAt: toIso(r.next_run_at),
    });
  }
  return out;
}

export interface DeliverySummary extends DeliveryCounts {
  id: string;
  mechanism: string;
  source: string;
  event_type: string;
  result: string;
  received_at: string | null;
  payload_timestamp: string | null;
  bytes: number | null;
  content_hash: string | null;
  rejected: number;
}

/** The newest deliveries of every mechanism, newest first. */
export async function recentDeliveries(db: Executor, limit: number): Promise<DeliverySummary[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select id, mechanism, source, event_type, result, received_at, payload_timestamp, bytes, content_hash,
          received, inserted, updated, unchanged, stale, revived, rejected_count
        from deliveries order by received_at desc, id desc limit ${limit}`,
  );
  return rows.map((r) => ({
    id: String(r.id),
    mechanism: String(r.mechanism),
    source: String(r.source),
    event_type: String(r.event_type),
    result: String(r.result),
    received_at: toIso(r.received_at),
    payload_timestamp: toIso(r.payload_timestamp),
    bytes: toNumber(r.bytes),
    content_hash: r.content_hash == null ? null : String(r.content_hash),
    received: toNumber(r.received) ?? 0,
    inserted: toNumber(r.inserted) ?? 0,
    updated: toNumber(r.updated) ?? 0,
    unchanged: toNumber(r.unchanged) ?? 0,
    stale: toNumber(r.stale) ?? 0,
    revived: toNumber(r.revived) ?? 0,
    rejected: toNumber(r.rejected_count) ?? 0,
  }));
}

export interface LastChange {
  at: string | null;
  source: string;
  mechanism: string;
  content_hash: string | null;
}

/** The newest delivery that changed nodes (inserted, updated or staled any). */
export async function lastChange(db: Executor): Promise<LastChange | null> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select received_at, source, mechanism, content_hash from deliveries
        where inserted + updated + stale > 0 order by received_at desc, id desc limit 1`,
  );
  const r = rows[0];
  if (!r) return null;
  return {
    at: toIso(r.received_at),
    source: String(r.source),
    mechanism: String(r.mechanism),
    content_hash: r.content_hash == null ? null : String(r.content_hash),
  };
}

/**
 * Whether a delivery other than a poll changed `source`'s nodes after `since` (a webhook did):
 * the poller's memory of "what is applied" is then out of date and must not make it skip.
 */
export async function changedByOthersSince(db: Executor, source: string, since: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`select 1 as x from deliveries
        where received_at > ${since}::timestamptz and mechanism <> 'poll' and source = ${source}
          and event_type <> 'measurements' and inserted + updated + stale > 0
        limit 1`,
  );
  return rows.length > 0;
}
