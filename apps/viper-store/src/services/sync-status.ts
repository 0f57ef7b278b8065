import type { Db } from "../db/client.js";
import { lastChange, readSyncStates, recentDeliveries } from "../db/sync-queries.js";
import { POLL_STATE_KEY } from "./data-sync-scheduler.js";

const RECENT_DELIVERIES = 20;

export interface PollSettings {
  enabled: boolean;
  intervalS: number;
}

/** `GET /api/sync/status` (DESIGN 5): the webhook counters, the poller's state, recent deliveries. */
export async function syncStatus(db: Db, poll: PollSettings) {
  const states = await readSyncStates(db, ["webhook", POLL_STATE_KEY]);
  const webhook = states.get("webhook")?.value ?? {};
  const polled = states.get(POLL_STATE_KEY);
  const p = polled?.value ?? {};
  const change = await lastChange(db);
  const num = (v: unknown) => (v === undefined || v === null ? 0 : Number(v));
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    webhook: {
      last_received_at: str(webhook.last_received_at),
      received_count: num(webhook.received_count),
      rejected_count: num(webhook.rejected_count),
      last_delivery_id: str(webhook.last_delivery_id),
      last_error: str(webhook.last_error),
    },
    poll: {
      enabled: poll.enabled,
      interval_s: poll.intervalS,
      last_poll_at: str(p.last_poll_at),
      last_result: str(p.last_result),
      poll_count: num(p.poll_count),
      changed_count: num(p.changed_count),
      next_poll_at: poll.enabled ? (polled?.nextRunAt ?? null) : null,
      leader: str(p.leader),
      last_error: str(p.last_error),
      consecutive_errors: num(p.consecutive_errors),
      last_etag: str(p.last_etag),
    },
    // What the poller last applied or confirmed: webhook deliveries carry no content hash.
    last_sync_hash: str(p.last_applied_hash),
    last_change_at: change?.at ?? null,
    last_change_source: change?.source ?? null,
    last_change_mechanism: change?.mechanism ?? null,
    recent_deliveries: await recentDeliveries(db, RECENT_DELIVERIES),
  };
}
