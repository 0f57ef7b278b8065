import { sql } from "drizzle-orm";
import { type Db, queryRows, toIso, toNumber } from "./client.js";

/**
 * Scheduled jobs shared by replicas on one Postgres (DESIGN 6): a job's schedule is the
 * `sync_state` row of its key. A replica runs a tick only after winning it with one atomic
 * UPDATE (`… WHERE next_run_at <= now() RETURNING`), so two replicas never take the same tick,
 * whatever their timers say. A claim also takes a lease (`lease_until` in the row's value) that
 * the winner gives back with {@link finishTick}; while it is held nobody else runs the job, not
 * even a forced run, so a slow tick cannot overlap the next one. A replica that dies mid-tick
 * blocks the job until its lease expires.
 *
 * The poller (key `poll`), the janitor (`janitor`) and the probe scheduler use this.
 */

type Executor = Pick<Db, "execute">;

export type StateValue = Record<string, unknown>;

export interface TickClaim {
  /** True when this replica won the tick and must run it, then call finishTick. */
  claimed: boolean;
  /** When the job is next due (database clock). */
  nextRunAt: Date | null;
  /** The database's clock when the claim was tried: sleep `nextRunAt - dbNow`. */
  dbNow: Date;
  /** The row's value after the claim (counters and results of earlier ticks). */
  value: StateValue;
}

export interface ClaimOptions {
  /** Run now even if the tick is not due (poll-now). The lease is still respected. */
  force?: boolean;
  /** How long the tick may take before another replica may assume it died. Default 2 minutes. */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 120_000;

/**
 * Tries to claim the due tick of `key`: on success the next run moves `intervalMs` ahead and
 * `leader` becomes `instanceId`. Creates the schedule row (due now) when it is missing.
 */
export async function claimTick(
  db: Executor,
  key: string,
  intervalMs: number,
  instanceId: string,
  options: ClaimOptions = {},
): Promise<TickClaim> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  await db.execute(sql`
    insert into sync_state (key, value, next_run_at, updated_at)
    values (${key}, '{}'::jsonb, now(), now())
    on conflict (key) do nothing`);
  const claimed = await queryRows<Record<string, unknown>>(
    db,
    sql`
    update sync_state set
      next_run_at = now() + ${Math.max(0, Math.round(intervalMs))}::double precision * interval '1 millisecond',
      value = value || jsonb_build_object(
        'leader', ${instanceId}::text,
        'lease_until', now() + ${leaseMs}::double precision * interval '1 millisecond'),
      updated_at = now()
    where key = ${key}
      and (${options.force === true}::boolean or next_run_at is null or next_run_at <= now())
      and (value ->> 'lease_until' is null or (value ->> 'lease_until')::timestamptz <= now())
    returning next_run_at, now() as db_now, value`,
  );
  if (claimed[0]) return toClaim(claimed[0], true);
  return toClaim((await readRow(db, key)) ?? {}, false);
}

export interface TickFinish {
  /** Merged into the row's value. */
  patch?: StateValue;
  /** Numeric fields of the value to add 1 to (e.g. poll_count). */
  increment?: string[];
  /** Numeric fields to set to 0. */
  reset?: string[];
  /** Moves the next run to now + this (e.g. a backoff shorter than the interval). */
  nextRunInMs?: number;
}

/** Records a tick's outcome and gives the lease back (only if this replica still holds it). */
export async function finishTick(
  db: Executor,
  key: string,
  instanceId: string,
  finish: TickFinish = {},
): Promise<void> {
  let value = sql`(value - 'lease_until') || ${JSON.stringify(finish.patch ?? {})}::jsonb`;
  for (const field of finish.increment ?? []) {
    value = sql`${value} || jsonb_build_object(${field}::text, coalesce((value ->> ${field})::bigint, 0) + 1)`;
  }
  for (const field of finish.reset ?? []) value = sql`${value} || jsonb_build_object(${field}::text, 0)`;
  const next =
    finish.nextRunInMs === undefined
      ? sql`next_run_at`
      : sql`now() + ${Math.max(0, Math.round(finish.nextRunInMs))}::double precision * interval '1 millisecond'`;
  await db.execute(sql`
    update sync_state set value = ${value}, next_run_at = ${next}, updated_at = now()
    where key = ${key} and value ->> 'leader' = ${instanceId}`);
}

/** The schedule of `key` as it is now (no claim). */
export async function readTick(db: Executor, key: string): Promise<Omit<TickClaim, "claimed">> {
  const { claimed: _, ...rest } = toClaim((await readRow(db, key)) ?? {}, false);
  return rest;
}

async function readRow(db: Executor, key: string) {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select next_run_at, now() as db_now, value from sync_state where key = ${key}`,
  );
  return rows[0] ?? (await queryRows<Record<string, unknown>>(db, sql`select now() as db_now`))[0];
}

function toClaim(row: Record<string, unknown>, claimed: boolean): TickClaim {
  const next = toIso(row.next_run_at);
  const now = toIso(row.db_now);
  return {
    claimed,
    nextRunAt: next ? new Date(next) : null,
    dbNow: now ? new Date(now) : new Date(),
    value: parseValue(row.value),
  };
}

/** jsonb comes back parsed from both drivers, but stay safe against a string. */
function parseValue(raw: unknown): StateValue {
  if (raw && typeof raw === "object") return raw as StateValue;
  if (typeof raw === "string") {
    try {
      return JSON.parse(raw) as StateValue;
    } catch {
      return {};
    }
  }
  return {};
}

/** Reads a numeric counter of a state value (bigints arrive as numbers or strings). */
export function counter(value: StateValue, field: string): number {
  return toNumber(value[field]) ?? 0;
}
